"""Which platform an engine is (DESIGN 3.3), decided by one ordered table of rules.

:func:`detect` classifies an engine from what it answered (``/info``, ``/version``) and
where the harness stands (host OS, inside WSL2 or not, docker context and endpoint, this
host's kernel). It flattens those into :class:`~bench.environment.evidence.Evidence`, then
walks :data:`RULES`: the first rule whose checks all hold decides, and each check's reason
("OperatingSystem is 'Docker Desktop'") goes into :attr:`Platform.detection`, so every
result says how it was reached. Where the evidence cannot decide, the answer is
``unknown`` with what was missing. :func:`detect_capture` does the same for a saved
``docker info`` / ``docker version`` capture, which shows no endpoint and no host kernel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bench.environment import captures, host
from bench.environment.evidence import (
    DESKTOP_LABEL,
    Check,
    Evidence,
    Fact,
    any_of,
    boot,
    component,
    desktop_address,
    desktop_on,
    equals,
    fact,
    gather,
    matches,
    os_hint,
)
from bench.environment.evidence import text as _text

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
    "linux-vm": "linux",  # a Linux engine in a VM on this host, no product marker
    "linux-remote": "linux",  # an engine on another machine
    "unknown": "unknown",
}
PLATFORM_IDS = tuple(FAMILIES)
HOST_OSES = ("linux", "darwin", "windows")
CAPTURED_IN = ("wsl", "host")
# A capture may not show the OS it was taken on; live detection always knows it.
UNKNOWN_HOST = "unknown"


def _require(what: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ValueError(f"platform: unknown {what} {value!r} (valid: {', '.join(valid)})")


@dataclass(frozen=True)
class Platform:
    """What runs the containers: ``id`` from :data:`PLATFORM_IDS`, its ``family`` (as in
    :data:`FAMILIES`), the ``host_os`` the harness runs on (``unknown`` only for a capture
    that does not show it), the ``vm`` when known, the ``file_sharing`` filesystem a probe
    saw (None until one ran), and the human-readable ``detection`` reasons."""

    id: str
    family: str
    host_os: str
    vm: str | None
    file_sharing: str | None
    detection: tuple[str, ...]

    def __post_init__(self) -> None:
        _require("id", self.id, PLATFORM_IDS)
        _require("host OS", self.host_os, (*HOST_OSES, UNKNOWN_HOST))

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


# --- checks the rules combine (generic ones are in bench.environment.evidence) -------------


def _no_engine_data(evidence: Evidence) -> str | None:
    return None if evidence.answered else "no docker info or docker version data to classify"


def _negotiation_failed(evidence: Evidence) -> str | None:
    """The engine's answer is there but empty, as an HTTP 400 'client version too old' body
    is. Anything that names the engine (a partial paste's Name or KernelVersion, a platform
    name, a component list) is not this: the rules after this one read it."""
    identity = ("OperatingSystem", "ServerVersion", "Name", "KernelVersion", "server platform")
    if evidence.components or any(evidence.get(key) for key in identity):
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


def _host_os_unknown(evidence: Evidence) -> str | None:
    return None if evidence.get("host OS") else "the capture does not show its host OS"


def _unnamed_context(evidence: Evidence) -> str | None:
    """The CLI talks to its default engine, not to a context naming another product."""
    context = evidence.get("context")
    if context in ("", "default"):
        return f"context is '{context}'" if context else "no context named"
    return None


def _desktop_host_unknown(evidence: Evidence) -> str | None:
    where = evidence.desktop_host
    return f"where it runs is not visible ({where.reason})" if not where.value else None


def _vm_on_this_host(evidence: Evidence) -> str | None:
    """A Linux engine on this host runs in a VM when its kernel (or boot) is not the
    host's, or when the host is not Linux at all."""
    if evidence.get("host OS") in ("darwin", "windows"):
        return f"a Linux engine on a {evidence.get('host OS')} host runs in a VM"
    return fact("kernel", "different")(evidence) or fact("boot", "different")(evidence)


def _not_this_boot(evidence: Evidence) -> str | None:
    """Nothing shows the engine runs on this host's kernel after all."""
    if evidence.boot.value == "same":
        return None
    return evidence.boot.reason if evidence.boot.value else "nothing shows it runs on this host"


