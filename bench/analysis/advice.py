"""Warnings that say what to change for numbers you can trust: one set of rules for the
terminal after a run (:func:`bench.console.warnings`) and the report
(:func:`bench.report.build_report`), both applied to the same cells by
:func:`bench.analysis.cells.cell_warnings`, so the two never disagree.

:func:`findings` checks one metric series (its summary, unit and, for a container
variant, its ratio to native) against the :data:`WARNINGS` rules; :func:`group_warnings`
turns the findings of many series into one line per run, scenario and rule, naming the
first few series and what to do.

Sample-size advice converges: it is the number of samples at which the median's interval
(or the ratio's) would be :data:`WANTED` wide on each side, estimated from the interval
the series has now. Interval widths shrink with the square root of *n* whatever the
distribution (the order statistics bounding a median sit about ``sqrt(n)`` ranks apart),
so a run of the size advised gives an interval of about the width wanted, and advice
drawn from it names about the same size again: following it does not escalate. A high
coefficient of variation is reported as noise with its likely causes, never as a
``--repeat``: the spread of the samples does not fall with *n*.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from bench.analysis import stats

RuleName = Literal["ci", "wide", "cv", "native"]

#: The half-width of a median's interval (or a ratio's), relative to it, that the
#: sample-size advice aims for: +-5 %.
WANTED = 0.05


@dataclass(frozen=True)
class Rule:
    """What is wrong and what to do about it: ``advice`` for a crossdock run, ``imported``
    for data imported from another harness (pytest-benchmark), where crossdock's options
    mean nothing; ``{n}`` in either is the sample count advised (the largest of the
    findings grouped in one warning)."""

    problem: str
    advice: str
    imported: str


_PYTEST = "pytest --benchmark-min-rounds={n}"
_PM = f"\N{PLUS-MINUS SIGN}{100 * WANTED:g} %"

#: The warning rules, in the order :func:`findings` checks them.
WARNINGS: Mapping[RuleName, Rule] = {
    "ci": Rule(
        "too few samples for a 95 % interval of the median",
        "run with --repeat {n} or more",
        f"rerun the benchmarks with at least {{n}} rounds ({_PYTEST})",
    ),
    "wide": Rule(
        f"a median's 95 % interval wider than {_PM}",
        f"about {{n}} samples would narrow it to {_PM} "
        f"(--repeat {{n}}, or --target-ci {200 * WANTED:g} to sample until then)",
        f"about {{n}} rounds would narrow it to {_PM} ({_PYTEST})",
    ),
    "cv": Rule(
        f"noisy: coefficient of variation above {stats.CV_WARN:.0%}",
        "that spread comes from the machine, and more samples tighten the median, not the "
        "spread; likely causes: other programs or background jobs, CPU frequency scaling or "
        "power saving, thermal throttling, a busy VM host or shared CI runner",
        "that spread comes from the machine, and more rounds tighten the median, not the "
        "spread; likely causes: other programs or background jobs, CPU frequency scaling or "
        "power saving, thermal throttling, a busy VM host or shared CI runner",
    ),
    "native": Rule(
        "no difference from the native baseline shown, and the ratio's 95 % interval is "
        f"wider than {_PM}",
        f"about {{n}} samples per side would narrow it to {_PM} (--repeat {{n}})",
        f"about {{n}} rounds per side would narrow it to {_PM} ({_PYTEST})",
    ),
}

#: Units whose spread is not a warning sign: counts (say retransmits) vary by nature.
NO_CV_WARNING_UNITS: tuple[str, ...] = ("1",)

#: How many examples a grouped warning names before "and N more".
EXAMPLES = 3


@dataclass(frozen=True)
class Finding:
    """One :data:`WARNINGS` rule broken by one metric series: the rule, the series'
    numbers that broke it (``"n = 5"``, ``"12.3%"``, ``"±8.1 % at n = 10"``) and the
    sample count advised (None for a rule that advises no count: ``cv``)."""

    rule: RuleName
    detail: str
    samples: int | None


@dataclass(frozen=True)
class Located:
    """A :class:`Finding` with the metric series it is about: ``where`` names the run
    (the run's label in the report; empty in the terminal, which shows one run),
    ``variant`` is the variant's label within its scenario, and ``imported`` says the run
    was imported from another harness (its advice then names that harness's options)."""

    where: str
    scenario: str
    variant: str
    metric: str
    finding: Finding
    imported: bool = False


def too_variable(summary: stats.Summary, unit: str) -> bool:
    """Whether the series' coefficient of variation is above :data:`bench.analysis.stats.CV_WARN`,
    in a unit whose spread is a warning sign (not :data:`NO_CV_WARNING_UNITS`)."""
    return summary.cv is not None and summary.cv > stats.CV_WARN and unit not in NO_CV_WARNING_UNITS


def samples_for(n: int, half_width: float, wanted: float = WANTED) -> int:
    """The sample count at which an interval now *half_width* wide (relative, on each
    side) at *n* samples would be *wanted* wide: ``n * (half_width / wanted) ** 2``
    rounded up (widths shrink with ``sqrt(n)``), never below the smallest count with an
    interval (:func:`bench.analysis.stats.min_samples_for_ci`)."""
    return max(stats.min_samples_for_ci(), math.ceil(n * (half_width / wanted) ** 2))


def median_half_width(summary: stats.Summary) -> float | None:
    """The half-width of the median's 95 % interval relative to the median, or None
    without an interval (or with a zero median)."""
    if summary.ci_low is None or summary.ci_high is None or summary.median == 0:
        return None
    return (summary.ci_high - summary.ci_low) / 2 / abs(summary.median)


def ratio_half_width(ratio: stats.Ratio) -> float | None:
    """The half-width of a ratio's interval on a log scale, as a relative factor
    (``exp((ln high - ln low) / 2) - 1``: ``[0.95-1.05]`` is about 0.05), or None
    without an interval."""
    if ratio.ci is None or min(ratio.ci) <= 0:
        return None
    return math.exp((math.log(ratio.ci[1]) - math.log(ratio.ci[0])) / 2) - 1


def findings(
    summary: stats.Summary,
    unit: str,
    versus: stats.Ratio | None,
    *,
    headline: bool,
    needed_for_ci: int,
    direction: str = "lower",
) -> Iterator[Finding]:
    """The :data:`WARNINGS` rules one metric series breaks, in their order.

    *summary* and *unit* are the series'; *versus* is a container series' ratio to the
    same metric of its native counterpart, with its bootstrap interval (``None`` for a
    native series or one without a counterpart), looked at only when *headline* (the
    series is the one standing for its variant in the comparison with native, see
    :func:`bench.analysis.baseline.headline_of`); *direction* is the metric's, for the
    ratio's wording. *needed_for_ci* is :func:`bench.analysis.stats.min_samples_for_ci`.
    """
    if summary.n < needed_for_ci:
        yield Finding("ci", f"n = {summary.n}", needed_for_ci)
    counts = unit in NO_CV_WARNING_UNITS
    half = median_half_width(summary)
    if half is not None and half > WANTED and not counts:
        detail = f"\N{PLUS-MINUS SIGN}{half:.1%} at n = {summary.n}"
        yield Finding("wide", detail, samples_for(summary.n, half))
    if too_variable(summary, unit):
        yield Finding("cv", f"{summary.cv:.1%}", None)
    if headline and versus is not None and versus.ci is not None:
        ratio_half = ratio_half_width(versus)
        if ratio_half is not None and ratio_half > WANTED and versus.ci[0] <= 1 <= versus.ci[1]:
            shown = stats.format_slowdown(versus, direction)
            yield Finding(
                "native", f"{shown} at n = {summary.n}", samples_for(summary.n, ratio_half)
            )


def group_warnings(found: Iterable[Located]) -> Iterator[str]:
    """One warning per run, scenario and rule of *found* (groups in the order first
    seen): what is wrong in how many series, the first :data:`EXAMPLES` of them, and
    what to do, with the largest sample count advised among them.

    ``"<where>, <scenario>: <problem> in <n> metric series (<metric> [<variant>] <detail>;
    ...); <advice>"``, without ``"<where>, "`` when *where* is empty.
    """
    grouped: dict[tuple[str, str, RuleName, bool], list[Located]] = {}
    for located in found:
        key = (located.where, located.scenario, located.finding.rule, located.imported)
        grouped.setdefault(key, []).append(located)
    for (where, scenario, rule, imported), group in grouped.items():
        examples = "; ".join(
            f"{g.metric} [{g.variant}] {g.finding.detail}" for g in group[:EXAMPLES]
        )
        more = f"; and {len(group) - EXAMPLES} more" if len(group) > EXAMPLES else ""
        prefix = f"{where}, " if where else ""
        n = max((g.finding.samples or 0) for g in group)
        spec = WARNINGS[rule]
        todo = (spec.imported if imported else spec.advice).format(n=n)
        yield (
            f"{prefix}{scenario}: {spec.problem} in {len(group)} metric series "
            f"({examples}{more}); {todo}"
        )
