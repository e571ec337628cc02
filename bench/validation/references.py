"""The reference measurements, written independently of the harness's measuring code:
no :mod:`bench.tools`, :mod:`bench.workloads` or :mod:`bench.provision` here, only the
standard library, the reference tools' own outputs and the engine API's event stream.

- :func:`dd_bandwidth`: sequential 1 MiB-block I/O timed by GNU ``dd`` itself, with
  direct I/O, falling back where the filesystem refuses ``O_DIRECT`` as the harness does
  (writes buffered and fsynced before dd stops its clock; reads after the file's cached
  pages are dropped with ``iflag=nocache``).
- :func:`socket_bitrate`: TCP throughput over 127.0.0.1 by a copy loop in Python, a
  receiver process counting what arrives after an omitted first stretch.
- :class:`EventSpans`: a container's create -> destroy span on the engine's own clock,
  from an event stream of the validation's own.
- :func:`hyperfine_seconds`: one run's time from hyperfine's JSON export.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

MIB = 1 << 20
_DD_SUMMARY = re.compile(r"^(\d+) bytes\b.*\bcopied, ([0-9.]+(?:e[-+]?\d+)?) s\b", re.MULTILINE)


@dataclass(frozen=True)
class DdRun:
    """One dd run: bytes moved in dd's own seconds; ``direct`` says whether O_DIRECT was
    used (``False``: refused by the filesystem, buffered fallback)."""

    bytes: int
    seconds: float
    direct: bool

    @property
    def bandwidth(self) -> float:
        """Bytes per second."""
        return self.bytes / self.seconds


def parse_dd(stderr: str) -> tuple[int, float]:
    """Bytes and seconds from GNU dd's summary line (``C`` locale), e.g. ``268435456 bytes
    (268 MB, 256 MiB) copied, 1.19418 s, 225 MB/s``; ``ValueError`` when there is none."""
    found = _DD_SUMMARY.findall(stderr)
    if not found:
        raise ValueError(f"no dd summary line in {stderr[-300:]!r}")
    count, seconds = found[-1]
    return int(count), float(seconds)


def refused_direct(stderr: str) -> bool:
    """Whether dd failed because the filesystem refuses ``O_DIRECT`` (``EINVAL`` on open)."""
    return "Invalid argument" in stderr and ("failed to open" in stderr or "error" in stderr)


def dd_bandwidth(
    path: Path, mode: Literal["write", "read"], *, size_mib: int, dd: str = "dd"
) -> DdRun:
    """Write *size_mib* MiB of zeros to *path* (over what is there, not truncating it), or
    read *path* whole, in 1 MiB blocks with direct I/O; where that is refused, the
    buffered fallback (see the module docstring).
    Raises ``subprocess.CalledProcessError`` when dd fails otherwise."""
    if mode == "write":
        # overwrites in place (no truncation), as fio overwrites the file it laid out
        write = [dd, "if=/dev/zero", f"of={path}", "bs=1M", f"count={size_mib}"]
        direct = [*write, "oflag=direct", "conv=notrunc"]
        buffered = [*write, "conv=notrunc,fsync"]
        before: list[str] = []
    else:
        direct = [dd, f"if={path}", "of=/dev/null", "bs=1M", "iflag=direct"]
        buffered = [dd, f"if={path}", "of=/dev/null", "bs=1M"]
        before = [dd, f"if={path}", "iflag=nocache", "count=0"]  # drops the file's cached pages
    done = _run_dd(direct, check=False)
    if done.returncode == 0:
        return DdRun(*parse_dd(done.stderr), direct=True)
    if not refused_direct(done.stderr):
        raise subprocess.CalledProcessError(done.returncode, direct, done.stdout, done.stderr)
    if before:
        _run_dd(before, check=True)
    return DdRun(*parse_dd(_run_dd(buffered, check=True).stderr), direct=False)


def _run_dd(argv: list[str], *, check: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LC_ALL": "C"}  # the summary line's wording
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=300, env=env)


#: the receiver: prints its port, then after EOF the bytes and seconds after *omit* s
_RECEIVER = r"""
import json, socket, sys, time
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
print(server.getsockname()[1], flush=True)
conn, _ = server.accept()
omit, view = float(sys.argv[1]), memoryview(bytearray(int(sys.argv[2])))
total, start, mark = 0, time.perf_counter(), None
while True:
    got = conn.recv_into(view)
    if not got:
        break
    total += got
    if mark is None and time.perf_counter() - start >= omit:
        mark = (time.perf_counter(), total)