def _undecided(evidence: Evidence) -> str:
    """Why no rule decided: what each of the remaining ids needs, and what was missing."""
    if evidence.get("OSType") != "linux":
        seen = ", ".join(
            f"{k} '{evidence.get(k)}'"
            for k in ("OSType", "OperatingSystem", "KernelVersion", "host OS")
        )
        return f"no detection rule matched ({seen})"
    facts = (evidence.place, evidence.kernel, *([evidence.boot] if evidence.kernel.value else []))
    known = "; ".join(f.reason for f in facts)
    host_os = evidence.get("host OS") or "not known"
    return (
        "a Linux engine with no product marker: linux-native needs a local endpoint and "
        "this host's own kernel, linux-vm a local endpoint and another kernel, linux-remote "
        f"a remote endpoint; here the host OS is {host_os}; {known}"
    )


# Signs the rules combine. Each check says in its reason what it saw.
_LINUX_ENGINE = equals("OSType", "linux")
_HOST_LINUX = equals("host OS", "linux")
_HOST_WINDOWS = equals("host OS", "windows")
_HOST_NOT_LINUX = equals("host OS", "darwin", "windows")
_WSL2_KERNEL = matches("KernelVersion", r"-microsoft-standard-WSL2$", "is a WSL2 kernel")
_HYPERV_KERNEL = matches(
    "KernelVersion", r"-linuxkit(-aufs)?$|-moby$", "is a LinuxKit / Moby VM kernel"
)
_DESKTOP = any_of(
    equals("OperatingSystem", "Docker Desktop", "Docker for Mac", "Docker for Windows"),
    matches("server platform", r"^Docker Desktop\b", "is Docker Desktop"),
    # Docker for Mac / Windows before LinuxKit: a Moby VM named moby
    matches("KernelVersion", r"-moby$", "is Docker for Mac/Windows' Moby VM kernel"),
    equals("Name", "moby"),
)
_ON_MAC = desktop_on("darwin")
_ON_WINDOWS = desktop_on("windows")
_ON_LINUX = desktop_on("linux")
_RANCHER_WSL_DISTRO = equals("OperatingSystem", "Rancher Desktop WSL Distribution")
_RANCHER_LIMA_VM = equals("Name", "lima-rancher-desktop")
_RANCHER_CONTEXT = any_of(
    equals("context", "rancher-desktop"),
    matches("endpoint", r"[/\\]\.rd[/\\]", "is Rancher Desktop's socket"),
)
_RANCHER_CLI = matches("client version", r"-rd$", "is Rancher Desktop's docker CLI")
_PODMAN = any_of(
    component("Podman Engine"),
    # Podman's compat API names its platform os/arch/distro-release
    matches("server platform", r"^linux/[^/\s]+/[^/\s]+$", "is how Podman names its platform"),
    matches("endpoint", r"podman[^/]*\.sock$|/podman/", "is a Podman socket"),
)
_ORBSTACK = any_of(
    equals("OperatingSystem", "OrbStack"),
    equals("Name", "orbstack"),
    equals("context", "orbstack"),
    matches("KernelVersion", r"-orbstack\b", "is an OrbStack kernel"),
)
_COLIMA = any_of(
    matches("Name", r"^colima(-|$)", "is a colima VM"),
    matches("context", r"^colima(-|$)", "is a colima context"),
    matches("endpoint", r"[/\\]\.colima[/\\]", "is a colima socket"),
)
_LIMA = any_of(
    matches("Name", r"^lima-", "is a lima VM"),
    matches("context", r"^lima-", "is a lima context"),
    matches("endpoint", r"[/\\]\.lima[/\\]", "is a lima socket"),
)
_CONTAINERIZED = matches("OperatingSystem", r"\(containerized\)$", "runs dockerd in a container")
_LOCAL = fact("place", "local")
_ON_THIS_HOST = fact("place", "local", "loopback")
_REMOTE = fact("place", "remote")
# On this host: a local endpoint, or (any endpoint) the engine shown to run on this boot.
_HERE = any_of(fact("place", "local", "loopback"), fact("boot", "same"))
_SAME_KERNEL = fact("kernel", "same")
_SAME_OR_UNREAD_BOOT = fact("boot", "same", "")


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


