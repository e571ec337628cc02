"""How the suite measures: benchmark rounds, and a child process's wall time and peak memory.

:func:`timed` runs a target under pytest-benchmark: calibrated and repeated as the
``--benchmark-*`` options say, or for a fixed number of rounds when one round takes
seconds.

:func:`child` runs a command and takes its peak resident set size from the kernel's own
accounting of that process (``os.wait4``, the ``ru_maxrss`` of ``getrusage(2)``):
everything the command touched, the interpreter and its imports included. Through a
small launcher (``python -m perf.measure``), not directly: on Linux a process's
``ru_maxrss`` starts from the peak of the address space it was spawned from, so a command
spawned straight from the pytest process would report pytest's own peak (hundreds of MiB
after the loading benchmarks) when that is larger. Spawned from the launcher, the floor
is the launcher's own ~10 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # not imported at run time: the launcher stays small
    from pytest_benchmark.fixture import BenchmarkFixture

#: Whether this platform can report a child's peak memory (POSIX only).
SUPPORTED = hasattr(os, "wait4")

_MIB = 2**20

T = TypeVar("T")


def timed(
    benchmark: BenchmarkFixture,
    target: Callable[..., T],
    *args: object,
    rounds: int | None = None,
    **kwargs: object,
) -> T:
    """Benchmark ``target(*args, **kwargs)`` and return what it returned.

    With *rounds* ``None`` the command line's ``--benchmark-*`` options decide (calibration,
    ``--benchmark-min-rounds``, ``--benchmark-max-time``); with a count, exactly that many
    rounds of one call each and no calibration run, for targets that take seconds.
    """
    if rounds is None:
        result: T = benchmark(target, *args, **kwargs)
        return result
    # pytest-benchmark leaves pedantic() unannotated
    pedantic: T = benchmark.pedantic(  # type: ignore[no-untyped-call]
        target, args=args, kwargs=kwargs, rounds=rounds
    )
    return pedantic


@dataclass(frozen=True)
class Peak:
    """One command's cost: wall seconds from spawn to exit, and its peak RSS in bytes."""

    label: str
    seconds: float
    max_rss_bytes: int

    @property
    def max_rss_mib(self) -> float:
        return self.max_rss_bytes / _MIB

    def line(self) -> str:
        return f"{self.label}: {self.seconds:.1f} s wall, peak RSS {self.max_rss_mib:,.0f} MiB"


class CommandError(RuntimeError):
    """The measured command exited with a non-zero status; the message holds its stderr."""


def child(argv: Sequence[str], *, label: str, cwd: Path, log: Path) -> Peak:
    """Run *argv* in *cwd*, its output in *log*, through the launcher; return its :class:`Peak`.

    *cwd* must be the checkout's root (the launcher is ``python -m perf.measure``).
    Raises :class:`CommandError` with the end of *log* when the command fails.
    """
    if not SUPPORTED:
        raise NotImplementedError("peak memory of a child needs os.wait4 (POSIX)")
    launcher = [sys.executable, "-m", "perf.measure", "--log", str(log), "--", *argv]
    done = subprocess.run(launcher, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
        raise CommandError(
            f"{' '.join(argv)} exited {done.returncode}:\n{tail}{done.stderr[-2000:]}"
        )
    record = json.loads(done.stdout)
    return Peak(label=label, seconds=record["seconds"], max_rss_bytes=record["max_rss_bytes"])


def _run(argv: Sequence[str], log: Path) -> tuple[int, float, int]:
    """Exit code, wall seconds and peak RSS in bytes of *argv*, run from this process."""
    with log.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux and in bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    return process.returncode, seconds, usage.ru_maxrss * scale


def main(args: Sequence[str] | None = None) -> int:
    """The launcher: run the command after ``--``, print its seconds and peak RSS as JSON
    on stdout, and exit with its exit code."""
    parser = argparse.ArgumentParser(prog="python -m perf.measure")
    parser.add_argument("--log", type=Path, required=True, help="the command's output")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args(args)
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    code, seconds, max_rss = _run(command, options.log)
    print(json.dumps({"seconds": seconds, "max_rss_bytes": max_rss, "exit": code}))
    return code


if __name__ == "__main__":
    sys.exit(main())
