"""Warnings that say what to change for numbers you can trust: one set of rules for the
terminal after a run (:func:`bench.console.warnings`) and the report
(:func:`bench.report.build_report`), both applied to the same cells by
:func:`bench.analysis.cells.cell_warnings`, so the two never disagree.

:func:`findings` checks one metric series (its summary, unit and, for a container
variant, its sample-size check against native) against the :data:`WARNINGS` rules;
:func:`group_warnings` turns the findings of many series into one line per run,
scenario and rule, naming the first few series and the ``--repeat`` that would do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from bench.analysis import stats

RuleName = Literal["ci", "cv", "native", "indistinct"]


@dataclass(frozen=True)
class Rule:
    """What is wrong and what to do about it; ``{repeat}`` in ``advice`` is the
    ``--repeat`` needed (the largest of the findings grouped in one warning)."""

    problem: str
    advice: str


#: The warning rules, in the order :func:`findings` checks them.
WARNINGS: Mapping[RuleName, Rule] = {
    "ci": Rule(
        "too few samples for a 95 % interval of the median",
        "run with --repeat {repeat} or more",
    ),
    "cv": Rule(
        f"coefficient of variation above {stats.CV_WARN:.0%}",
        "close other programs, keep the machine on mains power, disable CPU frequency "
        "scaling, or raise --repeat to {repeat}",
    ),
    "native": Rule(
        "too few samples to tell the container from the native baseline",
        "run with --repeat {repeat} or more",
    ),
    "indistinct": Rule(
        "a difference from native smaller than the run-to-run spread",
        "treat these as equal to native; telling them apart would take --repeat {repeat}",
    ),
}

#: Beyond this many samples per side, a difference is reported as indistinct rather than
#: as a --repeat to run.
PRACTICAL_REPEAT = 100

#: The largest --repeat the ``cv`` rule suggests.
CV_REPEAT_LIMIT = 1000

#: Units whose spread is not a warning sign: counts (say retransmits) vary by nature.
NO_CV_WARNING_UNITS: tuple[str, ...] = ("1",)

#: How many examples a grouped warning names before "and N more".
EXAMPLES = 3


@dataclass(frozen=True)
class Finding:
    """One :data:`WARNINGS` rule broken by one metric series: the rule, the series'
    numbers that broke it (``"n = 5"``, ``"12.3%"``, ``"need 40, have 10"``) and the
    ``--repeat`` that would mend it."""

    rule: RuleName
    detail: str
    repeat: int


@dataclass(frozen=True)
class Located:
    """A :class:`Finding` with the metric series it is about: ``where`` names the run
    (the run's label in the report; empty in the terminal, which shows one run), and
    ``variant`` is the variant's label within its scenario."""

    where: str
    scenario: str
    variant: str
    metric: str
    finding: Finding


def too_variable(summary: stats.Summary, unit: str) -> bool:
    """Whether the series' coefficient of variation is above :data:`bench.analysis.stats.CV_WARN`,
    in a unit whose spread is a warning sign (not :data:`NO_CV_WARNING_UNITS`)."""
    return summary.cv is not None and summary.cv > stats.CV_WARN and unit not in NO_CV_WARNING_UNITS


def cv_repeat(summary: stats.Summary) -> int:
    """The --repeat at which the median of a series as variable as *summary* would be
    about as tight as one at :data:`bench.analysis.stats.CV_WARN` is now: the interval width shrinks
    roughly with the square root of n, so ``n * (cv / CV_WARN) ** 2``, rounded up, at most
    :data:`CV_REPEAT_LIMIT`."""
    cv = summary.cv or 0.0
    return min(CV_REPEAT_LIMIT, int(summary.n * (cv / stats.CV_WARN) ** 2) + 1)


def findings(
    summary: stats.Summary,
    unit: str,
    versus: stats.SampleSizeCheck | None,
    *,
    headline: bool,
    needed_for_ci: int,
) -> Iterator[Finding]:
    """The :data:`WARNINGS` rules one metric series breaks, in their order.

    *summary* and *unit* are the series'; *versus* is a container series' sample-size
    check against the same metric of its native counterpart (``None`` for a native series
    or one without a counterpart), and is looked at only when *headline* (the series is
    the one standing for its variant in the comparison with native, see
    :func:`bench.analysis.baseline.headline_of`). *needed_for_ci* is
    :func:`bench.analysis.stats.min_samples_for_ci`.
    """
    if summary.n < needed_for_ci:
        yield Finding("ci", f"n = {summary.n}", needed_for_ci)
    if too_variable(summary, unit):
        yield Finding("cv", f"{summary.cv:.1%}", cv_repeat(summary))
    if headline and versus is not None and versus.needed is not None and versus.too_few:
        rule: RuleName = "native" if versus.needed <= PRACTICAL_REPEAT else "indistinct"
        yield Finding(rule, f"need {versus.needed}, have {versus.have}", versus.needed)


def group_warnings(found: Iterable[Located]) -> Iterator[str]:
    """One warning per run, scenario and rule of *found* (groups in the order first
    seen): what is wrong in how many series, the first :data:`EXAMPLES` of them, and
    what to do, with the largest ``--repeat`` among them.

    ``"<where>, <scenario>: <problem> in <n> metric series (<metric> [<variant>] <detail>;
    ...); <advice>"``, without ``"<where>, "`` when *where* is empty.
    """
    grouped: dict[tuple[str, str, RuleName], list[Located]] = {}
    for located in found:
        key = (located.where, located.scenario, located.finding.rule)
        grouped.setdefault(key, []).append(located)
    for (where, scenario, rule), group in grouped.items():
        examples = "; ".join(
            f"{g.metric} [{g.variant}] {g.finding.detail}" for g in group[:EXAMPLES]
        )
        more = f"; and {len(group) - EXAMPLES} more" if len(group) > EXAMPLES else ""
        prefix = f"{where}, " if where else ""
        repeat = max(g.finding.repeat for g in group)
        yield (
            f"{prefix}{scenario}: {WARNINGS[rule].problem} in {len(group)} metric series "
            f"({examples}{more}); {WARNINGS[rule].advice.format(repeat=repeat)}"
        )
