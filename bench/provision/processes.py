"""Processes the harness runs, on the host or in a container, and the text they leave.

Every process, wherever it ran, ends as an :class:`Output`. On the host, :func:`run` runs
one to completion within a timeout (and times it); :func:`spawn` and :func:`stop` start
and end one that keeps running beside the harness (a server); :func:`which` finds a
tool. What a tool printed is quoted in error messages by :func:`output_tail`; bytes
become text through :func:`decoded`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.errors import SampleError


@dataclass(frozen=True)
class Output:
    """What a process printed, and how it ended: its exit code, its stdout and stderr as
    text, and (a host process run by :func:`run`) the seconds from spawn to exit."""

    code: int
    stdout: str
    stderr: str
    elapsed: float | None = None


def run(argv: Sequence[str], *, timeout: float, session: bool = True) -> Output:
    """Run *argv* on the host to completion and say what it printed and how it ended.

    ``elapsed`` is read with :func:`time.perf_counter_ns` right before the spawn and right
    after the process exited and its pipes closed: nothing else lies in between (the
    output is decoded afterwards). With *session* (the default) the process runs in a
    session of its own with no stdin, so that stopping it also stops what it started;
    without, it is spawned as :func:`subprocess.run` spawns (the harness's process group
    and stdin) and only it is stopped.

    Raises :class:`subprocess.TimeoutExpired` once it is killed for not being done within
    *timeout* seconds, :class:`OSError` when it cannot be started.
    """
    t0 = time.perf_counter_ns()
    proc = spawn(argv, stderr=subprocess.PIPE, session=session)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        elapsed = (time.perf_counter_ns() - t0) * 1e-9
    finally:
        stop(proc, session=session)  # reaps it; kills it first when it is still running
    return Output(proc.returncode, decoded(stdout), decoded(stderr), elapsed)


def spawn(argv: Sequence[str], *, stderr: int, session: bool = True) -> subprocess.Popen[bytes]:
    """Start *argv* on the host with its stdout piped and *stderr* as given
    (``subprocess.PIPE`` or ``subprocess.STDOUT``); *session* as in :func:`run`."""
    return subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=stderr,
        stdin=subprocess.DEVNULL if session else None,
        start_new_session=session,
    )


def stop(proc: subprocess.Popen[bytes], *, session: bool = True) -> None:
    """Kill *proc* if it still runs (with *session*, its whole process group: what it
    started goes too), and reap it."""
    if proc.poll() is None:
        if session:
            # no killpg (Windows): the process only
            with contextlib.suppress(ProcessLookupError, PermissionError, AttributeError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def which(name: str) -> str:
    """The path of executable *name* on the host PATH; :class:`SampleError` without one."""
    path = shutil.which(name)
    if path is None:
        raise SampleError(f"no `{name}` executable on the host PATH")
    return path


def decoded(data: bytes | None) -> str:
    """A tool's output bytes as text (undecodable bytes replaced)."""
    return data.decode("utf-8", "replace") if data else ""


def output_tail(
    text: str, *, lines: int = 1, limit: int = 300, prefix: str = "", empty: str = ""
) -> str:
    """The last non-empty *lines* of a tool's output, joined and cut to *limit*
    characters, after *prefix*: what an error message quotes; *empty* for no output."""
    found = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return f"{prefix}{' | '.join(found[-lines:])[:limit]}" if found else empty


def free_port(address: str) -> int:
    """A TCP port free at *address* now (the kernel's pick; a race is unlikely and fails
    the repetition loudly rather than measuring something else)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])
