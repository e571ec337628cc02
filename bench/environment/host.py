"""Facts about the host the harness runs on (DESIGN 3.2 ``host`` section)."""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform as pyplatform
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any


def host_os() -> str:
    """``linux``, ``darwin`` or ``windows`` (the OS the harness and the docker CLI run on)."""
    return sys.platform if sys.platform in ("linux", "darwin") else "windows"


def kernel_release() -> str:
    """This host's kernel release, as ``uname -r`` prints it (what an engine running on this
    kernel reports as its ``KernelVersion``)."""
    return pyplatform.release()


def boot_id() -> str | None:
    """This boot of this host's kernel (Linux ``/proc/sys/kernel/random/boot_id``; a
    container on the same kernel reads the same value). ``None`` where it cannot be read."""
    return _read("/proc/sys/kernel/random/boot_id")


def socket_server(path: str) -> tuple[int, str] | None:
    """(pid, command name) of the process serving the unix socket at *path*, as this
    kernel's ``SO_PEERCRED`` names it. ``None`` when that cannot be read: no such socket,
    no ``SO_PEERCRED`` (macOS, Windows), or a server in a pid namespace this one cannot see."""
    peercred = getattr(socket, "SO_PEERCRED", None)
    if peercred is None or not hasattr(socket, "AF_UNIX"):
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(path)
            pid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, peercred, 12))[0]
    except (OSError, struct.error):
        return None
    command = _read(f"/proc/{pid}/comm") if pid > 0 else None
    return (pid, command) if command else None


def in_wsl() -> bool:
    """Whether the harness runs inside a WSL distro (the kernel says "microsoft")."""
    try:
        return "microsoft" in Path("/proc/version").read_text(encoding="utf-8").lower()
    except OSError:
        return False


def host_id() -> str:
    """This machine, as results and labels name it: a hash of its host name."""
    return hash_hostname(socket.gethostname())


def hash_hostname(name: str) -> str:
    """A host name as results files carry it: hashed, since they are shared publicly."""
    return hashlib.sha256(name.encode()).hexdigest()[:12]


def alive(pid: int) -> bool:
    """Whether process *pid* exists on this machine (unsure counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but not ours (EPERM), or cannot tell: never treat as gone
    return True


def hypervisor_problem() -> str | None:
    """On macOS, why no Linux VM (so no Linux container) can run here: Apple-silicon CI
    runners have no nested virtualization (``kern.hv_support`` is 0). ``None`` elsewhere or
    when the hypervisor is available."""
    if host_os() != "darwin":
        return None
    support = _command(["sysctl", "-n", "kern.hv_support"])
    if support == "0":
        return (
            "no-nested-virtualization: this Mac offers no hypervisor (kern.hv_support = 0), "
            "so no Linux VM and no Linux containers can run here"
        )
    return None


def facts() -> dict[str, Any]:
    """The host record stored in every results file."""
    return {
        "os": host_os(),
        "os_version": _os_version(),
        "kernel": pyplatform.release(),
        "arch": pyplatform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        # a hash, not the name: results files are shared publicly
        "hostname_hash": host_id(),
        "python": pyplatform.python_version(),
        "wsl": in_wsl(),
        "wsl_version": wsl_version(_read("/proc/version")),
        "cpu_governor": _cpu_governor(),
        "on_battery": on_battery(),
    }


def wsl_version(proc_version: str | None) -> int | None:
    """1 or 2 inside a WSL distro, from its ``/proc/version`` ("...-microsoft-standard-WSL2"
    for WSL 2, "...-Microsoft" for WSL 1); ``None`` elsewhere."""
    if not proc_version or "microsoft" not in proc_version.lower():
        return None
    return 2 if "wsl2" in proc_version.lower() or "microsoft-standard" in proc_version else 1


def on_battery() -> bool | None:
    """Whether the machine runs on battery (laptops throttle then); ``None`` when it cannot
    be told cheaply. Linux: the power-supply class; macOS: ``pmset -g batt``."""
    if host_os() == "darwin":
        out = _command(["pmset", "-g", "batt"])
        return None if out is None else "Battery Power" in out
    supplies = list(Path("/sys/class/power_supply").glob("*"))
    mains = [s for s in supplies if _read(s / "type") == "Mains"]
    if not mains:
        return None
    return not any(_read(s / "online") == "1" for s in mains)


def _read(path: str | Path) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _os_version() -> str:
    if host_os() == "linux":
        try:
            for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
        except OSError:
            pass
    if host_os() == "darwin":
        return f"macOS {pyplatform.mac_ver()[0]}"
    return pyplatform.platform(terse=True)


def _cpu_model() -> str | None:
    if host_os() == "linux":
        try:
            for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
        except OSError:
            return None
    if host_os() == "darwin":
        return _command(["sysctl", "-n", "machdep.cpu.brand_string"])
    return pyplatform.processor() or None


def _memory_bytes() -> int | None:
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    if host_os() == "darwin":
        value = _command(["sysctl", "-n", "hw.memsize"])
        return int(value) if value and value.isdigit() else None
    if host_os() == "windows":
        return _windows_memory()
    return None


def _windows_memory() -> int | None:
    class MemoryStatus(ctypes.Structure):
        _fields_ = [
            ("length", ctypes.c_ulong),
            ("load", ctypes.c_ulong),
            ("total_phys", ctypes.c_ulonglong),
            ("avail_phys", ctypes.c_ulonglong),
            ("total_page", ctypes.c_ulonglong),
            ("avail_page", ctypes.c_ulonglong),
            ("total_virtual", ctypes.c_ulonglong),
            ("avail_virtual", ctypes.c_ulonglong),
            ("avail_extended", ctypes.c_ulonglong),
        ]

    status = MemoryStatus()
    status.length = ctypes.sizeof(MemoryStatus)
    kernel32 = getattr(ctypes, "windll", None)
    if kernel32 is None or not kernel32.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
        return None
    return int(status.total_phys)


def _cpu_governor() -> str | None:
    path = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _command(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
