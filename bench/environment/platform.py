"""Which platform an engine is (DESIGN 3.3), decided by one ordered table of rules.

:func:`detect` is a pure function of what the engine answered (``/info``, ``/version``) and
where the harness stands (host OS, inside WSL2 or not, docker context and endpoint). It
flattens those into evidence, then walks :data:`RULES`: the first rule whose checks all
hold decides, and each check's reason ("OperatingSystem is 'Docker Desktop'") goes into
:attr:`Platform.detection`, so every result says how it was reached. :func:`detect_capture`
does the same for a saved ``docker info`` / ``docker version`` capture.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bench.environment import captures

# The platform vocabulary (DESIGN 3.3), each id with the coarse family reports group it by.
FAMILIES: Mapping[str, str] = {
    "linux-native": "linux",
    "docker-desktop-linux": "docker-desktop",
    "docker-desktop-mac": "docker-desktop",
    "docker-desktop-windows-wsl2": "docker-desktop",
    "docker-desktop-windows-hyperv": "docker-desktop",
    "docker-desktop-windows": "docker-desktop",  # backend (WSL2 or Hyper-V) not visible
    "wsl2-engine": "linux",  # Docker Engine inside a WSL2 distro, no Desktop
    "colima": "colima",
    "lima": "lima",
    "orbstack": "orbstack",
    "rancher-desktop": "rancher-desktop",
    "podman": "podman",
    "windows-containers": "windows-containers",
    "dind": "linux",
    "unknown": "unknown",
}
PLATFORM_IDS = tuple(FAMILIES)
HOST_OSES = ("linux", "darwin", "windows")


def _require(what: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ValueError(f"platform: unknown {what} {value!r} (valid: {', '.join(valid)})")


@dataclass(frozen=True)
class Platform:
    """What runs the containers: ``id`` from :data:`PLATFORM_IDS`, its ``family`` (as in
    :data:`FAMILIES`), the ``host_os`` the harness runs on, the ``vm`` when known, the
    ``file_sharing`` filesystem a probe saw (None until one ran), and the human-readable
    ``detection`` reasons."""

    id: str
    family: str
    host_os: str
    vm: str | None
    file_sharing: str | None
    detection: tuple[str, ...]

    def __post_init__(self) -> None:
        _require("id", self.id, PLATFORM_IDS)
        _require("host OS", self.host_os, HOST_OSES)

    def to_json(self) -> dict[str, Any]:
        """The results file's ``platform`` record (DESIGN 3.2)."""
        return {
            "id": self.id,
            "family": self.family,
            "host_os": self.host_os,
            "vm": self.vm,
            "file_sharing": self.file_sharing,
            "detection": list(self.detection),
        }

    def with_file_sharing(self, fs: str | None, reason: str) -> Platform:
        """A copy with ``file_sharing`` set to what a probe saw (None: it saw nothing, or
        could not look), and its reason recorded."""
        return dataclasses.replace(self, file_sharing=fs, detection=(*self.detection, reason))


