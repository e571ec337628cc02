"""The metric table: every metric crossdock records, with its unit and direction.

Workloads, validation, the terminal summary and the report all read this one table
(STYLE rule 4). Units are SI base units written out (DESIGN 3.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["lower", "higher"]

#: Units a metric may carry; values are stored in exactly these units.
UNITS: tuple[str, ...] = ("s", "B/s", "bit/s", "op/s", "B", "%", "1")


@dataclass(frozen=True)
class MetricDef:
    """One metric: its stored name, unit, which direction is better, and a description."""

    name: str
    unit: str
    direction: Direction
    description: str
    headline: bool = False

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"metric {self.name!r}: unknown unit {self.unit!r} (valid: {UNITS})")


_DEFS = (
    # startup: host-side intervals of the low-level API calls (perf_counter_ns)
    MetricDef("create", "s", "lower", "API call: create the container"),
    MetricDef("start", "s", "lower", "API call: start the container"),
    MetricDef("run_to_exit", "s", "lower", "API wait: from start returning to the exit"),
    MetricDef("remove", "s", "lower", "API call: remove the container"),
    MetricDef(
        "end_to_end",
        "s",
        "lower",
        "create + start + wait + remove as one host interval (native: spawn to exit)",
        headline=True,
    ),
    # startup: engine-side intervals, differences of the engine's own event timestamps
    MetricDef("engine_create_to_start", "s", "lower", "engine events: create -> start"),
    MetricDef("engine_start_to_die", "s", "lower", "engine events: start -> die"),
    MetricDef("engine_die_to_destroy", "s", "lower", "engine events: die -> destroy"),
    # startup: the figure users feel
    MetricDef("cli_run_rm", "s", "lower", "whole `docker run --rm` CLI process", headline=True),
    # startup: concurrency sweep
    MetricDef(
        "throughput", "op/s", "higher", "containers run to exit and removed per second", True
    ),
    MetricDef("batch", "s", "lower", "time to run and remove the whole batch"),
    # --- file I/O ---
    MetricDef("bandwidth", "B/s", "higher", "fio: bytes transferred per second", headline=True),
    MetricDef("iops", "op/s", "higher", "fio: I/O operations per second"),
    MetricDef("lat_p50", "s", "lower", "fio: median completion latency of one I/O"),
    MetricDef("lat_p99", "s", "lower", "fio: 99th percentile completion latency of one I/O"),
    MetricDef("fsync_p50", "s", "lower", "fio: median latency of one fsync"),
    MetricDef("fsync_p99", "s", "lower", "fio: 99th percentile latency of one fsync"),
    MetricDef("create_rate", "op/s", "higher", "fio filecreate: files created per second", True),
    MetricDef("stat_rate", "op/s", "higher", "fio filestat: files stat-ed per second", True),
    MetricDef("delete_rate", "op/s", "higher", "fio filedelete: files deleted per second", True),
    MetricDef("tree_unpack", "s", "lower", "tree: unpack the source tree (tar -x)"),
    MetricDef("tree_walk", "s", "lower", "tree: walk and stat every entry (ls -lR)"),
    MetricDef("tree_read", "s", "lower", "tree: read every file (cat)"),
    MetricDef("tree_delete", "s", "lower", "tree: delete the tree (rm -rf)"),
    MetricDef("tree_total", "s", "lower", "tree: all four phases", headline=True),
    MetricDef("command", "s", "lower", "command kind: the user's command, start to exit", True),
    # --- network ---
    MetricDef(
        "bitrate",
        "bit/s",
        "higher",
        "iperf3: bits per second at the receiving side, omitted seconds excluded",
        headline=True,
    ),
    MetricDef("retransmits", "1", "lower", "iperf3: TCP segments the sender retransmitted"),
    MetricDef("sender_cpu", "%", "lower", "iperf3: sending process CPU time / wall time"),
    MetricDef("receiver_cpu", "%", "lower", "iperf3: receiving process CPU time / wall time"),
    MetricDef("rtt_p50", "s", "lower", "1-byte TCP request/response: median round trip", True),
    MetricDef("rtt_p99", "s", "lower", "1-byte TCP request/response: 99th percentile round trip"),
    # --- footprint: the engine's processes on the host ---
    MetricDef(
        "host_rss",
        "B",
        "lower",
        "resident memory of the engine's host-side processes, summed; the window's peak",
        headline=True,
    ),
    MetricDef(
        "host_pss",
        "B",
        "lower",
        "proportional set size of the engine's host-side processes, summed at the window's "
        "end (Linux): shared pages split between their sharers",
    ),
    MetricDef(
        "host_cpu",
        "%",
        "lower",
        "CPU time of the engine's host-side processes / wall time (100 % = one core)",
        headline=True,
    ),
)

METRICS: dict[str, MetricDef] = {m.name: m for m in _DEFS}


def metric(name: str) -> MetricDef:
    """The definition of metric *name*; raises KeyError naming the valid metrics."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r} (valid: {', '.join(sorted(METRICS))})") from None


_SCALES: dict[str, tuple[tuple[float, str], ...]] = {
    "s": ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")),
    "B/s": ((1e9, "GB/s"), (1e6, "MB/s"), (1e3, "kB/s"), (1.0, "B/s")),
    "bit/s": ((1e9, "Gbit/s"), (1e6, "Mbit/s"), (1e3, "kbit/s"), (1.0, "bit/s")),
    "op/s": ((1e6, "Mop/s"), (1e3, "kop/s"), (1.0, "op/s")),
    "B": ((1e9, "GB"), (1e6, "MB"), (1e3, "kB"), (1.0, "B")),
}


def format_value(value: float, unit: str) -> str:
    """*value* (in *unit*) for a human: three significant digits and a scaled unit."""
    for scale, label in _SCALES.get(unit, ()):
        if abs(value) >= scale or scale == _SCALES[unit][-1][0]:
            return f"{value / scale:.3g} {label}"
    return f"{value:.3g} {unit}" if unit != "1" else f"{value:.3g}"
