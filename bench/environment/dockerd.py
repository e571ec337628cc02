"""The engine's dockerd as this host sees it, and the userland-proxy setting it runs with.

Where the engine is local and its dockerd visible in /proc (:func:`engine_dockerd`), the
process is read as dockerd itself reads its setup: its flags, its daemon.json (through
its own working directory and root), its environment for rootless mode. The engine API
does not expose the userland proxy; :func:`userland_proxy` observes it (a ``docker-proxy``
process serving a published port) or reads what dockerd was started with.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.environment.engine import Engine, engine_is_local

#: dockerd's socket when neither ``-H`` nor daemon.json's ``hosts`` names one (root mode);
#: ``fd://`` (systemd's docker.socket) is this socket too
DEFAULT_SOCKET = "/var/run/docker.sock"
DEFAULT_CONFIG = "/etc/docker/daemon.json"
#: what Go's strconv.ParseBool accepts, as dockerd's boolean flags read it
_GO_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


@dataclass(frozen=True)
class Dockerd:
    """A dockerd process seen in /proc, read as dockerd itself would: relative paths from
    its working directory, files through its own root (another mount namespace), its
    environment for rootless mode. Where this user may not read those (another user's
    process), its paths are taken as this host's, and its environment as empty."""

    pid: int
    argv: tuple[str, ...]

    @property
    def _proc(self) -> Path:
        return Path("/proc", str(self.pid))

    def environ(self) -> dict[str, str]:
        with contextlib.suppress(OSError):
            raw = (self._proc / "environ").read_bytes().split(b"\0")
            return dict(e.decode("utf-8", "replace").split("=", 1) for e in raw if b"=" in e)
        return {}

    @property
    def rootless(self) -> bool:
        """Run by rootlesskit (``dockerd-rootless.sh``), as dockerd itself tells."""
        return "ROOTLESSKIT_STATE_DIR" in self.environ()

    def resolve(self, path: str) -> Path:
        """*path* as dockerd means it: absolute in its own filesystem."""
        with contextlib.suppress(OSError):
            return Path((self._proc / "cwd").readlink(), path)
        return Path(path)

    def read_text(self, path: Path) -> str:
        """The file dockerd sees at *path* (raises :class:`OSError`, :class:`ValueError`)."""
        root = self._proc / "root"
        try:
            root.readlink()
        except OSError:
            return path.read_text(encoding="utf-8")
        return (root / path.relative_to(path.anchor)).read_text(encoding="utf-8")

    def config_file(self) -> Path:
        """dockerd's daemon.json: ``--config-file``, else the rootless or root default."""
        flag = _flag(self.argv, "--config-file")
        if flag is not None:
            return self.resolve(flag)
        if not self.rootless:
            return Path(DEFAULT_CONFIG)
        env = self.environ()
        config_home = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "/"), ".config"))
        return Path(config_home, "docker", "daemon.json")

    def config(self) -> dict[str, Any] | str | None:
        """The daemon.json document, None when there is none, or why it is unreadable."""
        path = self.config_file()
        try:
            document = json.loads(self.read_text(path))
        except FileNotFoundError:
            return None
        except OSError as e:
            return f"{path} is unreadable here ({e.strerror or type(e).__name__})"
        except ValueError as e:
            return f"{path} is not UTF-8 JSON ({e})"
        if not isinstance(document, dict):
            return f"{path} is not a JSON object"
        return document

    def hosts(self) -> list[str]:
        """Where dockerd listens: ``-H``/``--host``, else daemon.json ``hosts``, else the
        default socket (rootless: ``$XDG_RUNTIME_DIR/docker.sock``)."""
        flags = _flags(self.argv, ("-H", "--host"))
        if flags:
            return flags
        config = self.config()
        if isinstance(config, dict) and isinstance(config.get("hosts"), list):
            return [str(h) for h in config["hosts"]]
        if self.rootless:
            return [f"unix://{self.environ().get('XDG_RUNTIME_DIR', '')}/docker.sock"]
        return [f"unix://{DEFAULT_SOCKET}"]

    def serves(self, endpoint: str) -> bool:
        """Whether *endpoint* is one of the addresses dockerd listens on."""
        return _socket_key(endpoint) in {_socket_key(h) for h in self.hosts()}


def _socket_key(address: str) -> str:
    """*address* comparable with another: a unix socket by its real path, ``fd://`` as the
    default socket; other schemes as written."""
    if address.startswith("fd://"):
        address = f"unix://{DEFAULT_SOCKET}"
    if address.startswith("unix://"):
        return f"unix://{os.path.realpath(address.removeprefix('unix://'))}"
    return address