# --- evidence ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What the rules look at. ``fields`` holds the engine's answers and the caller's view as
    strings under the names reasons use ("OperatingSystem", "host OS", "endpoint", ...);
    ``answered`` is whether any info or version data was given; ``desktop_host`` is where a
    Docker Desktop would run, with why we think so."""

    fields: Mapping[str, str]
    components: tuple[str, ...]
    answered: bool
    wsl: bool
    desktop_host: tuple[str, str]

    def get(self, key: str) -> str:
        return self.fields.get(key, "")


_DESKTOP_LABEL = "com.docker.desktop.address"


@dataclass(frozen=True)
class _OsHint:
    source: str
    pattern: re.Pattern[str]
    os: str


def _hint(source: str, pattern: str, os_name: str) -> _OsHint:
    return _OsHint(source, re.compile(pattern), os_name)


# Which OS a client-side value places us on; first match wins, so stronger sources come
# first. A server's Linux root dir says nothing about the client (it may be in any VM).
_OS_HINTS = (
    _hint("client OS", r"darwin$", "darwin"),
    _hint("client OS", r"windows$", "windows"),
    _hint("client OS", r"linux$", "linux"),
    _hint(f"{_DESKTOP_LABEL} label", r"unix:///Users/", "darwin"),
    _hint(f"{_DESKTOP_LABEL} label", r"npipe:", "windows"),
    _hint(f"{_DESKTOP_LABEL} label", r"unix:///home/", "linux"),
    _hint("endpoint", r"unix:///Users/", "darwin"),
    _hint("endpoint", r"npipe:", "windows"),
    _hint("endpoint", r"unix:///home/", "linux"),
    _hint("client plugin path", r"/Users/", "darwin"),
    _hint("client plugin path", r"[A-Za-z]:\\", "windows"),
    _hint("client plugin path", r"/(home|usr|opt)/", "linux"),
    _hint("DockerRootDir", r"[A-Za-z]:\\", "windows"),
)


def _os_hint(sources: Mapping[str, Iterable[str]]) -> tuple[str, str] | None:
    """(os, "source 'value'") from the first :data:`_OS_HINTS` row a source value matches."""
    for hint in _OS_HINTS:
        for value in sources.get(hint.source, ()):
            if value and hint.pattern.match(value):
                return hint.os, f"{hint.source} '{value}'"
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _desktop_address(info: Mapping[str, Any]) -> str:
    labels = info.get("Labels")
    for label in labels if isinstance(labels, list) else ():
        key, _, value = _text(label).partition("=")
        if key == _DESKTOP_LABEL:
            return value
    return ""


def _gather(
    info: Mapping[str, Any],
    version: Mapping[str, Any],
    *,
    host_os: str,
    wsl: bool,
    context: str,
    endpoint: str,
) -> Evidence:
    server_platform = version.get("Platform")
    fields = {
        "OperatingSystem": _text(info.get("OperatingSystem")),
        "ServerVersion": _text(info.get("ServerVersion") or version.get("Version")),
        "OSType": _text(info.get("OSType") or version.get("Os")),
        "KernelVersion": _text(info.get("KernelVersion") or version.get("KernelVersion")),
        "Name": _text(info.get("Name")),
        "server platform": _text(
            server_platform.get("Name") if isinstance(server_platform, dict) else None
        ),
        f"{_DESKTOP_LABEL} label": _desktop_address(info),
        "context": context,
        "endpoint": endpoint,
        "host OS": host_os,
    }
    components = version.get("Components")
    names = tuple(_text(c.get("Name")) for c in components or () if isinstance(c, dict))
    answered = bool(info or version)
    return Evidence(fields, names, answered, wsl, _desktop_host(fields, host_os=host_os, wsl=wsl))


def _desktop_host(fields: Mapping[str, str], *, host_os: str, wsl: bool) -> tuple[str, str]:
    """Where a Docker Desktop behind this engine runs: its address label or the endpoint
    say so best; inside WSL2 it is Windows; otherwise the harness's own host OS."""
    sources = {key: [fields[key]] for key in (f"{_DESKTOP_LABEL} label", "endpoint")}
    hint = _os_hint(sources)
    if hint is not None:
        return hint
    if wsl:
        return "windows", "the harness runs inside WSL2"
    return host_os, f"host OS is '{host_os}'"


# --- checks: each returns the reason it holds, or None -------------------------------------

Check = Callable[[Evidence], str | None]


def _when(key: str, holds: Callable[[str], bool], says: str) -> Check:
    def check(evidence: Evidence) -> str | None:
        value = evidence.get(key)
        return says.format(key=key, value=value) if value and holds(value) else None

    return check


def _is(key: str, expected: str) -> Check:
    return _when(key, lambda value: value.casefold() == expected.casefold(), "{key} is '{value}'")


def _matches(key: str, pattern: str, meaning: str) -> Check:
    regex = re.compile(pattern, re.IGNORECASE)
    return _when(key, lambda value: regex.search(value) is not None, "{key} '{value}' " + meaning)


def _any(*checks: Check) -> Check:
    def check(evidence: Evidence) -> str | None:
        return next((r for c in checks if (r := c(evidence)) is not None), None)

    return check


def _component(name: str) -> Check:
    def check(evidence: Evidence) -> str | None:
        found = name in evidence.components
        return f"docker version lists the component '{name}'" if found else None

    return check


def _desktop_on(os_name: str) -> Check:
    def check(evidence: Evidence) -> str | None:
        where, why = evidence.desktop_host
        return f"Docker Desktop runs on {os_name}: {why}" if where == os_name else None

    return check


def _no_engine_data(evidence: Evidence) -> str | None:
    return None if evidence.answered else "no docker info or docker version data to classify"


def _negotiation_failed(evidence: Evidence) -> str | None:
    """The engine's answer is there but empty, as an HTTP 400 'client version too old' body
    is. A partial paste that still names the engine (Name, KernelVersion) is not this."""
    identity = ("OperatingSystem", "ServerVersion", "Name", "KernelVersion")
    if any(evidence.get(key) for key in identity):
        return None
    return (
        "OperatingSystem and ServerVersion are empty: the engine answered without data, "
        "as it does when API version negotiation failed (HTTP 400, client API too old); "
        "not guessing"
    )


