"""The footprint kind's process table and its window arithmetic, without an engine.

The Linux process list is a real capture (``fixtures/proc/processes-linux-native.json``,
its ``how`` says how it was taken): dockerd, its containerd and shims, and a container
whose process is named ``dockerd``. The reference VM's command lines are those its
``boot.sh`` starts (qemu with a user-network port forward and a virtiofsd socket); a
real QEMU process (no machine, paused) and virtiofsd are found and read live. For
macOS and Windows no captured process list was found: the names used there are the
process names quoted in the public reports cited beside each test, matched one by one;
the table's rows for those systems are otherwise untested here.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from bench.environment import hostside
from bench.environment.hostside import Proc, Reading, Where
from bench.environment.platform import PLATFORM_IDS
from bench.workloads.footprint import summarise

CAPTURE = Path(__file__).parent / "fixtures" / "proc" / "processes-linux-native.json"
WORKDIR = "/root/.cache/crossdock"


def captured() -> tuple[list[Proc], int, int]:
    data = json.loads(CAPTURE.read_text())
    procs = [
        Proc(p["pid"], p["ppid"], p["name"], tuple(p["argv"]), p["created"])
        for p in data["processes"]
    ]
    return procs, data["serving_pid"], data["container_pid"]


def names(found: list[hostside.Matched]) -> dict[str, set[str]]:
    roles: dict[str, set[str]] = {}
    for m in found:
        roles.setdefault(m.role, set()).add(m.proc.name)
    return roles


def test_every_platform_id_has_a_table_or_a_reason_and_every_row_compiles() -> None:
    assert set(hostside.PROCESSES) | set(hostside.NOT_HERE) == set(PLATFORM_IDS)
    assert not set(hostside.PROCESSES) & set(hostside.NOT_HERE)
    values = {"workdir": re.escape(WORKDIR), "port": "2375", "vm_dirs": "(?!)"}
    for rules in hostside.PROCESSES.values():
        for rule in rules:
            re.compile(rule.name)
            re.compile(rule.argv.format(**values))
    assert hostside.rules_for("linux-remote") == hostside.NOT_HERE["linux-remote"]


def test_the_linux_engine_is_dockerd_its_containerd_and_shims_never_a_container() -> None:
    procs, serving, container = captured()
    found = hostside.match(hostside.PROCESSES["linux-native"], procs, Where(WORKDIR, None, serving))
    roles = names(found)
    assert set(roles) == {"engine"}
    assert {"dockerd", "containerd", "containerd-shim-runc-v2"} <= roles["engine"]
    pids = [m.proc.pid for m in found]
    assert serving in pids and container not in pids  # the container's "dockerd" is not
    assert len(pids) == len(set(pids))
    # the shims are all dockerd's (namespace moby) and nothing below them is counted
    shims = [m for m in found if m.proc.name.startswith("containerd-shim")]
    assert shims and all("moby" in m.proc.argv for m in shims)
    below = {p.pid for p in procs if p.ppid in {s.proc.pid for s in shims}}
    assert not below & set(pids)


def test_without_knowing_the_serving_dockerd_a_container_process_still_does_not_count() -> None:
    procs, _, container = captured()
    found = hostside.match(hostside.PROCESSES["linux-native"], procs, Where(WORKDIR))
    assert container not in [m.proc.pid for m in found]
    assert "dockerd" in names(found)["engine"]


def test_a_vm_engine_takes_none_of_the_hosts_own_engine_processes() -> None:
    procs, _, _ = captured()
    assert hostside.match(hostside.PROCESSES["linux-vm"], procs, Where(WORKDIR, 2375)) == []


def reference_vm(w: str, port: int) -> list[Proc]:
    """The processes the reference VM's boot.sh starts, as their command lines read."""
    qemu = (
        f"qemu-system-x86_64 -name vmspike -machine q35 -accel tcg,thread=multi,tb-size=512 "
        f"-cpu max -smp 2 -m 2048 -object memory-backend-memfd,id=mem,size=2048M,share=on "
        f"-numa node,memdev=mem -kernel vmlinuz -initrd initrd.img "
        f"-append root=/dev/vda rw console=ttyS0 quiet apparmor=0 "
        f"-drive file={w}/disk.raw,format=raw,if=virtio,discard=unmap "
        f"-netdev user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:2375 "
        f"-device virtio-net-pci,netdev=n0 -chardev socket,id=char0,path={w}/vfs.sock "
        f"-device vhost-user-fs-pci,chardev=char0,tag=hostshare "
        f"-virtfs local,path={w}/share9p,mount_tag=share9p,security_model=passthrough,id=fs9p "
        f"-display none -serial file:{w}/console.log -monitor unix:{w}/mon.sock,server,nowait "
        f"-daemonize -pidfile {w}/qemu.pid"
    ).split()
    virtiofsd = [
        "/usr/lib/qemu/virtiofsd",
        f"--socket-path={w}/vfs.sock",
        "-o",
        f"source={w}/share",
        "-o",
        "cache=auto",
        "-o",
        "xattr",
    ]
    return [
        Proc(9001, 1, "qemu-system-x86_64", tuple(qemu), 1.0),
        Proc(9000, 1, "virtiofsd", tuple(virtiofsd), 1.0),
    ]