def engine_dockerd(engine: Engine) -> Dockerd | str:
    """The dockerd process serving *engine*, or why none is known: not visible here, or
    none of those visible listens on the engine's endpoint (a rootless and a root engine
    side by side, a stand-in, ...)."""
    processes = _processes() if engine_is_local(engine) else []
    found = [
        Dockerd(pid, tuple(argv)) for pid, argv in processes if Path(argv[0]).name == "dockerd"
    ]
    if not found:
        return (
            "no dockerd process is visible on this host (the engine runs in a VM, on "
            "another machine or in another PID namespace): docker-proxy cannot be looked for"
        )
    endpoint = engine.target.endpoint
    serving = next((d for d in found if d.serves(endpoint)), None)
    if serving is None:
        seen = "; ".join(f"pid {d.pid} on {', '.join(d.hosts())}" for d in found)
        return f"no visible dockerd listens on {endpoint} ({seen})"
    return serving


def userland_proxy(engine: Engine, published_port: int | None) -> dict[str, str]:
    """The engine's userland-proxy setting as this host can see it, and how it is known:
    ``{"setting": "enabled" | "disabled" | "unknown", "how": ...}``.

    With *published_port* (a port published on 127.0.0.1 and in use now) it is observed:
    is a ``docker-proxy`` process serving that port? Else it is what the engine's dockerd
    was started with (:func:`configured_userland_proxy`). ``unknown`` with the reason
    where the engine's dockerd is not visible here (:func:`engine_dockerd`).
    """
    dockerd = engine_dockerd(engine)
    if isinstance(dockerd, str):
        return {"setting": "unknown", "how": dockerd}
    if published_port is None:
        return configured_userland_proxy(dockerd)
    proxies = [
        pid
        for pid, argv in _processes()
        if Path(argv[0]).name == "docker-proxy" and _flag(argv, "-host-port") == str(published_port)
    ]
    if proxies:
        return {
            "setting": "enabled",
            "how": f"docker-proxy pid {proxies[0]} serves port {published_port}",
        }
    return {
        "setting": "disabled",
        "how": f"no docker-proxy process serves the published port {published_port}",
    }


def configured_userland_proxy(dockerd: Dockerd) -> dict[str, str]:
    """The userland-proxy setting *dockerd* was started with: its ``--userland-proxy``
    flag, else the ``userland-proxy`` key of its daemon.json, else the engine default
    (enabled); ``unknown`` when its daemon.json cannot be read. (dockerd refuses
    to start with the setting in both places, so their order does not matter.)"""
    flag = _bool_flag(dockerd.argv, "--userland-proxy")
    if flag is not None:
        return {"setting": _enabled(flag), "how": f"dockerd --userland-proxy={str(flag).lower()}"}
    path = dockerd.config_file()
    config = dockerd.config()
    if isinstance(config, str):
        return {"setting": "unknown", "how": f"no --userland-proxy flag, and {config}"}
    value = None if config is None else config.get("userland-proxy")
    if isinstance(value, bool):
        return {"setting": _enabled(value), "how": f"{path}: userland-proxy={json.dumps(value)}"}
    if value is not None:
        return {"setting": "unknown", "how": f"{path}: userland-proxy={value!r} is not a boolean"}
    return {
        "setting": "enabled",
        "how": "engine default: no --userland-proxy flag, "
        + (f"no {path}" if config is None else f"no userland-proxy key in {path}"),
    }


def _enabled(on: bool) -> str:
    return "enabled" if on else "disabled"


def _flags(argv: Sequence[str], names: Sequence[str]) -> list[str]:
    """Every value of the options *names* in *argv* (``name=value`` or ``name value``)."""
    values = []
    for i, arg in enumerate(argv):
        for name in names:
            if arg.startswith(f"{name}="):
                values.append(arg.split("=", 1)[1])
            elif arg == name and i + 1 < len(argv):
                values.append(argv[i + 1])
    return values


def _flag(argv: Sequence[str], name: str) -> str | None:
    """The value of option *name* in *argv* (the last one given), or None."""
    values = _flags(argv, (name,))
    return values[-1] if values else None


def _bool_flag(argv: Sequence[str], name: str) -> bool | None:
    """A Go boolean flag: ``name`` alone is true, ``name=value`` is the value (a separate
    word after it is not its value); the last one given counts; None when absent."""
    value = None
    for arg in argv:
        if arg == name:
            value = True
        elif arg.startswith(f"{name}="):
            value = _GO_BOOLS.get(arg.split("=", 1)[1])
    return value


def _processes() -> list[tuple[int, list[str]]]:
    """Every process visible in /proc with its argv (empty where /proc is absent)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            argv = [
                a.decode("utf-8", "replace")
                for a in (entry / "cmdline").read_bytes().split(b"\0")
                if a
            ]
            if argv:
                found.append((int(entry.name), argv))
    return found