# Ordered: first match wins. Explicit product markers come first (a stock distro in a
# product's VM, as in Rancher Desktop, colima or lima, would also match the generic
# rules); then where the endpoint is; the generic Linux rules last, each needing evidence:
# an endpoint and this host's kernel, never their absence.
# fmt: off
RULES: tuple[Rule, ...] = (
    #    id                               vm                checks, all of which must hold
    Rule("unknown",                       None,             (_no_engine_data,)),
    Rule("unknown",                       None,             (_negotiation_failed,)),
    Rule("windows-containers",            None,             (equals("OSType", "windows"),)),
    Rule("rancher-desktop",               "wsl2",           (_RANCHER_WSL_DISTRO,)),
    Rule("rancher-desktop",               "lima",           (_RANCHER_LIMA_VM,)),
    Rule("rancher-desktop",               None,             (_RANCHER_CONTEXT,)),
    Rule("podman",                        None,             (_PODMAN, _HOST_LINUX)),
    Rule("podman",                        "podman-machine", (_PODMAN, _HOST_NOT_LINUX)),
    Rule("podman",                        None,             (_PODMAN, _host_os_unknown),
         note="whether it runs in a podman machine depends on the host OS"),
    Rule("orbstack",                      "orbstack",       (_ORBSTACK,)),
    Rule("colima",                        "lima",           (_COLIMA,)),
    Rule("lima",                          "lima",           (_LIMA,)),
    Rule("dind",                          None,             (_CONTAINERIZED,)),
    Rule("docker-desktop-windows-wsl2",   "wsl2",           (_DESKTOP, _WSL2_KERNEL)),
    Rule("docker-desktop-mac",            "linuxkit",       (_DESKTOP, _ON_MAC)),
    Rule("docker-desktop-windows-hyperv", "linuxkit",       (_DESKTOP, _ON_WINDOWS,
                                                             _HYPERV_KERNEL)),
    Rule("docker-desktop-windows",        None,             (_DESKTOP, _ON_WINDOWS, _no_kernel)),
    Rule("docker-desktop-linux",          "linuxkit",       (_DESKTOP, _ON_LINUX)),
    Rule("unknown",                       None,             (_DESKTOP, _desktop_host_unknown),
         note="Docker Desktop, but not for which host OS: give it (--host-os)"),
    Rule("rancher-desktop",               None,             (_RANCHER_CLI, _LINUX_ENGINE,
                                                             _unnamed_context),
         note="Rancher Desktop's CLI on its default context reaches Rancher Desktop's "
              "engine; no other product marker seen"),
    Rule("linux-remote",                  None,             (_LINUX_ENGINE, _REMOTE,
                                                             _not_this_boot)),
    Rule("wsl2-engine",                   "wsl2",           (_LINUX_ENGINE, _WSL2_KERNEL)),
    Rule("docker-desktop-windows",        None,             (_LINUX_ENGINE, _HOST_WINDOWS,
                                                             _LOCAL, _no_kernel),
         note="a Linux engine on a Windows client's local endpoint is Docker Desktop "
              "(before 4.x its server platform was not branded 'Docker Desktop')"),
    Rule("linux-native",                  None,             (_LINUX_ENGINE, _HOST_LINUX,
                                                             _HERE, _SAME_KERNEL,
                                                             _SAME_OR_UNREAD_BOOT),
         note="no sign of a VM product (Docker Desktop, WSL2, colima, lima, OrbStack, "
              "Rancher Desktop, Podman) or of dockerd in a container"),
    Rule("linux-vm",                      None,             (_LINUX_ENGINE, _ON_THIS_HOST,
                                                             _vm_on_this_host),
         note="no product marker says which VM"),
)
# fmt: on


def _classify(evidence: Evidence, host_os: str) -> Platform:
    for rule in RULES:
        reasons = rule.reasons(evidence)
        if reasons is not None:
            return Platform(rule.id, FAMILIES[rule.id], host_os, rule.vm, None, reasons)
    return Platform("unknown", "unknown", host_os, None, None, (_undecided(evidence),))