end = time.perf_counter()
if mark is None:
    mark = (start, 0)
print(json.dumps({"bytes": total - mark[1], "seconds": end - mark[0]}), flush=True)
"""


def socket_bitrate(*, duration: float, omit: float, buffer: int = 128 * 1024) -> float:
    """Bits per second received over one TCP connection on 127.0.0.1: this process sends
    *buffer*-sized writes for ``omit + duration`` seconds to a receiver process that reads
    into a *buffer*-sized buffer and counts the bytes that arrive after its first *omit*
    seconds, over the time from then to the end of the stream (receiver's clock)."""
    receiver = subprocess.Popen(
        [sys.executable, "-c", _RECEIVER, str(omit), str(buffer)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        data = memoryview(bytes(buffer))
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sender:
            stop = time.perf_counter() + omit + duration
            while time.perf_counter() < stop:
                sender.sendall(data)
        counted = json.loads(receiver.stdout.readline())
        receiver.wait(timeout=30)
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.wait()
    if counted["seconds"] <= 0 or counted["bytes"] <= 0:
        raise ValueError(f"the socket loop counted nothing after {omit} s: {counted}")
    return 8.0 * float(counted["bytes"]) / float(counted["seconds"])


def hyperfine_seconds(export: str) -> float:
    """The first run's time (s) in a hyperfine ``--export-json`` document."""
    return float(json.loads(export)["results"][0]["times"][0])


class EventSpans:
    """Containers' create -> destroy spans on the engine's clock (``timeNano`` differences
    only), from an event stream of its own filtered by *labels*; containers are kept in
    the order their ``create`` events arrived."""

    def __init__(self, api: Any, labels: dict[str, str]) -> None:
        self._created: list[str] = []
        self._times: dict[str, dict[str, int]] = {}
        self._cond = threading.Condition()
        self._stream: Any = api.events(
            decode=True,
            filters={"type": "container", "label": [f"{k}={v}" for k, v in labels.items()]},
        )
        self._thread = threading.Thread(target=self._pump, name="validate-events", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            for event in self._stream:
                self.add(event)
        except Exception:  # noqa: BLE001, S110 - the stream ends when closed
            pass

    def add(self, event: dict[str, Any]) -> None:
        """Record one decoded event (``id`` or ``Actor.ID``, ``Action``, ``timeNano``)."""
        cid = event.get("id") or event.get("Actor", {}).get("ID")
        action = str(event.get("Action") or event.get("status") or "")
        if not cid or "timeNano" not in event:
            return
        with self._cond:
            if action == "create" and cid not in self._times:
                self._created.append(cid)
            self._times.setdefault(cid, {}).setdefault(action, int(event["timeNano"]))
            self._cond.notify_all()

    def mark(self) -> int:
        """How many containers were seen created so far (to find the next one)."""
        with self._cond:
            return len(self._created)

    def span_after(self, mark: int, timeout: float = 10.0) -> float:
        """Seconds from ``create`` to ``destroy`` of the first container created after
        *mark*, waiting up to *timeout* s for its events; ``TimeoutError`` without them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if len(self._created) > mark:
                    times = self._times[self._created[mark]]
                    if "create" in times and "destroy" in times:
                        return (times["destroy"] - times["create"]) * 1e-9
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no create and destroy events for the container")
                self._cond.wait(remaining)

    def close(self) -> None:
        """Stop the stream."""
        with contextlib.suppress(Exception):  # closing a dead stream is fine
            self._stream.close()
