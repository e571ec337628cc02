"""The native baseline: which variant a container variant is compared with, and on which
metric (DESIGN 4: every container figure as a ratio to native).

:data:`bench.kinds.BASELINES` says, per workload kind, which variant parameter marks the
native baseline; :func:`pair_with_natives` and :func:`native_counterparts` pair each
container variant with the native variant measured beside it, and :func:`headline_of`
picks the metric that stands for a variant in that comparison. The report, the terminal
and :mod:`bench.analysis.cells` all read these rules, so they never pair differently.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import TypeVar

from bench.analysis.frame import variant_label, varying_keys
from bench.kinds import is_native
from bench.metrics import METRICS
from bench.results import Result, RunDocument


def by_scenario(results: Iterable[Result]) -> dict[str, list[Result]]:
    """*results* by scenario: scenarios in the order first seen, results in their order."""
    scenarios: dict[str, list[Result]] = {}
    for result in results:
        scenarios.setdefault(result.scenario, []).append(result)
    return scenarios


def native_counterparts(documents: Iterable[RunDocument]) -> dict[tuple[str, str, str], str]:
    """Map ``(run_id, scenario, container variant label)`` to its native variant's label.

    Rule: the counterpart is a native variant (:func:`is_native`) of the same scenario in
    the same run that agrees with the container variant on every parameter whose value
    differs between that scenario's native variants. Parameters that are constant across
    the natives (say ``network=none`` for native startup) describe the container side
    only and are not compared. A variant with no such native has no entry.
    """
    pairs: dict[tuple[str, str, str], str] = {}
    for document in documents:
        run_id = str(document.run["id"])
        for scenario, scenario_results in by_scenario(document.results).items():
            for container, native in pair_with_natives(scenario_results):
                pairs[(run_id, scenario, variant_label(container.variant))] = variant_label(
                    native.variant
                )
    return pairs


def pair_with_natives(scenario_results: Sequence[Result]) -> Iterator[tuple[Result, Result]]:
    """``(container result, its native result)`` pairs of one scenario's results (the rule
    of :func:`native_counterparts`); a container result with no native is left out."""
    natives = [r for r in scenario_results if is_native(r.kind, r.variant)]
    varying = varying_keys([n.variant for n in natives])
    for result in scenario_results:
        if is_native(result.kind, result.variant):
            continue
        match = next(
            (n for n in natives if all(n.variant.get(k) == result.variant.get(k) for k in varying)),
            None,
        )
        if match is not None:
            yield result, match


_Key = TypeVar("_Key", bound=Hashable)


def headline_of(compared: Sequence[str]) -> str:
    """The metric that stands for a container variant in its comparison with native, out
    of the (non-empty) metrics it was compared on: the first metric of the metric table
    marked ``headline`` among them, else the first of them."""
    return next((m for m, d in METRICS.items() if d.headline and m in compared), compared[0])


def headlines(compared: Iterable[tuple[_Key, str]]) -> dict[_Key, str]:
    """:func:`headline_of` each variant in *compared*: ``(variant key, metric)`` pairs, one
    per metric a variant was compared with native on, in the order recorded."""
    metrics: dict[_Key, list[str]] = {}
    for key, metric in compared:
        metrics.setdefault(key, []).append(metric)
    return {key: headline_of(names) for key, names in metrics.items()}