def test_the_reference_vm_is_found_by_its_forwarded_port_and_its_virtiofsd_by_its_socket() -> None:
    procs, _, _ = captured()
    vm = reference_vm("/home/u/vm-engine-ref", 23750)
    found = hostside.match(hostside.PROCESSES["linux-vm"], [*procs, *vm], Where(WORKDIR, 23750))
    assert {(m.proc.pid, m.role) for m in found} == {(9001, "vm"), (9000, "helper")}
    # another port and another folder: another VM, not this engine's
    assert hostside.match(hostside.PROCESSES["linux-vm"], vm, Where(WORKDIR, 23751)) == []


def test_crossdocks_own_vm_is_found_by_the_work_directory_whatever_its_endpoint() -> None:
    for folder in (f"{WORKDIR}/vm", f"{WORKDIR}-vm"):  # inside it, or the sibling
        vm = reference_vm(folder, 40123)
        found = hostside.match(hostside.PROCESSES["linux-vm"], vm, Where(WORKDIR, None))
        assert {(m.proc.pid, m.role) for m in found} == {(9001, "vm"), (9000, "helper")}
    # a folder whose name merely starts like it is not crossdock's
    other = reference_vm(f"{WORKDIR}2/vm", 40123)
    assert hostside.match(hostside.PROCESSES["linux-vm"], other, Where(WORKDIR, None)) == []


@pytest.mark.parametrize(
    ("platform_id", "name", "role"),
    [
        # docker/for-mac#5397 and apple/container#1921: Virtualization.framework's VM process
        ("docker-desktop-mac", "com.apple.Virtualization.VirtualMachine", "vm"),
        # docker/for-mac#3232: the HyperKit VM of older Docker Desktop for Mac
        ("docker-desktop-mac", "com.docker.hyperkit", "vm"),
        ("docker-desktop-mac", "com.docker.backend", "helper"),
        # docker/for-win#13589: the backend on Windows, with its .exe
        ("docker-desktop-windows-wsl2", "com.docker.backend.exe", "helper"),
        # microsoft/WSL#9812: the WSL2 VM's memory
        ("docker-desktop-windows-wsl2", "vmmemWSL", "vm"),
        ("docker-desktop-windows", "vmmem", "vm"),
        # orbstack/orbstack#1758: the helper that holds OrbStack's VM
        ("orbstack", "OrbStack Helper", "vm"),
        ("orbstack", "OrbStack", "helper"),
    ],
)
def test_desktop_process_names_from_public_reports_are_found(
    platform_id: str, name: str, role: str
) -> None:
    proc = Proc(500, 1, name, (), 1.0)
    (found,) = hostside.match(hostside.PROCESSES[platform_id], [proc], Where(WORKDIR))
    assert found.role == role


def test_docker_desktops_root_owned_network_helper_is_left_out() -> None:
    vmnetd = Proc(501, 1, "com.docker.vmnetd", (), 1.0)
    assert hostside.match(hostside.PROCESSES["docker-desktop-mac"], [vmnetd], Where(WORKDIR)) == []


def test_lima_and_colima_vms_are_told_apart_by_their_folders() -> None:
    lima = Proc(1, 0, "qemu-system-aarch64", ("qemu-system-aarch64", "-pidfile",
                "/Users/u/.lima/default/qemu.pid"), 1.0)  # fmt: skip
    colima = Proc(2, 0, "qemu-system-aarch64", ("qemu-system-aarch64", "-pidfile",
                  "/Users/u/.colima/_lima/colima/qemu.pid"), 1.0)  # fmt: skip
    assert [m.proc.pid for m in hostside.match(hostside.PROCESSES["lima"], [lima, colima],
                                               Where(WORKDIR))] == [1]  # fmt: skip
    assert [m.proc.pid for m in hostside.match(hostside.PROCESSES["colima"], [lima, colima],
                                               Where(WORKDIR))] == [2]  # fmt: skip


def reading(rows: dict[tuple[int, float], tuple[int, float]]) -> Reading:
    r = Reading()
    for key, (rss, cpu) in rows.items():
        r.rss[key], r.cpu[key], r.roles[key], r.names[key] = rss, cpu, "engine", f"p{key[0]}"
    return r


