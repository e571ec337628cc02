"""Places where files live during a file I/O measurement, native or in a container.

A :class:`Place` is a directory plus a way to run commands next to it: on the host for
``native``, or by ``exec`` in one long-lived container per target (so the writable layer
of the ``container`` target persists between samples and exec start-up never enters a
figure: the tools time themselves). Before anything is timed a place is checked: a bind
mount must show on the host what the container wrote; the filesystem type the container
actually saw is read from ``/proc/mounts``.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import subprocess
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import docker.errors

from bench import signals
from bench.environment import host
from bench.errors import ProvisionError
from bench.provision import containers, images, processes
from bench.provision.context import RunContext, alt_root
from bench.provision.processes import Output

#: file I/O targets; each is a variant value of parameter ``target``
TARGETS: tuple[str, ...] = (
    "native",
    "bind",
    "bind-alt",
    "volume",
    "container",
    "tmpfs",
    "bind-windows",
)
MOUNT_POINT = "/data"
#: where the host's static busybox goes in images that lack one
INJECTED_BUSYBOX = "/.crossdock/busybox"
#: where a WSL distro sees the Windows drive used for ``bind-windows``
WINDOWS_DIR = Path("/mnt/c/Users/Public")


class PlaceError(ProvisionError):
    """A place could not be set up; the message says why."""


@dataclass
class Place:
    """One target ready for measuring: a directory, where commands run, what it is."""

    target: str
    path: str
    container: str | None = None
    fs_type: str | None = None
    #: how busybox applets are invoked here (in the image, injected, or the host's)
    busybox: str | None = "busybox"
    skip: str | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def run(self, ctx: RunContext, argv: Sequence[str], *, timeout: float) -> Output:
        """Run *argv* next to this place: on the host, or by exec in its container.

        The timeout applies to host processes (one not done in time ends with code 124);
        an exec that hangs is ended when the scenario's container is removed (a stuck
        exec cannot be killed by itself).
        """
        if self.container is None:
            try:
                return processes.run(argv, timeout=timeout, session=False)
            except subprocess.TimeoutExpired:
                return Output(124, "", f"timed out after {timeout:g} s")
        return containers.exec_run(ctx.require_engine().api, self.container, argv)


def open_place(
    ctx: RunContext,
    target: str,
    *,
    name: str,
    image: str,
    tmpfs_bytes: int,
    inject_busybox: bool = False,
) -> Place:
    """Set up *target* for scenario *name*: a host directory, or a container (from image
    tag *image*) with the target mounted at :data:`MOUNT_POINT`. With *inject_busybox* the
    host's static busybox is copied into the container (for images without one). A target
    that does not exist here comes back with ``skip`` set to the reason."""
    if target == "native":
        directory = ctx.scratch(f"{name}/native")
        return Place(
            target, str(directory), fs_type=host_fs_type(directory), busybox=shutil.which("busybox")
        )
    if ctx.engine is None:
        return Place(target, MOUNT_POINT, skip="no engine")
    mounts: dict[str, object] = {}
    host_dir: Path | None = None
    if target == "bind":
        host_dir = ctx.scratch(f"{name}/bind")
    elif target == "bind-windows":
        problem = windows_drive_problem()
        if problem:
            return Place(target, MOUNT_POINT, skip=problem)
        host_dir = _run_folder(ctx, WINDOWS_DIR, name)
    elif target == "bind-alt":
        alt = alt_root()
        if not alt.is_dir():
            return Place(
                target,
                MOUNT_POINT,
                skip=f"there is no second shared folder {alt} (`crossdock vm up` makes one and "
                "shares it into its VM through 9p)",
            )
        host_dir = _run_folder(ctx, alt, name)
    if host_dir is not None:
        mounts["binds"] = {str(host_dir): {"bind": MOUNT_POINT, "mode": "rw"}}
    elif target == "volume":
        with signals.deferred():  # made whole, so the run's cleanup finds it
            volume = ctx.require_engine().client.volumes.create(
                name=f"crossdock-{ctx.run_id.lower()}-{name}", labels=dict(ctx.labels)
            )
        mounts["binds"] = {str(volume.name): {"bind": MOUNT_POINT, "mode": "rw"}}
    elif target == "tmpfs":
        mounts["tmpfs"] = {MOUNT_POINT: f"size={tmpfs_bytes}"}
    busybox = INJECTED_BUSYBOX if inject_busybox else "busybox"
    place = Place(
        target, MOUNT_POINT, container=_start(ctx, image, mounts, busybox), busybox=busybox
    )
    place.fs_type = container_fs_type(ctx, place)
    if host_dir is not None:
        place.skip = check_bind(ctx, place, host_dir)
    return place


def _run_folder(ctx: RunContext, root: Path, name: str) -> Path:
    """Scenario *name*'s folder in this run's own folder under *root* (a place outside the
    run's scratch directory), made now and removed with the run."""
    run_dir = root / f"crossdock-{ctx.run_id}"
    folder = run_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    ctx.cleanups.append(lambda: shutil.rmtree(run_dir, ignore_errors=True))
    return folder


def close_place(ctx: RunContext, place: Place) -> None:
    """Remove the place's container (and with it its writable layer)."""
    if place.container is not None and ctx.engine is not None:
        containers.remove(ctx.engine.api, place.container)
        place.container = None


def _start(ctx: RunContext, image: str, mounts: dict[str, object], busybox: str) -> str:
    api = ctx.require_engine().api
    host_config = api.create_host_config(network_mode="none", **mounts)
    container = containers.create(
        api,
        containers.Spec(
            image, [busybox, "sleep", "2147483647"], ctx.labels, host_config, entrypoint=[]
        ),
    )
    try:
        if busybox == INJECTED_BUSYBOX:
            api.put_archive(container, "/", _busybox_archive())
        api.start(container)
    except docker.errors.APIError as e:
        containers.remove(api, container)
        raise PlaceError(f"the container for this target did not start: {e.explanation}") from None
    return container


def _busybox_archive() -> bytes:
    """The host's busybox as a tar holding :data:`INJECTED_BUSYBOX`."""
    exe = shutil.which("busybox")
    if exe is None or images.shared_libraries(Path(exe)):
        raise PlaceError(
            "this image has no busybox and the host has no static one to lend it "
            "(Debian/Ubuntu: apt install busybox-static)"
        )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(str(Path(exe).resolve()), arcname=INJECTED_BUSYBOX.lstrip("/"))
    return buffer.getvalue()


def check_bind(ctx: RunContext, place: Place, host_dir: Path) -> str | None:
    """Write a token inside the container and read it back on the host. Returns why the
    share does not work (read-only, or not the same directory), or ``None`` when it does."""
    token = secrets.token_hex(8)
    probe = f"{MOUNT_POINT}/.crossdock-share-probe"
    wrote = place.run(ctx, [str(place.busybox), "sh", "-c", f"echo {token} > {probe}"], timeout=30)
    if wrote.code != 0:
        return f"the container cannot write to the bind mount: {wrote.stderr.strip()[:200]}"
    seen = host_dir / ".crossdock-share-probe"
    try:
        content = seen.read_text(encoding="utf-8").strip()
    except OSError:
        return f"what the container wrote is not visible on the host at {host_dir}"
    finally:
        seen.unlink(missing_ok=True)
    if content != token:
        return f"the host sees different content at {host_dir} than the container wrote"
    return None


def container_fs_type(ctx: RunContext, place: Place) -> str | None:
    """The filesystem type the container sees at the place (``/proc/mounts``)."""
    mounts = place.run(ctx, [str(place.busybox), "cat", "/proc/mounts"], timeout=30)
    mount_point = MOUNT_POINT if place.target != "container" else "/"
    return fs_type_at(mounts.stdout, mount_point)


def mount_at(proc_mounts: str, path: str) -> tuple[str, str, str] | None:
    """``(device, mount point, type)`` of the longest mount point containing *path* in a
    ``/proc/mounts`` text (the last such line wins, as the kernel stacks them)."""
    best: tuple[str, str, str] | None = None
    for line in proc_mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = path == point or path.startswith(point.rstrip("/") + "/") or point == "/"
        if inside and (best is None or len(point) >= len(best[1])):
            best = (fields[0], point, fields[2])
    return best


def fs_type_at(proc_mounts: str, path: str) -> str | None:
    """The type of the filesystem mounted at the longest mount point containing *path*."""
    found = mount_at(proc_mounts, path)
    return found[2] if found else None


def host_fs_type(directory: Path) -> str | None:
    """The filesystem type of a host directory (Linux and WSL: ``/proc/mounts``; macOS: the
    ``mount`` table)."""
    resolved = str(directory.resolve())
    if host.host_os() == "linux":
        try:
            return fs_type_at(Path("/proc/mounts").read_text(encoding="utf-8"), resolved)
        except OSError:
            return None
    if host.host_os() == "darwin":
        try:
            out = processes.run(["mount"], timeout=10, session=False).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        return fs_type_at(macos_mount_table(out), resolved)
    return None


def macos_mount_table(mount_output: str) -> str:
    """macOS ``mount`` output ("/dev/disk3s5 on /System/Volumes/Data (apfs, local)") as
    ``/proc/mounts``-shaped lines, spaces in mount points escaped as the kernel does."""
    rows = []
    for line in mount_output.splitlines():
        if " on " not in line or " (" not in line:
            continue
        device, rest = line.split(" on ", 1)
        point, options = rest.rsplit(" (", 1)
        rows.append(f"{device} {point.replace(' ', chr(92) + '040')} {options.split(',')[0]}")
    return "\n".join(rows)


def windows_drive_problem() -> str | None:
    """Why ``bind-windows`` cannot be measured here, or ``None`` inside WSL with a C: drive."""
    if not host.in_wsl():
        return (
            "bind-windows needs crossdock running inside a WSL2 distro (a Windows drive at /mnt/c)"
        )
    if not WINDOWS_DIR.is_dir():
        return f"{WINDOWS_DIR} does not exist in this WSL distro"
    if not os.access(WINDOWS_DIR, os.W_OK):
        return f"{WINDOWS_DIR} is not writable"
    return None


def probe_file_sharing(ctx: RunContext) -> tuple[str | None, str]:
    """What a bind mount of a harness directory is, as a container sees it: the filesystem
    type from its ``/proc/mounts`` (``virtiofs``, ``fakeowner``, ``fuse.grpcfuse``, ``9p``,
    ``ext4`` ...) and a sentence saying how it was found."""
    place = open_place(
        ctx, "bind", name="sharing-probe", image=ctx.image("busybox").tag, tmpfs_bytes=0
    )
    try:
        mounts = place.run(ctx, ["cat", "/proc/mounts"], timeout=30).stdout
        found = mount_at(mounts, MOUNT_POINT)
    finally:
        close_place(ctx, place)
    if found is None:
        return None, "a probe container's /proc/mounts had no entry for its bind mount"
    device, point, fs_type = found
    reason = f"a probe container saw its bind mount at {point} as {fs_type!r} (source {device!r})"
    if place.skip:
        reason += f"; but {place.skip}"
    return fs_type, reason