def detect(
    *,
    info: Mapping[str, Any] | None,
    version: Mapping[str, Any] | None = None,
    host_os: str,
    wsl: bool = False,
    context: str | None = None,
    endpoint: str | None = None,
    host_kernel: str | None = None,
    engine_boot_id: str | None = None,
) -> Platform:
    """Classify an engine from its ``/info`` and ``/version`` answers (either may be None)
    and the harness's view: ``host_os`` (linux, darwin, windows) it runs on, ``wsl`` when
    it runs inside a WSL2 distro, the docker ``context`` name and its ``endpoint``.

    ``host_kernel`` is this host's kernel release: None reads it from the running machine
    when ``host_os`` is the machine's own OS (and with it this boot's id, and which process
    serves a ``unix://`` endpoint), "" says it is not known. ``engine_boot_id`` is the boot
    id a container of this engine read, when the caller ran one. The first :data:`RULES`
    row that holds decides; none holding gives ``unknown`` with what was missing. Raises
    ValueError for a host OS outside :data:`HOST_OSES`. ``file_sharing`` is left None."""
    _require("host OS", host_os, HOST_OSES)
    endpoint = endpoint or ""
    boot_fact = None
    if host_kernel is None:
        host_kernel, boot_fact = _this_host(host_os, endpoint, engine_boot_id)
    elif engine_boot_id:
        boot_fact = boot(engine_boot_id=engine_boot_id, host_boot_id=host.boot_id(), server=None)
    evidence = gather(
        info or {},
        version or {},
        host_os=host_os,
        wsl=wsl,
        context=context or "",
        endpoint=endpoint,
        host_kernel=host_kernel,
        boot_fact=boot_fact,
    )
    return _classify(evidence, host_os)


def _this_host(host_os: str, endpoint: str, engine_boot_id: str | None) -> tuple[str, Fact | None]:
    """(kernel release, boot fact) read from the running machine, when it is the host."""
    if host_os != host.host_os():
        return "", None
    parts = urlsplit(endpoint)
    server = host.socket_server(parts.path) if parts.scheme == "unix" else None
    fact_ = boot(engine_boot_id=engine_boot_id, host_boot_id=host.boot_id(), server=server)
    return host.kernel_release(), fact_


def infer_host_os(capture: captures.Capture) -> tuple[str | None, str]:
    """(host OS, reason) for a capture: from the client's OS/Arch, a legacy Docker for
    Mac/Windows OS name, Docker Desktop's address label, client plugin paths or a Windows
    DockerRootDir; (None, why) when the capture does not show it."""
    info = capture.info or {}
    plugins = capture.client.get("Plugins")
    hint = os_hint(
        {
            "client OS": [_text(capture.client.get("Os"))],
            "OperatingSystem": [_text(info.get("OperatingSystem"))],
            f"{DESKTOP_LABEL} label": [desktop_address(info)],
            "client plugin path": [
                _text(p.get("Path")) for p in plugins or () if isinstance(p, dict)
            ],
            "DockerRootDir": [_text(info.get("DockerRootDir"))],
        }
    )
    if hint is None:
        return None, "host OS not given (--host-os) and not visible in the capture"
    os_name, why = hint
    return os_name, f"host OS {os_name} inferred from {why}"


def detect_capture(
    text: str, *, host_os: str | None = None, captured_in: str | None = None
) -> Platform:
    """Classify a saved ``docker info`` / ``docker version`` capture (see
    :func:`bench.environment.captures.parse_capture`). Without ``host_os`` it is inferred
    from the capture (:func:`infer_host_os`) and how is the first detection reason.
    ``captured_in`` says where the docker CLI ran: ``wsl`` (inside a WSL2 distro, so a
    Linux client of a Windows host) or ``host``. A capture shows neither the endpoint nor
    this host's kernel, so it is never a confident ``linux-native``."""
    if captured_in is not None:
        _require("capture place", captured_in, CAPTURED_IN)
    if host_os is not None:
        _require("host OS", host_os, HOST_OSES)
    capture = captures.parse_capture(text)
    wsl = captured_in == "wsl"
    how: tuple[str, ...] = ()
    if host_os is None and wsl:
        host_os, how = "linux", ("captured inside a WSL2 distro: the client ran on Linux",)
    elif host_os is None:
        host_os, why = infer_host_os(capture)
        how = (why,)
    evidence = gather(
        capture.info or {},
        capture.version or {},
        host_os=host_os or "",
        wsl=wsl,
        context=_text(capture.client.get("Context")),
        endpoint="",
        client_version=_text(capture.client.get("Version")),
    )
    found = _classify(evidence, host_os or UNKNOWN_HOST)
    return dataclasses.replace(found, detection=(*how, *found.detection))
