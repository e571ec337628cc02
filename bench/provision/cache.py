"""Warm and cold: what each means per platform, and how crossdock makes a cold start.

**Warm** (the default): the image is in the engine's store and was used by the warmups;
whatever the kernels hold in their page caches stays there. Beside cold variants
(interleaved), a warm variant is re-warmed by one unrecorded run after every drop.

**Cold**: before each sample (and again before the whole-process ``docker run --rm``
timing) the page cache of the kernel that runs the containers is dropped, so the image's
files, the runtime's binaries and the host command are read from disk again. What stays
warm is said per method:

- ``host``: the engine runs on this Linux host's own kernel (Docker Engine on Linux, or
  inside the same WSL2 distro) and crossdock runs as root: ``sync`` then
  ``echo 3 > /proc/sys/vm/drop_caches`` on the host. The engine's daemons keep running
  (their code stays in memory) and the image stays in the engine's store: nothing is
  pulled.
- ``engine``: the engine runs in a VM (Docker Desktop, WSL2 under Docker Desktop, colima,
  OrbStack, Rancher Desktop, Podman machine) or crossdock is not root: a short container
  from another image than the one measured, given ``CAP_SYS_ADMIN`` and a writable
  ``/proc/sys`` (``systempaths=unconfined``; no other privilege), drops the cache of the
  kernel that runs the containers. Still warm: the host's own cache of the VM's disk image and of
  shared folders (macOS and Windows offer no way to drop them without an administrator),
  and the container runtime's shim binary (the dropping container's shim runs while the
  cache is dropped). A rootless engine cannot do this: cold is then a recorded skip.

The native baseline (the same command spawned on the host) can only be made cold by the
``host`` method: elsewhere it is a recorded skip.

File I/O is labelled too (:func:`fileio_state`): fio's data jobs start cold for their
file, metadata is warm by construction, the tree workload is warm unless a scenario asks
for a cold one (:func:`tree_cold`: the cache dropped between unpacking and walking).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import docker.errors

from bench.environment.host import host_os
from bench.errors import SampleError
from bench.provision import containers
from bench.provision.context import RunContext
from bench.provision.processes import output_tail

STATES = ("warm", "cold")
DROP_CACHES = Path("/proc/sys/vm/drop_caches")

WARM = (
    "warm: the image is local and was used in the warmups; each sample is a new container; "
    "after a cold variant's cache drop, one unrecorded run re-warms before the next sample"
)
COLD_HOST = (
    "cold: the host's page cache dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before "
    "each sample; the image stays local (no pull) and the engine's daemons keep running"
)
COLD_ENGINE = (
    "cold (engine kernel): the page cache of the kernel that runs the containers dropped "
    "from a short container (CAP_SYS_ADMIN, writable /proc/sys) before each sample; the "
    "host's own cache of the VM disk and shared folders and the runtime's shim stay warm"
)
DEFINITIONS = {"host": COLD_HOST, "engine": COLD_ENGINE}
FILEIO_DIRECT = (
    "cold: O_DIRECT (fio direct=1), the page cache of the kernel running fio is bypassed"
)
#: What O_DIRECT cannot exclude where the engine's kernel is not the host's own.
FILEIO_DIRECT_VM = (
    "; the engine runs in a VM, so a bind mount or volume is backed by the host's files "
    "(a shared folder, the VM's disk image) whose pages the host's own cache can still serve"
)
FILEIO_BUFFERED = (
    "cold at the start of each job: fio drops the file's cached pages first (invalidate=1) "
    "in the kernel running fio; a VM host's own cache of a shared folder is not dropped; "
    "a time-based job that passes over the file again reads it from the cache"
)
FILEIO_WARM = {
    "metadata": "warm: files are created, stat'ed and deleted within one fio job",
    "tree": "warm: the tree is walked and read right after it is unpacked",
}
#: How a warm file I/O variant stays warm beside cold ones.
FILEIO_REWARMED = "; after any page-cache drop in the run, one unrecorded run re-warms first"

_DROP_SCRIPT = "sync && echo 3 > /proc/sys/vm/drop_caches"


@dataclass(frozen=True)
class Method:
    """How this run makes the engine's kernel cold: ``host`` or ``engine`` (module
    docstring), with the image the ``engine`` method's container uses."""

    name: str
    image: str | None = None

    @property
    def definition(self) -> str:
        return DEFINITIONS[self.name]


