"""What platform detection looks at: the engine's answers and the harness's view of them,
flattened into :class:`Evidence`, and the checks the rules in
:mod:`bench.environment.platform` combine.

Every derived fact carries the reason it was reached with, and says so when it is not
known: a saved capture shows no endpoint and no host kernel, and "not given" is never read
as "local" or "the same".
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DESKTOP_LABEL = "com.docker.desktop.address"

# Processes that are an engine, not a forwarder, when they serve the engine's unix socket:
# the daemons themselves, and systemd for a socket-activated daemon (docker.socket).
ENGINE_PROCESSES = ("dockerd", "podman", "systemd")


@dataclass(frozen=True)
class Fact:
    """A derived fact (``value`` "" when not known) and the reason for it."""

    value: str
    reason: str


@dataclass(frozen=True)
class Evidence:
    """What the rules look at. ``fields`` holds the engine's answers and the caller's view as
    strings under the names reasons use ("OperatingSystem", "host OS", "endpoint", ...; ""
    when not known); ``answered`` is whether any info or version data was given.

    The derived facts: ``desktop_host`` is the OS a Docker Desktop behind this engine runs
    on; ``place`` where the endpoint is (local, loopback, remote); ``kernel`` whether the
    engine's kernel release is this host's (same, different); ``boot`` whether it is this
    boot of it (same, different, forwarded: the socket is served by a forwarder)."""

    fields: Mapping[str, str]
    components: tuple[str, ...]
    answered: bool
    wsl: bool
    desktop_host: Fact
    place: Fact
    kernel: Fact
    boot: Fact

    def get(self, key: str) -> str:
        return self.fields.get(key, "")


# --- where the client runs -----------------------------------------------------------------


@dataclass(frozen=True)
class _OsHint:
    source: str
    pattern: re.Pattern[str]
    os: str


def _hint(source: str, pattern: str, os_name: str) -> _OsHint:
    return _OsHint(source, re.compile(pattern), os_name)


# Which OS a client-side value places us on; first match wins, so stronger sources come
# first. A server's Linux root dir says nothing about the client (it may be in any VM), and
# /usr/local/ plugin paths are used by Homebrew on macOS as much as on Linux.
_OS_HINTS = (
    _hint("client OS", r"darwin$", "darwin"),
    _hint("client OS", r"windows$", "windows"),
    _hint("client OS", r"linux$", "linux"),
    _hint("OperatingSystem", r"Docker for Mac$", "darwin"),
    _hint("OperatingSystem", r"Docker for Windows$", "windows"),
    _hint(f"{DESKTOP_LABEL} label", r"unix:///Users/", "darwin"),
    _hint(f"{DESKTOP_LABEL} label", r"npipe:", "windows"),
    _hint(f"{DESKTOP_LABEL} label", r"unix:///(home|root)/", "linux"),
    _hint("endpoint", r"unix:///Users/", "darwin"),
    _hint("endpoint", r"npipe:", "windows"),
    _hint("endpoint", r"unix:///(home|root)/", "linux"),
    _hint("client plugin path", r"/Users/|/opt/homebrew/|/Applications/", "darwin"),
    _hint("client plugin path", r"[A-Za-z]:\\", "windows"),
    _hint("client plugin path", r"/(home|root)/|/usr/(libexec|lib)/docker/", "linux"),
    _hint("DockerRootDir", r"[A-Za-z]:\\", "windows"),
)


def os_hint(sources: Mapping[str, Iterable[str]]) -> tuple[str, str] | None:
    """(os, "source 'value'") from the first hint row a source value matches."""
    for hint in _OS_HINTS:
        for value in sources.get(hint.source, ()):
            if value and hint.pattern.match(value):
                return hint.os, f"{hint.source} '{value}'"
    return None


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def desktop_address(info: Mapping[str, Any]) -> str:
    labels = info.get("Labels")
    for label in labels if isinstance(labels, list) else ():
        key, _, value = text(label).partition("=")
        if key == DESKTOP_LABEL:
            return value
    return ""


def _desktop_host(fields: Mapping[str, str], *, wsl: bool) -> Fact:
    """Where a Docker Desktop behind this engine runs: its address label, its legacy OS
    name or the endpoint say so best; inside WSL2 it is Windows; else the harness's host."""
    keys = (f"{DESKTOP_LABEL} label", "OperatingSystem", "endpoint")
    hint = os_hint({key: [fields[key]] for key in keys})
    if hint is not None:
        return Fact(*hint)
    if wsl:
        return Fact("windows", "the harness runs inside WSL2")
    host_os = fields["host OS"]
    return Fact(host_os, f"host OS is '{host_os}'" if host_os else "host OS not known")


# --- where the engine is -------------------------------------------------------------------

_LOCAL_SCHEMES = ("unix", "npipe", "fd")
_NETWORK_SCHEMES = ("tcp", "http", "https")


