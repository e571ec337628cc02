"""Engine access: which engine to talk to, a short probe, labels, and label-based cleanup.

Target resolution follows the docker CLI: ``--context NAME``, else ``DOCKER_HOST``, else
``DOCKER_CONTEXT``, else the current context of ``~/.docker/config.json``, else the
platform default socket. Everything crossdock creates carries :data:`LABEL_MANAGED` and
:data:`LABEL_RUN` so that :func:`Engine.cleanup` can find and remove it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
import docker.utils
from docker.context import ContextAPI

from bench.environment.host import alive, host_id
from bench.errors import BadInputError, NoEngineError, first_line

LABEL_MANAGED = "io.crossdock.managed"
LABEL_RUN = "io.crossdock.run"
#: the context of crossdock's reference VM (``crossdock vm up`` creates it)
VM_CONTEXT = "crossdock-vm"
LABEL_PID = "io.crossdock.pid"
LABEL_HOST = "io.crossdock.host"
_KIND_ORDER = ("containers", "networks", "volumes", "images")

PROBE_TIMEOUT_S = 5.0
API_TIMEOUT_S = 300.0

_WHAT_TO_DO = (
    "Start an engine (Linux: `sudo systemctl start docker` or `sudo dockerd &`; macOS/Windows: "
    "start Docker Desktop, or `colima start`, OrbStack, Rancher Desktop), or point crossdock "
    "at one with --context NAME or DOCKER_HOST. To run only the native baselines and record "
    "the skip, add --allow-no-engine."
)


@dataclass(frozen=True)
class Target:
    """Where an engine is reached: a context name (or ``None``), its endpoint and TLS."""

    context: str | None
    endpoint: str
    tls: Any = False
    source: str = "default"

    @property
    def cli_args(self) -> list[str]:
        """Arguments that make the docker CLI talk to this same engine: the endpoint itself
        (the CLI and the SDK then cannot disagree about a context), or the context's name
        where TLS settings come with it."""
        if self.tls and self.context:
            return ["--context", self.context]
        return ["--host", self.endpoint]


def resolve_target(context: str | None = None) -> Target:
    """The engine the user means (see module docstring). Unknown contexts are bad input."""
    if context is None and os.environ.get("DOCKER_HOST"):
        kwargs = docker.utils.kwargs_from_env()
        return Target(None, os.environ["DOCKER_HOST"], kwargs.get("tls", False), "DOCKER_HOST")
    name = context or os.environ.get("DOCKER_CONTEXT") or _current_context_name()
    source = "--context" if context else "context"
    if name in (None, "default"):
        return Target("default", _default_endpoint(), False, source)
    ctx = ContextAPI.get_context(name)
    if ctx is None:
        names = ", ".join(c.Name for c in ContextAPI.contexts())
        hint = "; `crossdock vm up` creates it" if name == VM_CONTEXT else ""
        raise BadInputError(f"unknown docker context {name!r} (valid: {names}){hint}")
    return Target(name, str(ctx.Host), ctx.TLSConfig or False, source)


def _current_context_name() -> str | None:
    try:
        return str(ContextAPI.get_current_context().Name)
    except Exception:  # noqa: BLE001 - an unreadable CLI config means "no context set"
        return None


def _default_endpoint() -> str:
    return "npipe:////./pipe/docker_engine" if os.name == "nt" else "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class Labelled:
    """A crossdock object in the engine: its kind, name and labels."""

    kind: str
    name: str
    labels: Mapping[str, str]
    ident: str = ""  # what the API removes it by (id for containers and images)

    @property
    def run(self) -> str | None:
        return self.labels.get(LABEL_RUN)

    @property
    def pid(self) -> int | None:
        pid = self.labels.get(LABEL_PID, "")
        return int(pid) if pid.isdigit() else None

    @property
    def orphaned(self) -> bool:
        """Made by a process of this machine that no longer exists."""
        mine = self.labels.get(LABEL_HOST) == host_id()
        return mine and self.pid is not None and not alive(self.pid)


@dataclass
class Engine:
    """A connected engine: the SDK client, where it is, and its info/version documents."""

    client: docker.DockerClient
    target: Target
    info: dict[str, Any] = field(default_factory=dict)
    version: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> Any:
        """The low-level API client (``docker.APIClient``)."""
        return self.client.api

    def cli(self) -> list[str] | None:
        """The docker CLI argv prefix for this engine, or ``None`` when no CLI is installed."""
        exe = shutil.which("docker")
        return [exe, *self.target.cli_args] if exe else None

    def ping(self) -> bool:
        """Whether the engine still answers (short timeout)."""
        try:
            return bool(self.api.ping())
        except Exception:  # noqa: BLE001 - any failure means "not answering"
            return False

    def cleanup(self, run_id: str | None = None) -> dict[str, int]:
        """Remove every crossdock container, network, volume and image (of *run_id* only,
        when given). Returns how many of each were removed; errors on single objects are
        tolerated so that one stuck object does not keep the rest."""
        return self._remove(self.objects(run_id))

    def remove_orphans(self) -> dict[str, int]:
        """Remove the objects of crossdock processes of this machine that no longer exist
        (a SIGKILL, a crash, an interrupted build), whatever run they belonged to."""
        return self._remove([o for o in self.objects() if o.orphaned])

    def _remove(self, objects: list[Labelled]) -> dict[str, int]:
        removed = dict.fromkeys(_KIND_ORDER, 0)
        removers: dict[str, Any] = {
            "containers": lambda n: self.api.remove_container(n, force=True, v=True),
            "networks": self.api.remove_network,
            "volumes": lambda n: self.api.remove_volume(n, force=True),
            "images": lambda n: self.api.remove_image(n, force=True),
        }
        # containers before the networks, volumes and images they use
        for obj in sorted(objects, key=lambda o: _KIND_ORDER.index(o.kind)):
            removed[obj.kind] += _quietly(lambda o=obj: removers[o.kind](o.ident))
        return removed

    def objects(self, run_id: str | None = None) -> list[Labelled]:
        """Every crossdock object in the engine (of *run_id* only, when given)."""
        selector = f"{LABEL_RUN}={run_id}" if run_id else f"{LABEL_MANAGED}=true"
        filters: dict[str, str | list[str] | bool] = {"label": selector}
        listings: dict[str, list[Any]] = {
            "containers": self.client.containers.list(all=True, filters=filters, sparse=True),
            "networks": self.client.networks.list(filters=filters),
            "volumes": self.client.volumes.list(filters=filters),
            # the image listing as the engine gives it: docker-py's images.list inspects
            # each image, and one removed meanwhile (by another run) raised ImageNotFound
            "images": [
                self.client.images.prepare_model(attrs)
                for attrs in self.client.api.images(filters=filters)
            ],
        }
        found = []
        for kind, listing in listings.items():
            for obj in listing:
                attrs = obj.attrs
                tags = attrs.get("Labels") or attrs.get("Config", {}).get("Labels") or {}
                ident = obj.id if kind in ("containers", "images") else _object_name(kind, obj)
                found.append(Labelled(kind, _object_name(kind, obj), tags, str(ident)))
        return found

    def leftovers(self, run_id: str | None = None) -> dict[str, list[str]]:
        """Names/ids of the labelled objects still present (what :meth:`cleanup` would remove)."""
        grouped: dict[str, list[str]] = {
            k: [] for k in ("containers", "networks", "volumes", "images")
        }
        for obj in self.objects(run_id):
            grouped[obj.kind].append(obj.name)
        return grouped

    def close(self) -> None:
        self.client.close()


def engine_is_local(engine: Engine) -> bool:
    """Whether the engine runs on this machine (a local socket or pipe, or TCP to loopback)."""
    endpoint = engine.target.endpoint
    if endpoint.startswith(("unix://", "npipe://")):
        return True
    host = re.sub(r"^tcp://", "", endpoint).rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "127.0.0.1", "::1")


def labels(run_id: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The labels every object of run *run_id* carries."""
    return {
        LABEL_MANAGED: "true",
        LABEL_RUN: run_id,
        LABEL_PID: str(os.getpid()),
        LABEL_HOST: host_id(),
        **(extra or {}),
    }