def fileio_state(workload: str, direct: bool | None, *, in_vm: bool = False) -> str:
    """What a file I/O result's cache state was (*direct* None where fio's data jobs
    do not run; *in_vm* when the place is reached through a kernel that is not the
    host's, where O_DIRECT bypasses that kernel's cache but not the host's)."""
    if workload in FILEIO_WARM:
        return FILEIO_WARM[workload] + FILEIO_REWARMED
    if not direct:
        return FILEIO_BUFFERED
    return FILEIO_DIRECT + (FILEIO_DIRECT_VM if in_vm else "")


def tree_cold(method: Method) -> str:
    """What a cold tree workload was, dropped by *method*."""
    where = "the host's" if method.name == "host" else "the engine kernel's"
    return (
        f"cold: {where} page cache dropped (sync; echo 3 > /proc/sys/vm/drop_caches) between "
        "unpacking the tree and walking it; the pause is not counted"
        + ("" if method.name == "host" else "; a VM host's own cache of a shared folder stays")
    )


def host_can_drop() -> str | None:
    """None if this process can drop the host's page cache, else why not."""
    if host_os() != "linux":
        return f"the host is {host_os()}: its file cache cannot be dropped from crossdock"
    if not os.access(DROP_CACHES, os.W_OK):
        return f"{DROP_CACHES} is not writable: run crossdock as root (sudo) for cold starts"
    return None


def drop_host() -> None:
    """Write back dirty pages, then drop the host's page cache, dentries and inodes."""
    os.sync()
    try:
        DROP_CACHES.write_text("3\n")
    except OSError as e:
        raise SampleError(f"could not drop the page cache: {e}") from None


def shares_host_kernel(ctx: RunContext) -> bool:
    """Whether the engine's containers run on this host's own kernel: a local socket
    and the same kernel release as the host's."""
    if ctx.engine is None or host_os() != "linux":
        return False
    local = urlparse(ctx.engine.target.endpoint).scheme in ("unix", "npipe", "")
    return local and ctx.engine.info.get("KernelVersion") == os.uname().release


def choose(ctx: RunContext, measured_image: str | None) -> tuple[Method | None, str | None]:
    """The cold method for a variant (*measured_image* None for the native baseline),
    or None with the reason cold cannot be made here."""
    host_problem = host_can_drop()
    if measured_image is None:
        return (Method("host"), None) if host_problem is None else (None, host_problem)
    if host_problem is None and shares_host_kernel(ctx):
        return Method("host"), None
    other = "tools" if measured_image == "busybox" else "busybox"
    return Method("engine", other), None


def usable(
    ctx: RunContext, measured_image: str | None, tried: dict[Method, str | None]
) -> Method | str:
    """The method :func:`choose` picks, once a trial drop showed it works (one per method,
    remembered in *tried*: method -> None, or why it failed); else why cold cannot be made."""
    method, why_not = choose(ctx, measured_image)
    if method is None:
        return str(why_not)
    if method not in tried:
        try:
            drop(ctx, method)
            tried[method] = None
        except SampleError as e:
            tried[method] = str(e)
    problem = tried[method]
    return method if problem is None else problem


def drop(ctx: RunContext, method: Method, timeout: float = 120.0) -> None:
    """Drop the page cache the way *method* says; SampleError if it could not be done."""
    if method.name == "host":
        drop_host()
        return
    assert method.image is not None
    api = ctx.require_engine().api
    host_config = api.create_host_config(cap_add=["SYS_ADMIN"], network_mode="none")
    # what the CLI's --security-opt systempaths=unconfined sends: /proc/sys unmasked, writable
    host_config |= {"MaskedPaths": [], "ReadonlyPaths": []}
    spec = containers.Spec(
        ctx.image(method.image).tag, ["sh", "-c", _DROP_SCRIPT], ctx.labels, host_config
    )
    try:
        done = containers.run(api, spec, timeout=timeout)
        status, message = done.code, output_tail(done.stderr) or output_tail(done.stdout)
    except docker.errors.APIError as e:
        status, message = -1, str(e.explanation or e)
    if status != 0:
        raise SampleError(
            "a container with CAP_SYS_ADMIN could not drop the engine's page cache "
            f"({message or f'exit {status}'}); a rootless engine cannot make cold starts"
        )
