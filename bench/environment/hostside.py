"""The engine's processes on this host, and what they hold: memory and CPU time.

:data:`PROCESSES` is the one table of which host processes belong to an engine, per
platform id (DESIGN 3.3): a process belongs when its name matches a row's ``name``
(a regular expression matched in full, case-insensitively, on the name without a
Windows ``.exe``) and, where the row has one, its command line contains a match of the
row's ``argv`` (the name is the process's, or its executable's: QEMU's
``process=NAME`` renames the process). ``argv`` may name what only the measuring run
knows: ``{workdir}`` (crossdock's work directory, or a sibling folder named after it such
as ``~/.cache/crossdock-vm``, where crossdock's own VM keeps its disk, sockets, pidfile
and ssh key), ``{port}`` (the TCP port of the engine's endpoint, which a QEMU user-network
VM forwards with ``hostfwd``) and ``{vm_dirs}`` (the folders of the files and sockets
the matched VM process names: ``path=``, ``file=``, ``-pidfile``, so a virtiofsd serving
that VM's socket is found wherever the VM lives).

Two rules sit beside the table. The process of a ``serving`` row counts only when it
serves the engine's endpoint (:func:`bench.environment.dockerd.engine_dockerd`: a second
dockerd on the host is another engine). A container's own processes are never the
engine's: every descendant of a ``containerd-shim`` is left out (the shim's reaped
children, ``runc`` and the container processes that exited, are counted in the shim's
CPU time). On a VM-backed engine the containers run inside the VM process and count
with it: what the VM costs the host includes the work it was given.

:class:`Poller` finds the processes again at every poll (shims come and go with their
containers) and reads each one's resident memory and CPU time; reading them needs
psutil's rights over them (on macOS and Windows another user's processes, or the WSL
VM's ``vmmem``, may refuse): who refused is recorded, never a zero.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

import psutil

Role = Literal["engine", "vm", "helper"]


@dataclass(frozen=True)
class Rule:
    """One row: processes named *name* (and, with *argv*, whose command line matches it)
    are the engine's, in *role*: ``engine`` (the daemon and its runtime), ``vm`` (the
    process whose memory is the VM's) or ``helper`` (UI, backend, file sharing, port
    forwarding)."""

    role: Role
    name: str
    argv: str = ""
    #: only the process that serves the engine's endpoint (Linux dockerd)
    serving: bool = False


_QEMU = r"qemu-system-[\w-]+"
#: macOS Virtualization.framework runs every VZ guest in one of these XPC processes; with
#: several VZ-based products running at once they all count
_VZ = Rule("vm", r"com\.apple\.Virtualization\.VirtualMachine")
_WSL_VM = Rule("vm", r"vmmem(WSL)?")  # the WSL2 VM: every running distro, not only Docker's
_DESKTOP = (
    # backend, build, virtualization, vpnkit, ...; not the root-owned network helper
    # com.docker.vmnetd, which a user cannot read (it would make every figure absent)
    Rule("helper", r"com\.docker\.(?!vmnetd\b)[\w.-]+"),
    Rule("helper", r"Docker( Desktop)?( Helper.*)?"),
    Rule("helper", r"vpnkit"),
)
_LINUX_ENGINE = (
    Rule("engine", "dockerd", serving=True),
    Rule("engine", "containerd"),
    Rule("engine", r"containerd-shim[\w-]*", r"-namespace moby\b"),
    Rule("engine", "docker-proxy"),
)

#: platform id -> the rows that find its engine's processes on the host.
PROCESSES: Mapping[str, tuple[Rule, ...]] = {
    "linux-native": _LINUX_ENGINE,
    # crossdock inside the distro sees the engine itself; on Windows, the WSL VM
    "wsl2-engine": (*_LINUX_ENGINE, _WSL_VM),
    "linux-vm": (
        Rule("vm", _QEMU, r"{workdir}|hostfwd=tcp:(127\.0\.0\.1)?:{port}-"),
        Rule("helper", "virtiofsd", r"{workdir}|{vm_dirs}"),
        Rule("helper", "ssh", r"{workdir}|{vm_dirs}"),
    ),
    "lima": (
        Rule("vm", _QEMU, r"[/\\]\.lima[/\\]"),
        _VZ,
        Rule("helper", "limactl"),
        Rule("helper", "ssh", r"[/\\]\.lima[/\\]"),
        Rule("helper", "virtiofsd", r"[/\\]\.lima[/\\]"),
    ),
    "colima": (
        Rule("vm", _QEMU, r"[/\\]\.colima[/\\]"),
        _VZ,
        Rule("helper", "colima"),
        Rule("helper", "limactl", r"colima"),
        Rule("helper", "ssh", r"[/\\]\.colima[/\\]"),
    ),
    "docker-desktop-mac": (
        Rule("vm", r"com\.docker\.(hyperkit|krun)"),
        _VZ,
        Rule("vm", _QEMU, r"[Dd]ocker"),
        *_DESKTOP,
    ),
    "docker-desktop-linux": (
        Rule("vm", _QEMU, r"[Dd]ocker"),
        Rule("helper", "virtiofsd", r"[Dd]ocker"),
        *_DESKTOP,
    ),
    "docker-desktop-windows-wsl2": (_WSL_VM, Rule("helper", r"wsl(service|host)"), *_DESKTOP),
    "docker-desktop-windows-hyperv": (Rule("vm", r"vmmem|vmwp"), *_DESKTOP),
    "docker-desktop-windows": (
        Rule("vm", r"vmmem(WSL)?|vmwp"),
        Rule("helper", r"wsl(service|host)"),
        *_DESKTOP,
    ),
    "orbstack": (Rule("vm", "OrbStack Helper"), Rule("helper", r"OrbStack|orbstack[\w-]*")),
    "rancher-desktop": (
        Rule("vm", _QEMU, r"rancher-desktop|[/\\]lima[/\\]"),
        _VZ,
        _WSL_VM,
        Rule("helper", "limactl"),
        Rule("helper", r"Rancher Desktop( Helper.*)?|rancher-desktop"),
    ),
    "podman": (
        Rule("engine", "podman"),
        Rule("engine", "conmon"),
        Rule("vm", _QEMU, r"podman"),
        Rule("vm", r"vfkit|krunkit"),
        _WSL_VM,
        Rule("helper", r"gvproxy|win-sshproxy"),
    ),
    "windows-containers": (
        Rule("engine", "dockerd"),
        Rule("engine", "containerd"),
        Rule("engine", r"containerd-shim-runhcs-v1"),
        Rule("helper", "vmcompute"),  # the Host Compute Service behind every container
        Rule("vm", "vmmem"),  # Hyper-V isolated containers only
    ),
}

#: platform id -> why its engine's processes cannot be measured from this host.
NOT_HERE: Mapping[str, str] = {
    "linux-remote": "the engine runs on another machine: its processes are not on this host",
    "dind": "the engine runs inside a container: its processes are that container's",
    "unknown": "the platform is unknown, so which host processes are the engine's is too",
}


@dataclass(frozen=True)
class Proc:
    """A process as the table reads it: its parent, name and command line."""

    pid: int
    ppid: int
    name: str
    argv: tuple[str, ...]
    created: float  # seconds since the epoch, as the OS says


@dataclass(frozen=True)
class Where:
    """What the rows' placeholders stand for in one run, and which process serves the
    engine's endpoint (None when unknown)."""

    workdir: str
    port: int | None = None
    serving_pid: int | None = None


