"""Workload kinds: one module per kind, each implementing :class:`Workload`.

:data:`REGISTRY` maps a scenario's ``kind`` to its workload; scenario validation, the
driver and ``crossdock list`` all read it (STYLE rules 4 and 6).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bench.provision.context import RunContext
    from bench.scenarios import Scalar, Scenario, Variant


@dataclass(frozen=True)
class ParamSpec:
    """One variant parameter of a workload kind: its type, allowed values and default."""

    type: type
    default: Scalar
    choices: tuple[Scalar, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""
    #: extra check of a value's form (e.g. a size like "128MiB"): the problem, or None
    validator: Callable[[Any], str | None] | None = None

    def check(self, name: str, value: object) -> str | None:
        """Why *value* is not valid for parameter *name*, or ``None`` when it is."""
        # bool is an int subclass: keep them apart so `concurrency = true` is refused;
        # a whole number is a fine float
        is_bool = isinstance(value, bool)
        fits = isinstance(value, self.type) or (self.type is float and isinstance(value, int))
        if not fits or is_bool != (self.type is bool):
            return f"must be {self.type.__name__}, not {type(value).__name__} ({value!r})"
        if self.choices is not None and value not in self.choices:
            valid = ", ".join(str(c) for c in self.choices)
            return f"unknown value {value!r} (valid: {valid})"
        if self.minimum is not None and isinstance(value, int | float) and value < self.minimum:
            return f"{value!r} is below the minimum {self.minimum:g}"
        if self.maximum is not None and isinstance(value, int | float) and value > self.maximum:
            return f"{value!r} is above the maximum {self.maximum:g}"
        return self.validator(value) if self.validator is not None else None


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


class SampleError(Exception):
    """A repetition failed (non-zero exit, timeout, unparsable output); the message says how."""


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


#: kind -> "module:class" of its workload, imported on first use.
_KINDS: dict[str, str] = {
    "startup": "bench.workloads.startup:StartupWorkload",
    "network": "bench.workloads.network:NetworkWorkload",
    "fileio": "bench.workloads.fileio:FileioWorkload",
    "command": "bench.workloads.command:CommandWorkload",
}


def registry() -> dict[str, Workload]:
    """Name-keyed table of the workload kinds."""
    table: dict[str, Workload] = {}
    for kind, where in _KINDS.items():
        module, cls = where.split(":")
        table[kind] = getattr(importlib.import_module(module), cls)()
    return table


def get(kind: str) -> Workload:
    """The workload for *kind*; an unknown kind raises KeyError listing the valid ones."""
    table = registry()
    try:
        return table[kind]
    except KeyError:
        raise KeyError(f"unknown kind {kind!r} (valid: {', '.join(sorted(table))})") from None