def connect(context: str | None = None) -> Engine:
    """Connect to the engine the user means, probing it with a short timeout first.

    Raises :class:`NoEngineError` saying where nothing answered and what to do.
    """
    target = resolve_target(context)
    use_ssh = target.endpoint.startswith("ssh://")
    try:
        probe = docker.DockerClient(
            base_url=target.endpoint,
            tls=target.tls,
            timeout=int(PROBE_TIMEOUT_S),
            use_ssh_client=use_ssh,
        )
        api_version = probe.api.api_version
        probe.close()
        client = docker.DockerClient(
            base_url=target.endpoint,
            tls=target.tls,
            timeout=int(API_TIMEOUT_S),
            version=api_version,
            use_ssh_client=use_ssh,
        )
        info = client.api.info()
        version = client.api.version()
    except docker.errors.DockerException as e:
        raise NoEngineError(
            f"No Docker engine answered at {target.endpoint}"
            f"{f' (context {target.context!r})' if target.context else ''}: {first_line(e)}.\n"
            f"{_WHAT_TO_DO}"
        ) from None
    except Exception as e:  # noqa: BLE001 - transport errors of every kind mean "no engine"
        raise NoEngineError(
            f"No Docker engine answered at {target.endpoint}: {first_line(e)}.\n{_WHAT_TO_DO}"
        ) from None
    return Engine(client=client, target=target, info=info, version=version)


def _object_name(kind: str, obj: Any) -> str:
    if kind == "containers":
        # sparse listings (no per-container inspect: no race with removals) carry "Names"
        names = obj.attrs.get("Names") or [obj.id]
        return str(names[0]).lstrip("/")
    return str(obj.short_id if kind == "images" else obj.name)


def _quietly(action: Any) -> int:
    try:
        action()
    except docker.errors.NotFound:
        return 0
    except docker.errors.APIError:
        return 0
    return 1