@dataclass(frozen=True)
class Matched:
    """A process of the engine: which one and in what role."""

    proc: Proc
    role: Role

    @property
    def key(self) -> tuple[int, float]:
        """(pid, start time): a pid the OS reuses is another process."""
        return (self.proc.pid, self.proc.created)

    @property
    def label(self) -> str:
        return f"{self.proc.name} (pid {self.proc.pid})"


def rules_for(platform_id: str) -> tuple[Rule, ...] | str:
    """The rows for *platform_id*, or why its engine cannot be measured from this host."""
    if platform_id in PROCESSES:
        return PROCESSES[platform_id]
    return NOT_HERE.get(platform_id, f"no process table for platform {platform_id!r}")


def match(rules: Sequence[Rule], procs: Iterable[Proc], where: Where) -> list[Matched]:
    """The processes of *procs* the *rules* say are the engine's (see module docstring),
    each in the role of the first row that takes it; container processes left out."""
    table = {p.pid: p for p in procs}
    excluded = _container_processes(table)
    found: dict[int, Matched] = {}
    values = {"workdir": _workdir(where.workdir), "port": _port(where.port), "vm_dirs": "(?!)"}
    for rule in rules:  # rows in order: a VM row fills {vm_dirs} for the helpers after it
        name = re.compile(rule.name, re.IGNORECASE)
        argv = re.compile(rule.argv.format(**values)) if rule.argv else None
        for proc in table.values():
            if proc.pid in found or proc.pid in excluded:
                continue
            if not any(name.fullmatch(n) for n in _names(proc)):
                continue
            if argv is not None and not argv.search(" ".join(proc.argv)):
                continue
            if rule.serving and where.serving_pid is not None and proc.pid != where.serving_pid:
                continue
            found[proc.pid] = Matched(proc, rule.role)
        values["vm_dirs"] = _dirs_of([m.proc for m in found.values() if m.role == "vm"])
    return list(found.values())


def _bare(name: str) -> str:
    return name[:-4] if name.lower().endswith(".exe") else name


def _names(proc: Proc) -> tuple[str, ...]:
    """What a process is called: its name, and its executable's (QEMU's ``-name
    ...,process=NAME`` renames the process but not its executable)."""
    exe = _bare(PurePath(proc.argv[0].replace("\\", "/")).name) if proc.argv else ""
    return (_bare(proc.name), exe) if exe else (_bare(proc.name),)