def _no_kernel(evidence: Evidence) -> str | None:
    if evidence.get("KernelVersion"):
        return None
    return "no KernelVersion captured, so the backend (WSL2 or Hyper-V) is not visible"


def _local_endpoint(evidence: Evidence) -> str | None:
    endpoint = evidence.get("endpoint")
    if not endpoint:
        return "no remote endpoint given"
    return None if re.match(r"(tcp|ssh|https?)://", endpoint) else f"endpoint '{endpoint}' is local"


def _in_wsl(evidence: Evidence) -> str | None:
    return "the harness runs inside a WSL2 distro" if evidence.wsl else None


def _nothing_matched(evidence: Evidence) -> str:
    seen = ", ".join(
        f"{k} '{evidence.get(k)}'"
        for k in ("OSType", "OperatingSystem", "KernelVersion", "host OS")
    )
    return f"no detection rule matched ({seen})"


# Signs the rules combine. Each check says in its reason what it saw.
_LINUX_ENGINE = _is("OSType", "linux")
_HOST_LINUX = _is("host OS", "linux")
_HOST_WINDOWS = _is("host OS", "windows")
_WSL2_KERNEL = _matches("KernelVersion", r"-microsoft-standard-WSL2$", "is a WSL2 kernel")
_IN_WSL2 = _any(_WSL2_KERNEL, _in_wsl)
_LINUXKIT = _matches("KernelVersion", r"-linuxkit$", "is a LinuxKit kernel")
_DESKTOP = _any(
    _is("OperatingSystem", "Docker Desktop"),
    _matches("server platform", r"^Docker Desktop\b", "is Docker Desktop"),
)
_ON_MAC = _desktop_on("darwin")
_ON_WINDOWS = _desktop_on("windows")
_ON_LINUX = _desktop_on("linux")
_RANCHER_WSL_DISTRO = _is("OperatingSystem", "Rancher Desktop WSL Distribution")
_RANCHER_LIMA_VM = _is("Name", "lima-rancher-desktop")
_RANCHER_CONTEXT = _any(
    _is("context", "rancher-desktop"),
    _matches("endpoint", r"[/\\]\.rd[/\\]", "is Rancher Desktop's socket"),
)
_PODMAN = _component("Podman Engine")
_ORBSTACK = _any(
    _is("OperatingSystem", "OrbStack"),
    _is("Name", "orbstack"),
    _is("context", "orbstack"),
    _matches("KernelVersion", r"-orbstack\b", "is an OrbStack kernel"),
)
_COLIMA = _any(
    _matches("Name", r"^colima(-|$)", "is a colima VM"),
    _matches("context", r"^colima(-|$)", "is a colima context"),
    _matches("endpoint", r"[/\\]\.colima[/\\]", "is a colima socket"),
)
_LIMA = _any(
    _matches("Name", r"^lima-", "is a lima VM"),
    _matches("context", r"^lima-", "is a lima context"),
    _matches("endpoint", r"[/\\]\.lima[/\\]", "is a lima socket"),
)
_CONTAINERIZED = _matches("OperatingSystem", r"\(containerized\)$", "runs dockerd in a container")


