"""Tests of bench.analysis.advice: the warning rules, their wording, and that the terminal and the
report draw the same warnings from the same results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from factories import (
    PLATFORMS,
    lognormal,
    make_document,
    network_results,
    result,
    startup_results,
    startup_variant,
    write_suite,
)

from bench import console
from bench.analysis import advice, invariants
from bench.analysis.stats import CV_WARN, SampleSizeCheck, min_samples_for_ci, summarize
from bench.report import build_report
from bench.results import RunDocument, read, write_atomic

NEEDED = min_samples_for_ci()
STEADY_SAMPLES = lognormal(np.random.default_rng(1), 0.3, 10, sigma=0.01)
STEADY = summarize(STEADY_SAMPLES)


def _findings(
    samples: tuple[float, ...],
    unit: str = "s",
    versus: SampleSizeCheck | None = None,
    *,
    headline: bool = True,
) -> list[advice.Finding]:
    return list(
        advice.findings(summarize(samples), unit, versus, headline=headline, needed_for_ci=NEEDED)
    )


def test_a_steady_series_with_enough_samples_breaks_no_rule() -> None:
    enough = SampleSizeCheck(needed=8, have=10)
    assert list(advice.findings(STEADY, "s", enough, headline=True, needed_for_ci=NEEDED)) == []


def test_too_few_samples_for_an_interval_asks_for_the_smallest_repeat_that_gives_one() -> None:
    assert _findings((0.3, 0.31, 0.29)) == [advice.Finding("ci", "n = 3", NEEDED)]


def test_a_variable_series_asks_for_the_repeat_that_would_tighten_its_median() -> None:
    samples = lognormal(np.random.default_rng(2), 0.3, 10, sigma=0.3)
    cv = summarize(samples).cv
    assert cv is not None and cv > CV_WARN

    assert _findings(samples) == [
        advice.Finding("cv", f"{cv:.1%}", int(10 * (cv / CV_WARN) ** 2) + 1)
    ]


def test_the_suggested_repeat_for_spread_is_capped() -> None:
    wild = summarize((1.0, 100.0) * 50)
    assert advice.cv_repeat(wild) == advice.CV_REPEAT_LIMIT


@pytest.mark.parametrize("unit", advice.NO_CV_WARNING_UNITS)
def test_counts_vary_by_nature_and_their_spread_is_no_warning(unit: str) -> None:
    retransmits = (0.0, 3.0, 12.0, 1.0, 0.0) * 2
    assert _findings(retransmits, unit) == []
    assert _findings(retransmits, "s")[0].rule == "cv"


def test_a_comparison_with_native_is_judged_on_the_headline_metric_only() -> None:
    short = SampleSizeCheck(needed=40, have=10)
    assert _findings(STEADY_SAMPLES, versus=short, headline=False) == []
    assert _findings(STEADY_SAMPLES, versus=short) == [
        advice.Finding("native", "need 40, have 10", 40)
    ]


def test_beyond_a_practical_repeat_a_difference_is_called_indistinct() -> None:
    limit = advice.PRACTICAL_REPEAT
    at_limit = SampleSizeCheck(needed=limit, have=10)
    beyond = SampleSizeCheck(needed=limit + 1, have=10)
    assert [f.rule for f in _findings(STEADY_SAMPLES, versus=at_limit)] == ["native"]
    assert [f.rule for f in _findings(STEADY_SAMPLES, versus=beyond)] == ["indistinct"]
    # no n separates them, or there are enough already: nothing to say
    assert _findings(STEADY_SAMPLES, versus=SampleSizeCheck(needed=None, have=10)) == []
    assert _findings(STEADY_SAMPLES, versus=SampleSizeCheck(needed=8, have=10)) == []


def _at(where: str, scenario: str, variant: str, finding: advice.Finding) -> advice.Located:
    return advice.Located(where, scenario, variant, "end_to_end", finding)


def test_warnings_group_by_run_scenario_and_rule_naming_a_few_series() -> None:
    found = [
        _at("mac", "startup", f"v{i}", advice.Finding("native", f"need {20 + i}, have 10", 20 + i))
        for i in range(5)
    ]
    found.insert(1, _at("mac", "startup", "v0", advice.Finding("ci", "n = 3", NEEDED)))
    found.append(_at("linux", "startup", "v0", advice.Finding("ci", "n = 3", NEEDED)))

    assert list(advice.group_warnings(found)) == [
        "mac, startup: too few samples to tell the container from the native baseline in 5 "
        "metric series (end_to_end [v0] need 20, have 10; end_to_end [v1] need 21, have 10; "
        "end_to_end [v2] need 22, have 10; and 2 more); run with --repeat 24 or more",
        "mac, startup: too few samples for a 95 % interval of the median in 1 metric series "
        f"(end_to_end [v0] n = 3); run with --repeat {NEEDED} or more",
        "linux, startup: too few samples for a 95 % interval of the median in 1 metric series "
        f"(end_to_end [v0] n = 3); run with --repeat {NEEDED} or more",
    ]


def test_without_a_run_label_a_warning_starts_at_the_scenario() -> None:
    (warning,) = advice.group_warnings([_at("", "startup", "default", _findings((0.3,) * 3)[0])])
    assert warning.startswith("startup: too few samples for a 95 % interval")


def _terminal_and_report(document: RunDocument, tmp_path: Path) -> tuple[list[str], list[str]]:
    """The advice lines of ``crossdock run``'s terminal output and of the report of the
    same results file, the report's without its run label."""
    path = tmp_path / "run.json"
    write_atomic(path, document)
    info = build_report(inputs=[path], output=tmp_path / "page.html")
    label = f"{document.platform['id']}, "
    page = [w.removeprefix(label) for w in info.warnings if w.startswith(label)]
    terminal = console.warnings(read(path))
    extra = invariants.check(document)
    assert terminal[len(terminal) - len(extra) :] == extra
    return terminal[: len(terminal) - len(extra)], page


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_terminal_and_the_report_warn_alike_on_a_default_suite(
    platform: str, tmp_path: Path
) -> None:
    [path] = write_suite(tmp_path / "results", [platform])

    terminal, page = _terminal_and_report(read(path), tmp_path)

    assert terminal == page
    rules = {rule for rule, spec in advice.WARNINGS.items() if any(spec.problem in w for w in page)}
    assert {"cv", "native"} <= rules
    # every network result has noisy retransmits (a Poisson count): neither warns of them
    assert not any("retransmits" in w for w in terminal + page)


def test_the_terminal_and_the_report_warn_alike_on_a_short_run(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    noisy = {"retries": ("1", "lower", (0.0, 5.0, 1.0, 0.0, 9.0))}
    document = make_document(
        run_id="short",
        results=[
            *startup_results(rng, n=NEEDED - 1, containers=3),
            result("startup", "startup", startup_variant("container", image="alpine"), noisy),
            *network_results(rng, slowdown=1.0),
        ],
    )

    terminal, page = _terminal_and_report(document, tmp_path)

    assert terminal == page
    assert any(w.startswith("startup: too few samples for a 95 % interval") for w in page)
    assert not any("retries" in w for w in terminal)