def _workdir(workdir: str) -> str:
    """A regex for crossdock's work directory or a sibling named after it (where
    crossdock's VM keeps its disk, sockets and pidfile: ``~/.cache/crossdock-vm``)."""
    return re.escape(workdir.rstrip("/\\")) + r"(?:-[\w.]+)?(?=[/\\,\s]|$)"


def _port(port: int | None) -> str:
    return str(port) if port is not None else "(?!)"  # (?!) never matches


def _container_processes(table: Mapping[int, Proc]) -> set[int]:
    """Pids below a containerd shim: the containers' own processes."""
    shims = {pid for pid, p in table.items() if _bare(p.name).startswith("containerd-shim")}
    below: set[int] = set()
    for pid in table:
        seen: set[int] = set()
        parent = table[pid].ppid
        while parent in table and parent not in seen:
            if parent in shims:
                below.add(pid)
                break
            seen.add(parent)
            parent = table[parent].ppid
    return below


_PATH_ARGS = re.compile(r"\b(?:path|file|socket|pidfile)=(/[^,\s]+)")


def _dirs_of(vms: Sequence[Proc]) -> str:
    """A regex matching the folders of the files the VM processes name (``path=``,
    ``file=``, ``-pidfile X``), or one that never matches."""
    dirs: set[str] = set()
    for proc in vms:
        for i, arg in enumerate(proc.argv):
            previous = proc.argv[i - 1] if i else ""
            if previous in ("-pidfile", "-kernel", "-initrd") and arg.startswith("/"):
                dirs.add(str(PurePath(arg).parent))
            for part in arg.split(","):
                found = _PATH_ARGS.search(part)
                if found:
                    dirs.add(str(PurePath(found.group(1)).parent))
    dirs -= {"/", "/usr", "/usr/bin", "/usr/lib", "/usr/share", "/dev", "/proc", "/sys"}
    return "|".join(re.escape(d) + r"[/\\]" for d in sorted(dirs)) or "(?!)"


@dataclass
class Reading:
    """One poll: per engine process, resident bytes and CPU seconds so far; who refused."""

    rss: dict[tuple[int, float], int] = field(default_factory=dict)
    cpu: dict[tuple[int, float], float] = field(default_factory=dict)
    roles: dict[tuple[int, float], Role] = field(default_factory=dict)
    names: dict[tuple[int, float], str] = field(default_factory=dict)
    denied: dict[str, str] = field(default_factory=dict)
    #: proportional set sizes (shared pages split between their sharers), when asked for
    pss: dict[tuple[int, float], int] = field(default_factory=dict)
    #: why the PSS of this reading is incomplete, when it is
    pss_missing: str | None = None


class Poller:
    """Finds the engine's processes and reads them, poll after poll. Only processes new
    since the last poll are looked at in full (name, command line), so a poll costs a
    directory listing and a few reads."""

    def __init__(self, rules: Sequence[Rule], where: Where) -> None:
        self._rules = tuple(rules)
        self._where = where
        self._known: dict[int, Proc] = {}

    def processes(self) -> list[Matched]:
        """The engine's processes now."""
        pids = set(psutil.pids())
        for gone in set(self._known) - pids:
            del self._known[gone]
        for pid in pids - set(self._known):
            proc = _inspect(pid)
            if proc is not None:
                self._known[pid] = proc
        return match(self._rules, self._known.values(), self._where)

    def read(self, *, pss: bool = False) -> Reading:
        """Resident memory and CPU time of each engine process now (a shim's reaped
        children included in its CPU time); a process that refuses is named in
        ``denied``, one that ended meanwhile is left out. With *pss*, also each one's
        proportional set size (Linux only; it costs a read of ``smaps_rollup`` each)."""
        reading = Reading()
        if pss and not hasattr(psutil.Process, "memory_full_info"):
            pss = False
        if pss and not psutil.LINUX:
            reading.pss_missing = "the proportional set size is a Linux figure"
            pss = False
        for found in self.processes():
            try:
                process = psutil.Process(found.proc.pid)
                with process.oneshot():
                    rss = int(process.memory_info().rss)
                    times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            except psutil.AccessDenied:
                reading.denied[found.label] = "access denied"
                continue
            cpu = times.user + times.system
            if _bare(found.proc.name).startswith("containerd-shim"):
                cpu += times.children_user + times.children_system
            if pss:
                self._read_pss(found, reading)
            reading.rss[found.key] = rss
            reading.cpu[found.key] = cpu
            reading.roles[found.key] = found.role
            reading.names[found.key] = _bare(found.proc.name)
        return reading

    @staticmethod
    def _read_pss(found: Matched, reading: Reading) -> None:
        try:
            reading.pss[found.key] = int(psutil.Process(found.proc.pid).memory_full_info().pss)
        except psutil.NoSuchProcess:
            return
        except psutil.AccessDenied:
            reading.pss_missing = f"{found.label} refused its memory map (smaps_rollup)"


def _inspect(pid: int) -> Proc | None:
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            name, ppid, created = process.name(), process.ppid(), process.create_time()
        try:
            argv = tuple(process.cmdline())
        except psutil.AccessDenied:
            argv = ()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    return Proc(pid, ppid, name, argv, created)