# --- the table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One row of :data:`RULES`: when every check holds, the engine is ``id`` running in
    ``vm``. ``note`` states an inference the checks alone do not make obvious."""

    id: str
    vm: str | None
    checks: tuple[Check, ...]
    note: str | None = None

    def __post_init__(self) -> None:
        _require("id", self.id, PLATFORM_IDS)

    def reasons(self, evidence: Evidence) -> tuple[str, ...] | None:
        """The reasons this rule holds for, or None when one of its checks fails."""
        found: list[str] = []
        for check in self.checks:
            reason = check(evidence)
            if reason is None:
                return None
            found.append(reason)
        return (*found, *([self.note] if self.note else []))


# Ordered: first match wins. Products that run a stock distro in their VM (Rancher Desktop,
# colima, lima) come before the generic WSL2 / Linux rules their kernels would also match.
# fmt: off
RULES: tuple[Rule, ...] = (
    #    id                               vm                checks, all of which must hold
    Rule("unknown",                       None,             (_no_engine_data,)),
    Rule("unknown",                       None,             (_negotiation_failed,)),
    Rule("windows-containers",            None,             (_is("OSType", "windows"),)),
    Rule("rancher-desktop",               "wsl2",           (_RANCHER_WSL_DISTRO,)),
    Rule("rancher-desktop",               "lima",           (_RANCHER_LIMA_VM,)),
    Rule("rancher-desktop",               None,             (_RANCHER_CONTEXT,)),
    Rule("podman",                        None,             (_PODMAN, _HOST_LINUX)),
    Rule("podman",                        "podman-machine", (_PODMAN,)),
    Rule("orbstack",                      "orbstack",       (_ORBSTACK,)),
    Rule("colima",                        "lima",           (_COLIMA,)),
    Rule("lima",                          "lima",           (_LIMA,)),
    Rule("dind",                          None,             (_CONTAINERIZED,)),
    Rule("docker-desktop-windows-wsl2",   "wsl2",           (_DESKTOP, _WSL2_KERNEL)),
    Rule("docker-desktop-mac",            "linuxkit",       (_DESKTOP, _ON_MAC)),
    Rule("docker-desktop-windows-hyperv", "linuxkit",       (_DESKTOP, _ON_WINDOWS, _LINUXKIT)),
    Rule("docker-desktop-windows",        None,             (_DESKTOP, _ON_WINDOWS, _no_kernel)),
    Rule("docker-desktop-linux",          "linuxkit",       (_DESKTOP, _ON_LINUX)),
    Rule("wsl2-engine",                   "wsl2",           (_LINUX_ENGINE, _IN_WSL2)),
    Rule("docker-desktop-windows",        None,             (_LINUX_ENGINE, _HOST_WINDOWS,
                                                             _local_endpoint, _no_kernel),
         note="a Linux engine on a Windows client's local endpoint is Docker Desktop "
              "(before 4.x its server platform was not branded 'Docker Desktop')"),
    Rule("linux-native",                  None,             (_LINUX_ENGINE, _HOST_LINUX),
         note="no sign of a VM product (Docker Desktop, WSL2, colima, lima, OrbStack, "
              "Rancher Desktop, Podman) or of dockerd in a container"),
)
# fmt: on


def detect(
    *,
    info: Mapping[str, Any] | None,
    version: Mapping[str, Any] | None = None,
    host_os: str,
    wsl: bool = False,
    context: str | None = None,
    endpoint: str | None = None,
) -> Platform:
    """Classify an engine from its ``/info`` and ``/version`` answers (either may be None)
    and the harness's view: ``host_os`` (linux, darwin, windows) it runs on, ``wsl`` when
    it runs inside a WSL2 distro, the docker ``context`` name and its ``endpoint``. The
    first :data:`RULES` row that holds decides; none holding gives ``unknown``. Raises
    ValueError for a host OS outside :data:`HOST_OSES`. ``file_sharing`` is left None."""
    _require("host OS", host_os, HOST_OSES)
    evidence = _gather(
        info or {},
        version or {},
        host_os=host_os,
        wsl=wsl,
        context=context or "",
        endpoint=endpoint or "",
    )
    for rule in RULES:
        reasons = rule.reasons(evidence)
        if reasons is not None:
            return Platform(rule.id, FAMILIES[rule.id], host_os, rule.vm, None, reasons)
    return Platform("unknown", "unknown", host_os, None, None, (_nothing_matched(evidence),))


def infer_host_os(capture: captures.Capture) -> tuple[str, str]:
    """(host OS, reason) for a capture: from the client's OS/Arch, Docker Desktop's address
    label, client plugin paths or a Windows DockerRootDir; else linux, stated as assumed."""
    info = capture.info or {}
    plugins = capture.client.get("Plugins")
    hint = _os_hint(
        {
            "client OS": [_text(capture.client.get("Os"))],
            f"{_DESKTOP_LABEL} label": [_desktop_address(info)],
            "client plugin path": [
                _text(p.get("Path")) for p in plugins or () if isinstance(p, dict)
            ],
            "DockerRootDir": [_text(info.get("DockerRootDir"))],
        }
    )
    if hint is None:
        return "linux", "host OS not given and not visible in the capture: assuming linux"
    os_name, why = hint
    return os_name, f"host OS {os_name} inferred from {why}"


def detect_capture(text: str, *, host_os: str | None = None) -> Platform:
    """Classify a saved ``docker info`` / ``docker version`` capture (see
    :func:`bench.environment.captures.parse_capture`). Without ``host_os`` it is inferred from the
    capture (:func:`infer_host_os`) and how is the first detection reason."""
    capture = captures.parse_capture(text)
    how: tuple[str, ...] = ()
    if host_os is None:
        host_os, why = infer_host_os(capture)
        how = (why,)
    found = detect(
        info=capture.info,
        version=capture.version,
        host_os=host_os,
        context=_text(capture.client.get("Context")) or None,
    )
    return dataclasses.replace(found, detection=(*how, *found.detection))
