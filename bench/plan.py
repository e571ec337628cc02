"""The plan's data types: what a scenario file becomes once loaded and validated.

:class:`Scenario` holds its :class:`Variant` points; :class:`Suite` names a set of
scenarios; :class:`ParamSpec` is one parameter of a workload kind, which
:mod:`bench.scenarios` checks every variant against. All frozen: a plan does not change
while it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: A parameter's value, as TOML gives it and results store it.
Scalar = str | int | float | bool


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


@dataclass(frozen=True)
class Variant:
    """One point of a scenario's matrix: every parameter of the kind with its value."""

    params: tuple[tuple[str, Scalar], ...]

    def as_dict(self) -> dict[str, Scalar]:
        return dict(self.params)

    def __getitem__(self, key: str) -> Scalar:
        return self.as_dict()[key]

    def label(self, keys: Iterable[str] | None = None) -> str:
        """``key=value`` pairs for humans, limited to *keys* when given, sorted by key as
        the terminal's tables and the report label variants."""
        shown = set(keys) if keys is not None else None
        return ", ".join(
            f"{k}={str(v).lower() if isinstance(v, bool) else v}"
            for k, v in sorted(self.params, key=lambda item: item[0])
            if shown is None or k in shown
        )


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: what to run, in which variants, how many times."""

    name: str
    kind: str
    description: str
    variants: tuple[Variant, ...]
    repetitions: int
    warmups: int
    timeout: float
    path: Path | None = None

    @property
    def varying(self) -> tuple[str, ...]:
        """The parameters whose value differs between variants (what a label should show)."""
        keys = [k for k, _ in self.variants[0].params] if self.variants else []
        return tuple(k for k in keys if len({v[k] for v in self.variants}) > 1)


@dataclass(frozen=True)
class Suite:
    """A named set of scenarios with caps on their repetitions and warmups."""

    name: str
    description: str
    scenarios: tuple[str, ...]
    max_repetitions: int | None = None
    max_warmups: int | None = None
