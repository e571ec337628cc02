"""Invariants: what must hold if the figures are right, checked after every run.

On a Linux-native engine a bind mount is the host's own filesystem and a container's
loopback is the host kernel's loopback: a ratio far from 1 there means the harness, not
the platform, made a difference (a cache, a fallback, a noisy neighbour). On every
platform, a cold variant is not faster than its warm twin. Violations are warnings shown
after a run and in the report, each saying what to look at.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from bench.analysis.stats import summarize
from bench.results import Result, RunDocument


@dataclass(frozen=True)
class Invariant:
    """``metric`` of the variant with ``param = value`` divided by that of its counterpart
    with ``param = reference`` (same other parameters) must lie within ``1 ± tolerance``
    (or, with ``at_least``, not below ``1 - tolerance``) on platform ``platform`` (None:
    every platform), for the variants matching ``where``."""

    name: str
    platform: str | None
    kind: str
    param: str
    value: str
    reference: str
    metric: str
    tolerance: float
    where: Mapping[str, tuple[str, ...]]
    hint: str
    at_least: bool = False

    def holds(self, ratio: float) -> bool:
        return ratio >= 1 - self.tolerance if self.at_least else abs(ratio - 1) <= self.tolerance

    @property
    def expected(self) -> str:
        return f">= {1 - self.tolerance:.2f}" if self.at_least else f"1 ± {self.tolerance:.0%}"


INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "bind equals native for sequential I/O on Linux",
        "linux-native", "fileio", "target", "bind", "native", "bandwidth", 0.15,
        {"workload": ("seq-read", "seq-write")},
        "a bind mount is the same filesystem here; look at direct I/O (extra.direct) and at "
        "other load on the disk, and raise --repeat",
    ),
    Invariant(
        "container loopback equals native loopback on Linux",
        "linux-native", "network", "path", "container-loopback", "native-loopback", "bitrate",
        0.20, {},
        "both use the host kernel's loopback here; look at CPU load and CPU frequency scaling",
    ),
    Invariant(
        "a cold start is not faster than a warm one",
        None, "startup", "cache", "cold", "warm", "end_to_end", 0.10, {},
        "the cache drop did not take effect or the load changed between them; look at "
        "extra.cache_method and at other work on the machine, and raise --repeat",
        at_least=True,
    ),
    Invariant(
        "a cold tree is not faster than a warm one",
        None, "fileio", "cache", "cold", "warm", "tree_total", 0.10, {"workload": ("tree",)},
        "the cache drop did not take effect or the load changed between them; look at "
        "extra.cache_method and at other work on the disk, and raise --repeat",
        at_least=True,
    ),
)  # fmt: skip


def check(document: RunDocument) -> list[str]:
    """The invariant violations of one results document, as warnings."""
    return [
        warning
        for invariant in INVARIANTS
        if invariant.platform in (None, document.platform.get("id"))
        for warning in _violations(invariant, document.results)
    ]


def _violations(invariant: Invariant, results: Sequence[Result]) -> Iterator[str]:
    for result in results:
        if not _applies(invariant, result, invariant.value):
            continue
        wanted = {**result.variant, invariant.param: invariant.reference}
        reference = next((r for r in results if dict(r.variant) == wanted), None)
        mine, theirs = _median(result, invariant.metric), _median(reference, invariant.metric)
        if mine is None or theirs is None or theirs == 0:
            continue
        ratio = mine / theirs
        if not invariant.holds(ratio):
            where = ", ".join(f"{k}={result.variant[k]}" for k in invariant.where)
            yield (
                f"invariant broken: {invariant.name}: {result.scenario} [{where}] "
                f"{invariant.value}/{invariant.reference} {invariant.metric} = {ratio:.2f} "
                f"(expected {invariant.expected}); {invariant.hint}"
            )


def _applies(invariant: Invariant, result: Result, value: str) -> bool:
    return (
        result.kind == invariant.kind
        and result.status == "ok"
        and result.variant.get(invariant.param) == value
        and all(result.variant.get(k) in allowed for k, allowed in invariant.where.items())
    )


def _median(result: Result | None, name: str) -> float | None:
    if result is None or result.status != "ok":
        return None
    found = next((m for m in result.metrics if m.name == name), None)
    return summarize(found.samples).median if found and found.samples else None
