"""Workload kinds: one module per kind, each implementing :class:`Workload`.

:func:`registry` builds the name-keyed table of them from :data:`bench.kinds.KINDS`;
scenario validation, the driver and ``crossdock list`` all read it (STYLE rules 4 and 6).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from bench.kinds import KINDS

if TYPE_CHECKING:
    from bench.plan import ParamSpec, Scalar, Scenario, Variant
    from bench.provision.context import RunContext


class Workload(Protocol):
    """What every workload kind provides.

    The driver calls :meth:`prepare` once per scenario (inside the run's cleanup scope),
    then :meth:`sample` once per warmup and repetition of each variant, interleaved.
    """

    kind: str
    params: Mapping[str, ParamSpec]
    metrics: tuple[str, ...]

    def check_variant(self, variant: Mapping[str, Scalar]) -> str | None:
        """Why this combination of parameters is invalid, or ``None``. Static: no engine."""

    def needs_engine(self, variant: Variant) -> bool:
        """Whether the variant runs in a container (and so is skipped without an engine)."""

    def prepare(self, ctx: RunContext, scenario: Scenario, variants: Sequence[Variant]) -> None:
        """Provision what the scenario's *variants* (those still to run) share: images,
        networks, directories. Raising fails all of them with the reason."""

    def finish(self, ctx: RunContext, scenario: Scenario) -> None:
        """Release what :meth:`prepare` made (always called, also after a failure). The
        run's label cleanup is the safety net, not the plan."""

    def skip_reason(self, ctx: RunContext, variant: Variant) -> str | None:
        """Why this variant cannot be measured here (recorded as a skip), or ``None``.
        Called after :meth:`prepare`, which may have found out."""

    def sample(self, ctx: RunContext, scenario: Scenario, variant: Variant) -> dict[str, float]:
        """Measure one repetition: metric name -> value in the metric's unit.

        A metric that could not be measured in this repetition is left out, never zero.
        Raises :class:`bench.workloads.SampleError` (or any exception) on failure.
        """

    def describe(
        self, ctx: RunContext, variant: Variant
    ) -> tuple[dict[str, str] | None, dict[str, object]]:
        """The ``tool`` record and ``extra`` facts stored with the variant's result."""


def registry() -> dict[str, Workload]:
    """Name-keyed table of the workload kinds."""
    table: dict[str, Workload] = {}
    for kind in KINDS.values():
        module, cls = kind.workload.split(":")
        table[kind.name] = getattr(importlib.import_module(module), cls)()
    return table


def get(kind: str) -> Workload:
    """The workload for *kind*; an unknown kind raises KeyError listing the valid ones."""
    table = registry()
    try:
        return table[kind]
    except KeyError:
        raise KeyError(f"unknown kind {kind!r} (valid: {', '.join(sorted(table))})") from None