def place(endpoint: str) -> Fact:
    """Where *endpoint* reaches an engine: ``local`` (a socket or pipe of this host),
    ``loopback`` (a port on this host's loopback: an engine here, or a port forwarded to
    a VM), ``remote`` (ssh://, or a network address of another machine), "" (not given)."""
    if not endpoint:
        return Fact("", "no endpoint given, so where the engine runs is not known")
    parts = urlsplit(endpoint)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme in _LOCAL_SCHEMES:
        return Fact("local", f"endpoint '{endpoint}' is a socket of this host")
    if scheme not in (*_NETWORK_SCHEMES, "ssh"):
        return Fact("", f"endpoint '{endpoint}' has an unknown scheme")
    if _loopback(host):
        return Fact("loopback", f"endpoint '{endpoint}' is a port on this host's loopback")
    return Fact("remote", f"endpoint '{endpoint}' is on another machine ({host})")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def kernel(engine_kernel: str, host_kernel: str) -> Fact:
    """Whether the engine's kernel release is this host's."""
    if not host_kernel:
        return Fact("", "this host's kernel release is not known")
    if not engine_kernel:
        return Fact("", "the engine did not report its kernel release")
    if engine_kernel == host_kernel:
        return Fact("same", f"the engine's kernel '{engine_kernel}' is this host's release")
    return Fact(
        "different", f"the engine's kernel '{engine_kernel}' is not this host's ('{host_kernel}')"
    )


def boot(
    *, engine_boot_id: str | None, host_boot_id: str | None, server: tuple[int, str] | None
) -> Fact:
    """Whether the engine runs on this boot of this host's kernel: its boot id (read in a
    container) against this host's, else who serves the endpoint's unix socket here."""
    if engine_boot_id and host_boot_id:
        same = engine_boot_id == host_boot_id
        says = "is" if same else "is not"
        return Fact("same" if same else "different", f"the engine's boot id {says} this host's")
    if server is not None:
        pid, command = server
        if command in ENGINE_PROCESSES:
            return Fact("same", f"the socket is served by '{command}' (pid {pid}) on this kernel")
        return Fact(
            "forwarded",
            f"the socket is served by '{command}' (pid {pid}), which forwards to an engine "
            "that may run elsewhere",
        )
    return Fact("", "whether the engine runs on this boot of the kernel is not readable")


def gather(
    info: Mapping[str, Any],
    version: Mapping[str, Any],
    *,
    host_os: str,
    wsl: bool,
    context: str,
    endpoint: str,
    client_version: str = "",
    host_kernel: str = "",
    boot_fact: Fact | None = None,
) -> Evidence:
    """The evidence in an engine's ``/info`` and ``/version`` answers and the caller's view
    (``host_os`` "" when not known, likewise ``host_kernel``)."""
    server_platform = version.get("Platform")
    fields = {
        "OperatingSystem": text(info.get("OperatingSystem")),
        "ServerVersion": text(info.get("ServerVersion") or version.get("Version")),
        "OSType": text(info.get("OSType") or version.get("Os")),
        "KernelVersion": text(info.get("KernelVersion") or version.get("KernelVersion")),
        "Name": text(info.get("Name")),
        "server platform": text(
            server_platform.get("Name") if isinstance(server_platform, dict) else None
        ),
        f"{DESKTOP_LABEL} label": desktop_address(info),
        "context": context,
        "endpoint": endpoint,
        "host OS": host_os,
        "client version": client_version,
    }
    components = version.get("Components")
    names = tuple(text(c.get("Name")) for c in components or () if isinstance(c, dict))
    return Evidence(
        fields=fields,
        components=names,
        answered=bool(info or version),
        wsl=wsl,
        desktop_host=_desktop_host(fields, wsl=wsl),
        place=place(endpoint),
        kernel=kernel(fields["KernelVersion"], host_kernel),
        boot=boot_fact or boot(engine_boot_id=None, host_boot_id=None, server=None),
    )


# --- checks: each returns the reason it holds, or None -------------------------------------

Check = Callable[[Evidence], str | None]


def when(key: str, holds: Callable[[str], bool], says: str) -> Check:
    def check(evidence: Evidence) -> str | None:
        value = evidence.get(key)
        return says.format(key=key, value=value) if value and holds(value) else None

    return check


def equals(key: str, *expected: str) -> Check:
    wanted = {e.casefold() for e in expected}
    return when(key, lambda value: value.casefold() in wanted, "{key} is '{value}'")


def matches(key: str, pattern: str, meaning: str) -> Check:
    regex = re.compile(pattern, re.IGNORECASE)
    return when(key, lambda value: regex.search(value) is not None, "{key} '{value}' " + meaning)


def any_of(*checks: Check) -> Check:
    def check(evidence: Evidence) -> str | None:
        return next((r for c in checks if (r := c(evidence)) is not None), None)

    return check


def component(name: str) -> Check:
    def check(evidence: Evidence) -> str | None:
        found = name in evidence.components
        return f"docker version lists the component '{name}'" if found else None

    return check


def fact(attribute: str, *values: str) -> Check:
    """Holds when the derived fact ``attribute`` has one of *values*; says its reason."""

    def check(evidence: Evidence) -> str | None:
        found: Fact = getattr(evidence, attribute)
        return found.reason if found.value in values else None

    return check


def desktop_on(os_name: str) -> Check:
    def check(evidence: Evidence) -> str | None:
        where = evidence.desktop_host
        return (
            f"Docker Desktop runs on {os_name}: {where.reason}" if where.value == os_name else None
        )

    return check
