"""Boot, reach and stop the reference VM.

``up`` builds the image once (:func:`build`), then starts three host processes, each
recorded by pid in the run directory: ``virtiofsd`` serving the work directory, QEMU
(KVM when ``/dev/kvm`` can run the guest, else software emulation, TCG), and an ``ssh``
that forwards the guest's ``/run/docker.sock`` to a unix socket on the host. The guest's
ssh port is forwarded to 127.0.0.1 only and takes only the key made for it, checking the
host key read from the image. A docker context :data:`~bench.vm.layout.CONTEXT` points at
the forwarded socket. ``down`` powers the guest off, ends what is left by its recorded
pid (only a process whose command line names the VM's directory) and removes the context.
An interrupted ``up`` ends as ``down``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import docker

from bench.errors import CrossdockError
from bench.provision import processes
from bench.provision.context import alt_root, work_root
from bench.provision.processes import free_port
from bench.vm.context import create_context, remove_context
from bench.vm.layout import CONTEXT, Layout, State, vm_root

Progress = Callable[[str], None]
#: host tools the VM needs, and the Debian packages that have them
TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "mmdebstrap": "mmdebstrap",
    "mkfs.ext4": "e2fsprogs",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}
VIRTIOFSD = ("/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd", "/usr/lib/virtiofsd")
MEMORY_MIB = 2048
#: how long a boot may take before ``up`` gives up (TCG boots take about a minute idle)
BOOT_TIMEOUT = 900.0
POWEROFF_TIMEOUT = 90.0
PROCESSES = ("ssh", "qemu", "virtiofsd")


class VMError(CrossdockError):
    """The VM could not be built, started or reached; the message says what to do."""


@dataclass(frozen=True)
class Status:
    """Which of the VM's processes run, and whether its engine answers."""

    running: dict[str, int]
    engine: bool
    state: State | None

    @property
    def up(self) -> bool:
        return self.engine and set(self.running) == set(PROCESSES)

    def lines(self) -> list[str]:
        """What ``crossdock vm status`` prints."""
        if not self.running:
            return [f"{CONTEXT}: not running"]
        state = self.state
        lines = [f"{CONTEXT}: {'up' if self.up else 'partly up'} ({state.accel if state else '?'})"]
        lines += [f"  {name}: pid {pid}" for name, pid in self.running.items()]
        lines.append(f"  engine: {'answers' if self.engine else 'does not answer'}")
        if state:
            lines.append(f"  shares: {state.workdir} (virtiofs), {state.altdir} (9p)")
        return lines


def layout() -> Layout:
    return Layout(vm_root())


def accelerator() -> tuple[str, str]:
    """``("kvm" | "tcg", why)``: KVM when ``/dev/kvm`` can run a stock Debian kernel."""
    if Path("/sys/module/kvm_pvm").exists():
        return "tcg", (
            "/dev/kvm is a PVM hypervisor, which runs only PVM-enabled guest kernels: "
            "software emulation (TCG), slow"
        )
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg", "no usable /dev/kvm: software emulation (TCG), slow"
    return "kvm", "hardware virtualization (KVM)"


def missing_tools() -> list[str]:
    """The Debian packages to install for the tools the VM needs that are not here."""
    missing = {pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None}
    if _virtiofsd() is None:
        missing.add("qemu-system-common")
    return sorted(missing)


def _virtiofsd() -> str | None:
    return next((p for p in VIRTIOFSD if os.access(p, os.X_OK)), shutil.which("virtiofsd"))


def _preflight(need_build: bool) -> None:
    missing = missing_tools()
    if missing:
        raise VMError(
            "the VM needs tools that are not installed: "
            f"apt-get install -y {' '.join(missing)} (Debian/Ubuntu)"
        )
    if os.geteuid() != 0:
        step = "build the image and serve the shares" if need_build else "serve the shares"
        raise VMError(
            f"the VM needs root to {step}: run `crossdock vm up` as root, and the runs "
            "that use it too (they must share its work directory)"
        )


