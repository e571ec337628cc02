"""The reference measurements, written independently of the harness's measuring code:
no :mod:`bench.tools`, :mod:`bench.workloads` or :mod:`bench.provision` here, only the
standard library, the reference tools' own outputs and the engine API's event stream.

- :func:`direct_io_bandwidth`: sequential 1 MiB ``pwrite`` / ``pread`` calls with direct
  I/O on the loop's own clock, in a process of its own (:mod:`bench.validation.ioloop`),
  falling back where the filesystem refuses it as the harness does (writes buffered and
  fsynced before the clock stops; reads after the file's cached pages are dropped).
- :func:`iperf2_bitrate`: TCP throughput over 127.0.0.1 measured by iperf2, a second
  implementation, counted by its server (the receiver) after an omitted first stretch.
- :class:`EventSpans`: a container's create -> destroy span on the engine's own clock,
  from an event stream of the validation's own.
- :func:`hyperfine_seconds`: one run's time from hyperfine's JSON export.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bench.validation import ioloop

MIB = 1 << 20


@dataclass(frozen=True)
class IoRun:
    """One run of the direct-I/O loop: bytes moved in *seconds* (the loop's own clock);
    ``direct`` says whether the cache was bypassed (``False``: refused by the filesystem,
    buffered fallback)."""

    bytes: int
    seconds: float
    direct: bool

    @property
    def bandwidth(self) -> float:
        """Bytes per second."""
        return self.bytes / self.seconds


def direct_io_bandwidth(
    path: Path, mode: Literal["write", "read"], *, size_mib: int, duration: float
) -> IoRun:
    """Sequential 1 MiB writes or reads over *path* for *duration* seconds, by the loop in
    :mod:`bench.validation.ioloop` run as a process of its own (as fio is: no thread of
    this process can hold the interpreter between its calls); see
    :func:`bench.validation.ioloop.run` for what it does and times.
    Raises ``subprocess.CalledProcessError`` when the loop fails."""
    done = subprocess.run(
        [sys.executable, str(Path(ioloop.__file__)), str(path), mode, str(size_mib), f"{duration}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 300,
    )
    found = json.loads(done.stdout)
    return IoRun(int(found["bytes"]), float(found["seconds"]), bool(found["direct"]))


_IPERF2_CSV = re.compile(r"^\d{14},[^,]*,\d+,[^,]*,\d+,-?\d+,([0-9.]+)-([0-9.]+),(\d+),(\d+)\s*$")


def parse_iperf2_server(csv: str, omit: float) -> tuple[int, float]:
    """Bytes and seconds an iperf2 server counted after its first *omit* seconds, from its
    ``-y C -i 1`` report: the whole-connection line minus the intervals that end by
    *omit*, each interval's exact seconds taken as ``8 * bytes / bits_per_second`` (the
    printed interval bounds are rounded). ``ValueError`` without a whole-connection line."""
    rows = [
        (float(m[1]), float(m[2]), int(m[3]), int(m[4]))
        for m in (_IPERF2_CSV.match(line) for line in csv.splitlines())
        if m
    ]
    if not rows:
        raise ValueError(f"no iperf2 report lines in {csv[-300:]!r}")
    whole = max(rows, key=lambda r: (r[1] - r[0], r[2]))
    if whole[0] != 0.0:
        raise ValueError(f"no whole-connection line in {csv[-300:]!r}")
    omitted = [r for r in rows if r is not whole and r[1] <= omit + 1e-9]
    seconds = _seconds(whole) - sum(_seconds(r) for r in omitted)
    count = whole[2] - sum(r[2] for r in omitted)
    return count, seconds


def _seconds(row: tuple[float, float, int, int]) -> float:
    return 8.0 * row[2] / row[3] if row[3] else row[1] - row[0]


def iperf2_bitrate(*, duration: float, omit: float, iperf: str = "iperf") -> float:
    """Bits per second over one TCP connection on 127.0.0.1 measured by iperf2 (a second
    implementation, not iperf3): 128 KiB writes for ``omit + duration`` seconds, counted
    by the server (the receiver) after its first *omit* seconds
    (:func:`parse_iperf2_server`). The server takes one connection and exits."""
    port = _free_loopback_port()
    server = subprocess.Popen(
        [iperf, "-s", "-B", "127.0.0.1", "-p", str(port), "-y", "C", "-i", "1", "-P", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        client = [iperf, "-c", "127.0.0.1", "-p", str(port), "-l", "128K", "-y", "C"]
        client += ["-t", f"{omit + duration:g}"]
        for _ in range(100):  # iperf2 says nothing when it listens: retry a refused connect
            done = subprocess.run(client, capture_output=True, text=True, timeout=120, check=False)
            if any(_IPERF2_CSV.match(line) for line in done.stdout.splitlines()):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"iperf2 client never connected: {done.stdout}{done.stderr}")
        out, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    count, seconds = parse_iperf2_server(out, omit)
    if count <= 0 or seconds <= 0:
        raise ValueError(f"iperf2 counted nothing after {omit} s: {out[-300:]!r}")
    return 8.0 * count / seconds


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