def test_the_window_takes_the_peak_memory_and_the_cpu_used_in_it() -> None:
    started = 100.0
    old, born = (1, 50.0), (2, 101.0)  # running before the window; born in it
    last = reading({old: (1100, 10.8)})  # the newborn ended after 0.2 s of CPU
    last.pss[old] = 700
    polls = [
        (0.0, reading({old: (1000, 10.0)})),
        (1.0, reading({old: (1000, 10.5), born: (500, 0.2)})),
        (2.0, last),
    ]
    values, absent, by_role = summarise(polls, started)
    assert values["host_rss"] == 1500.0  # the poll with both, not the last one
    assert values["host_pss"] == 700.0  # read at the end of the window
    assert by_role == {"engine": 1500}
    assert values["host_cpu"] == pytest.approx(100.0 * (0.8 + 0.2) / 2.0)
    assert absent == {}
    last.pss_missing = "the proportional set size is a Linux figure"
    values, absent, _ = summarise(polls, started)
    assert "host_pss" not in values and absent == {"host_pss": last.pss_missing}


def test_a_process_that_refuses_makes_both_metrics_absent_with_its_name() -> None:
    denied = reading({(1, 1.0): (1000, 1.0)})
    denied.denied["vmmem (pid 4242)"] = "access denied"
    values, absent, _ = summarise([(0.0, reading({(1, 1.0): (1000, 1.0)})), (1.0, denied)], 0.0)
    assert values == {}
    assert set(absent) == {"host_rss", "host_pss", "host_cpu"}
    assert "vmmem (pid 4242): access denied" in absent["host_rss"]


def test_a_window_without_the_engines_processes_measures_nothing() -> None:
    values, absent, _ = summarise([(0.0, Reading()), (1.0, Reading())], 0.0)
    assert values == {} and "no process" in absent["host_cpu"]


@pytest.fixture
def live_vm(tmp_path: Path) -> Iterator[tuple[Path, list[int]]]:
    """A real QEMU process laid out as crossdock's VM (its files in ``crossdock-vm``
    beside the work directory, renamed by ``process=``, a virtiofsd on its socket), with
    no machine to run: (the work directory, [qemu pid, virtiofsd pid])."""
    qemu, virtiofsd = shutil.which("qemu-system-x86_64"), Path("/usr/lib/qemu/virtiofsd")
    if qemu is None or not virtiofsd.is_file():
        pytest.skip("needs qemu-system-x86_64 and /usr/lib/qemu/virtiofsd (qemu-system-x86)")
    workdir, vm = tmp_path / "crossdock", tmp_path / "crossdock-vm"
    (vm / "share").mkdir(parents=True)
    workdir.mkdir()
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(
            subprocess.Popen(
                [str(virtiofsd), f"--socket-path={vm}/vfs.sock", "-o", f"source={vm}/share"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        for _ in range(100):
            if (vm / "vfs.sock").exists():
                break
            time.sleep(0.05)
        started.insert(
            0,
            subprocess.Popen(
                [
                    qemu,
                    "-name",
                    "crossdock-test,process=crossdock-test",
                    "-machine",
                    "none",
                    "-S",
                    "-nodefaults",
                    "-display",
                    "none",
                    "-m",
                    "16",
                    "-chardev",
                    f"socket,id=c0,path={vm}/vfs.sock",
                    "-pidfile",
                    f"{vm}/qemu.pid",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        )
        for _ in range(200):  # until QEMU is up and virtiofsd has forked for it
            if (vm / "qemu.pid").exists() and psutil.Process(started[1].pid).children():
                break
            time.sleep(0.05)
        yield workdir, [started[0].pid, started[1].pid]
    finally:
        children = [] if len(started) < 2 else psutil.Process(started[-1].pid).children()
        for process in started:
            process.terminate()
            process.wait(timeout=10)
        for child in children:  # virtiofsd's sandboxed half, once QEMU connected
            with contextlib.suppress(psutil.NoSuchProcess):
                child.terminate()
                child.wait(timeout=10)


def test_a_running_vm_and_its_virtiofsd_are_found_and_read(
    live_vm: tuple[Path, list[int]],
) -> None:
    workdir, (qemu, virtiofsd) = live_vm
    poller = hostside.Poller(hostside.PROCESSES["linux-vm"], Where(str(workdir)))
    found = {m.proc.pid: m for m in poller.processes()}
    assert found[qemu].role == "vm" and found[qemu].proc.name == "crossdock-test"
    helpers = {virtiofsd, *(c.pid for c in psutil.Process(virtiofsd).children())}
    assert {pid for pid, m in found.items() if m.role == "helper"} == helpers
    reading = poller.read()
    (key,) = [k for k in reading.rss if k[0] == qemu]
    assert reading.rss[key] == pytest.approx(vm_rss(qemu), rel=0.1)
    end = poller.read(pss=True)
    values, absent, by_role = summarise([(0.0, reading), (1.0, end)], 0.0)
    assert absent == {} and set(by_role) == {"vm", "helper"}
    assert values["host_rss"] >= vm_rss(qemu)
    # shared pages are split between their sharers: the PSS sum is at most the RSS sum
    assert 0 < values["host_pss"] <= sum(end.rss.values())


def vm_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")
