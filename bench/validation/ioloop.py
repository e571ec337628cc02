"""The file I/O reference's loop, run as a script of its own by
:func:`bench.validation.references.direct_io_bandwidth`: standard library only, nothing
of crossdock's.

    python ioloop.py PATH write|read SIZE_MIB DURATION

prints ``{"bytes": ..., "seconds": ..., "direct": ...}`` (see :func:`run`).
"""

from __future__ import annotations

import errno
import json
import mmap
import os
import sys
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

MIB = 1 << 20


def run(path: Path, mode: str, *, size_mib: int, duration: float) -> tuple[int, float, bool]:
    """Sequential 1 MiB ``pwrite`` or ``pread`` calls over *path* (laid out first to
    *size_mib* MiB, unmeasured, if it is shorter), from one page-aligned buffer, wrapping
    round the file until *duration* seconds have passed; timed on
    :func:`time.perf_counter_ns` around the calls only.

    The cache is bypassed where the platform can (``O_DIRECT`` on Linux, ``F_NOCACHE`` on
    macOS). Where the filesystem refuses that, the fallback is the harness's: writes
    buffered with an ``fsync`` before the clock stops, reads after the file's cached pages
    were dropped (``posix_fadvise(DONTNEED)``, where there is one)."""
    if not path.exists() or path.stat().st_size < size_mib * MIB:
        _lay_out(path, size_mib)
    buffer = mmap.mmap(-1, MIB)  # page-aligned, as direct I/O needs
    buffer.write(os.urandom(MIB))
    fd, direct = _open(path, mode)
    try:
        if not direct and mode == "read" and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        buffers = [buffer]
        moved, block = 0, 0
        began = time.perf_counter_ns()
        stop = began + int(duration * 1e9)
        while True:
            if mode == "write":
                done = os.pwrite(fd, buffer, block * MIB)
            else:  # into the aligned buffer itself (os.pread would allocate an unaligned one)
                done = os.preadv(fd, buffers, block * MIB)
            if done != MIB:
                raise OSError(f"{mode} of 1 MiB at block {block} of {path} moved {done} bytes")
            moved += MIB
            block = (block + 1) % size_mib
            if time.perf_counter_ns() >= stop:
                break
        if mode == "write" and not direct:
            os.fsync(fd)
        ended = time.perf_counter_ns()
    finally:
        os.close(fd)
        buffer.close()
    return moved, (ended - began) * 1e-9, direct


def _lay_out(path: Path, size_mib: int) -> None:
    block = os.urandom(MIB)
    with path.open("wb") as f:
        for _ in range(size_mib):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())


def _open(path: Path, mode: str) -> tuple[int, bool]:
    """*path* opened for *mode*, bypassing the cache where possible; whether it does."""
    flags = os.O_WRONLY if mode == "write" else os.O_RDONLY
    direct_flag = getattr(os, "O_DIRECT", 0)
    if direct_flag:
        try:
            return os.open(path, flags | direct_flag), True
        except OSError as e:
            if e.errno != errno.EINVAL:  # EINVAL: the filesystem refuses O_DIRECT
                raise
        return os.open(path, flags), False
    fd = os.open(path, flags)
    nocache = getattr(fcntl, "F_NOCACHE", None) if fcntl else None
    if nocache is not None:
        fcntl.fcntl(fd, nocache, 1)
        return fd, True
    return fd, False


def main(argv: list[str]) -> None:
    """``PATH MODE SIZE_MIB DURATION`` -> one JSON line on stdout."""
    path, mode, size_mib, duration = argv
    if mode not in ("write", "read"):
        raise SystemExit(f"mode must be write or read, not {mode!r}")
    moved, seconds, direct = run(Path(path), mode, size_mib=int(size_mib), duration=float(duration))
    print(json.dumps({"bytes": moved, "seconds": seconds, "direct": direct}))


if __name__ == "__main__":
    main(sys.argv[1:])
