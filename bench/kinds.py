"""The workload kinds: one row of facts per kind, read by every stage (STYLE rule 4).

Adding a kind means adding its module under :mod:`bench.workloads` and one :class:`Kind`
row here: the scenario loader, the driver, the results reader, the analysis (which
variant is the native baseline) and the report (which summary area) all read this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.plan import Scalar


@dataclass(frozen=True)
class Kind:
    """What the rest of crossdock needs to know about one workload kind."""

    name: str
    #: ``"module:Class"`` of its :class:`bench.workloads.Workload`, imported on first use
    #: so that reading results never imports the engine-facing code
    workload: str
    #: the variant parameter and value that mark the native baseline: every other variant
    #: of a scenario can be divided by the baseline variant that agrees with it on all
    #: other parameters; ``None`` for a kind with no native counterpart
    baseline: tuple[str, Scalar] | None
    #: the heading of the report's summary area for this kind, or ``None`` for no area
    area: str | None
    #: variant parameters added after results of this kind were first written, with what
    #: every earlier result did (a new parameter's default must be that behaviour)
    added_params: Mapping[str, Scalar] = field(default_factory=dict)


#: The kinds in report order.
KINDS: Mapping[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "startup",
            "bench.workloads.startup:StartupWorkload",
            ("runtime", "native"),
            "Container startup",
            {"cache": "warm"},
        ),
        Kind(
            "fileio",
            "bench.workloads.fileio:FileioWorkload",
            ("target", "native"),
            "File I/O",
            {"cache": "warm"},
        ),
        Kind(
            "network",
            "bench.workloads.network:NetworkWorkload",
            ("path", "native-loopback"),
            "Network",
        ),
        Kind("command", "bench.workloads.command:CommandWorkload", ("target", "native"), None),
        Kind("footprint", "bench.workloads.footprint:FootprintWorkload", None, None),
    )
}

#: kind -> (parameter, value) of its native baseline variant.
BASELINES: Mapping[str, tuple[str, Scalar]] = {
    k.name: k.baseline for k in KINDS.values() if k.baseline is not None
}

#: kind -> parameters added after schema version 1 with the value earlier results had.
ADDED_PARAMS: Mapping[str, Mapping[str, Scalar]] = {
    k.name: k.added_params for k in KINDS.values() if k.added_params
}

#: The areas of the report's summary, in page order: (kind, heading).
AREAS: tuple[tuple[str, str], ...] = tuple(
    (k.name, k.area) for k in KINDS.values() if k.area is not None
)


def is_native(kind: str, variant: Mapping[str, object]) -> bool:
    """Whether *variant* of a *kind* workload is its native baseline."""
    rule = BASELINES.get(kind)
    return rule is not None and variant.get(rule[0]) == rule[1]