def build(lay: Layout, progress: Progress) -> None:
    """Build the image into ``lay.image`` from Debian packages (``build.sh``)."""
    _preflight(need_build=True)
    lay.root.mkdir(parents=True, exist_ok=True)
    _ensure_key(lay)
    started = time.monotonic()
    with resources.as_file(_script()) as path:
        proc = subprocess.Popen(
            ["bash", str(path), str(lay.image), f"{lay.key}.pub"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        tail: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            tail = [*tail[-19:], line.rstrip()]
            if line.startswith("crossdock-vm:"):
                progress(line.removeprefix("crossdock-vm:").strip())
        code = proc.wait()
    if code != 0 or not lay.built():
        raise VMError("building the VM image failed:\n" + "\n".join(tail))
    lay.image_digest.write_text(script_digest() + "\n", encoding="utf-8")
    progress(f"image built in {time.monotonic() - started:.0f} s")


def _script() -> Traversable:
    return resources.files("bench.vm").joinpath("build.sh")


def script_digest() -> str:
    """The SHA-256 of ``build.sh``: an image built by another version is rebuilt."""
    return hashlib.sha256(_script().read_bytes()).hexdigest()


def current(lay: Layout) -> bool:
    """Whether *lay* holds a complete image built by this version of ``build.sh``, and the
    key its ``authorized_keys`` was made from."""
    try:
        digest = lay.image_digest.read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return lay.built() and lay.key.is_file() and digest == script_digest()


def _ensure_key(lay: Layout) -> None:
    if not lay.key.is_file():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", CONTEXT, "-f", str(lay.key)],
            check=True,
        )


def up(progress: Progress, *, rebuild: bool = False, lay: Layout | None = None) -> State:
    """Build the image if needed, boot the VM and wait until its engine answers through
    the forwarded socket; create the docker context. Interrupted or failed: ``down``."""
    lay = lay or layout()
    present = status(lay)
    if present.up and present.state and not rebuild:
        progress(f"already running ({present.state.accel})")
        return present.state
    if present.running:
        down(progress, lay)
    need_build = rebuild or not current(lay)
    _preflight(need_build=need_build)
    if need_build:
        if not rebuild and lay.built():
            progress("the image was built by another version of build.sh: building it anew")
        build(lay, progress)
    try:
        return _boot(lay, progress)
    except BaseException:
        progress("stopping what was started")
        down(progress, lay)
        raise


def _boot(lay: Layout, progress: Progress) -> State:
    accel, why = accelerator()
    workdir, altdir = work_root(), alt_root()
    for folder in (workdir, altdir):
        if any(c.isspace() for c in str(folder)):
            raise VMError(f"the VM cannot share {folder}: the path holds white space")
        folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(lay.run, ignore_errors=True)
    lay.run.mkdir(parents=True)
    port = free_port("127.0.0.1")
    pids: dict[str, int] = {}
    vfs_sock = lay.run_file("virtiofsd.sock")
    pids["virtiofsd"] = _spawn(
        [
            str(_virtiofsd()),
            f"--socket-path={vfs_sock}",
            "-o",
            f"source={workdir}",
            "-o",
            "cache=auto",
        ],
        lay.run_file("virtiofsd.log"),
    )
    _wait_for(vfs_sock.exists, 10, "virtiofsd did not create its socket", lay)
    state = State(port, accel, why, str(workdir), str(altdir), pids)
    state.save(lay.state_file)
    pids["qemu"] = _spawn(qemu_argv(lay, state), lay.run_file("qemu.log"))
    state.save(lay.state_file)
    progress(f"booting ({why}); the console is in {lay.run_file('console.log')}")
    started = time.monotonic()
    _wait_for(lambda: _ssh_ok(lay, port), BOOT_TIMEOUT, "the VM did not answer on ssh", lay)
    progress(f"guest up in {time.monotonic() - started:.0f} s; forwarding the engine socket")
    pids["ssh"] = _spawn(
        [
            *ssh_argv(lay, port),
            "-N",
            "-o",
            "ExitOnForwardFailure=yes",
            "-o",
            "StreamLocalBindUnlink=yes",
            "-L",
            f"{lay.docker_sock}:/run/docker.sock",
        ],
        lay.run_file("ssh.log"),
    )
    state.save(lay.state_file)
    _wait_for(lambda: _engine_answers(lay), 300, "the engine in the VM did not answer", lay)
    create_context(lay)
    progress(
        f"engine up in {time.monotonic() - started:.0f} s: docker context {CONTEXT!r} "
        f"(unix://{lay.docker_sock})"
    )
    return state


def qemu_argv(lay: Layout, state: State) -> list[str]:
    """QEMU's command line: the q35 machine, the image's kernel with the shares named on
    its command line, user networking with the guest's ssh on 127.0.0.1 only, the work
    directory through vhost-user-fs (virtiofs) and the second folder through 9p."""
    if state.accel == "kvm":
        accel = ["-accel", "kvm", "-cpu", "host"]
    else:
        accel = ["-accel", "tcg,thread=multi,tb-size=512", "-cpu", "max"]
    cpus = max(1, min(2, os.cpu_count() or 1))
    append = (
        "root=/dev/vda rw console=ttyS0 quiet apparmor=0 "
        f"crossdock.work={state.workdir} crossdock.alt={state.altdir}"
    )
    return [
        "qemu-system-x86_64",
        "-name",
        CONTEXT,
        "-machine",
        "q35",
        *accel,
        "-smp",
        str(cpus),
        "-m",
        str(MEMORY_MIB),
        "-object",
        f"memory-backend-memfd,id=mem,size={MEMORY_MIB}M,share=on",
        "-numa",
        "node,memdev=mem",
        "-kernel",
        str(lay.kernel),
        "-initrd",
        str(lay.initrd),
        "-append",
        append,
        "-drive",
        f"file={lay.disk},format=raw,if=virtio,discard=unmap",
        "-netdev",
        f"user,id=net0,hostfwd=tcp:127.0.0.1:{state.ssh_port}-:22",
        "-device",
        "virtio-net-pci,netdev=net0",
        "-chardev",
        f"socket,id=vfs,path={lay.run_file('virtiofsd.sock')}",
        "-device",
        "vhost-user-fs-pci,chardev=vfs,tag=crossdock-work",
        "-virtfs",
        f"local,path={state.altdir},mount_tag=crossdock-alt,security_model=passthrough,id=alt",
        "-display",
        "none",
        "-serial",
        f"file:{lay.run_file('console.log')}",
        "-monitor",
        f"unix:{lay.run_file('monitor.sock')},server,nowait",
    ]


def ssh_argv(lay: Layout, port: int) -> list[str]:
    """ssh to the guest's root with the VM's own key, the host key pinned to the image's."""
    known = lay.run_file("known_hosts")
    if not known.exists():
        key = lay.host_key.read_text(encoding="utf-8").split()
        known.write_text(f"{CONTEXT} {key[0]} {key[1]}\n", encoding="utf-8")
    return [
        "ssh",
        "-F",
        "none",
        "-i",
        str(lay.key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        f"UserKnownHostsFile={known}",
        "-o",
        "StrictHostKeyChecking=yes",
        f"-oHostKeyAlias={CONTEXT}",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "ServerAliveInterval=10",
        "-p",
        str(port),
        "root@127.0.0.1",
    ]


def down(progress: Progress, lay: Layout | None = None) -> list[str]:
    """Power the VM off (then end what is left of it by recorded pid), remove the run
    directory and the docker context. Returns what was stopped."""
    lay = lay or layout()
    state = State.load(lay.state_file)
    stopped: list[str] = []
    if state is not None:
        running = _running(lay, state)
        if "ssh" in running:
            _terminate(running["ssh"])
            stopped.append("ssh")
        if "qemu" in running:
            progress("powering the VM off")
            _poweroff(lay, state)
            if not _gone(running["qemu"], POWEROFF_TIMEOUT):
                progress(f"no power-off in {POWEROFF_TIMEOUT:.0f} s: ending QEMU")
                _terminate(running["qemu"])
            stopped.append("qemu")
        if "virtiofsd" in running:
            if not _gone(running["virtiofsd"], 5):
                _terminate(running["virtiofsd"])
            stopped.append("virtiofsd")
    shutil.rmtree(lay.run, ignore_errors=True)
    if remove_context(lay):
        stopped.append(f"context {CONTEXT}")
    return stopped


def status(lay: Layout | None = None) -> Status:
    """The VM's processes that run now and whether its engine answers."""
    lay = lay or layout()
    state = State.load(lay.state_file)
    running = _running(lay, state) if state else {}
    return Status(running, "ssh" in running and _engine_answers(lay), state)


def _poweroff(lay: Layout, state: State) -> None:
    """Ask the guest to power off: over ssh, else by the ACPI button on QEMU's monitor."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = processes.run([*ssh_argv(lay, state.ssh_port), "systemctl", "poweroff"], timeout=30)
        if done.code in (0, 255):  # 255: the connection closed as the guest went down
            return
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as mon:
        mon.settimeout(5)
        mon.connect(str(lay.run_file("monitor.sock")))
        mon.sendall(b"system_powerdown\n")
        time.sleep(0.5)


def _running(lay: Layout, state: State) -> dict[str, int]:
    """The recorded processes that still run and are the VM's (their command line names
    the VM's directory), by name."""
    found = {}
    for name, pid in state.pids.items():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(lay.root) in cmdline:
            found[name] = pid
    return found


def _terminate(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if not _gone(pid, 10):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _gone(pid, 5)


def _gone(pid: int, timeout: float) -> bool:
    """Wait up to *timeout* s for *pid* to end (and reap it if it is our child)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.2)
    return False


def _spawn(argv: list[str], log: Path) -> int:
    """Start a process that outlives ``crossdock vm up`` (its own session, output to *log*)."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
    return proc.pid


def _wait_for(check: Callable[[], bool], timeout: float, what: str, lay: Layout) -> None:
    deadline = time.monotonic() + timeout
    state = State.load(lay.state_file)
    while time.monotonic() < deadline:
        if check():
            return
        if state and "qemu" in state.pids and "qemu" not in _running(lay, state):
            raise VMError(f"QEMU exited; see {lay.run_file('qemu.log')}")
        time.sleep(1)
    raise VMError(f"{what} within {timeout:.0f} s; see {lay.run_file('console.log')}")


def _ssh_ok(lay: Layout, port: int) -> bool:
    try:
        return processes.run([*ssh_argv(lay, port), "true"], timeout=30).code == 0
    except subprocess.TimeoutExpired:
        return False


def _engine_answers(lay: Layout) -> bool:
    if not lay.docker_sock.exists():
        return False
    try:
        client = docker.APIClient(base_url=f"unix://{lay.docker_sock}", timeout=10)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - any failure means "does not answer yet"
        return False
