"""Tests of bench.analysis.advice: the warning rules, their wording, and that the terminal and the
report draw the same warnings from the same results."""

from __future__ import annotations

import math
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
from bench.analysis.stats import Ratio, min_samples_for_ci, summarize
from bench.report import build_report
from bench.results import RunDocument, read, write_atomic

NEEDED = min_samples_for_ci()
STEADY_SAMPLES = lognormal(np.random.default_rng(1), 0.3, 10, sigma=0.01)
STEADY = summarize(STEADY_SAMPLES)


def _findings(
    samples: tuple[float, ...],
    unit: str = "s",
    versus: Ratio | None = None,
    *,
    headline: bool = True,
) -> list[advice.Finding]:
    return list(
        advice.findings(summarize(samples), unit, versus, headline=headline, needed_for_ci=NEEDED)
    )


def test_a_steady_series_with_enough_samples_breaks_no_rule() -> None:
    tight = Ratio(1.02, (0.99, 1.04), 0.95)
    assert list(advice.findings(STEADY, "s", tight, headline=True, needed_for_ci=NEEDED)) == []


def test_too_few_samples_for_an_interval_asks_for_the_smallest_repeat_that_gives_one() -> None:
    assert _findings((0.3, 0.31, 0.29)) == [advice.Finding("ci", "n = 3", NEEDED)]


def test_a_wide_median_interval_asks_for_the_samples_that_would_narrow_it() -> None:
    samples = lognormal(np.random.default_rng(2), 0.3, 10, sigma=0.3)
    s = summarize(samples)
    assert s.ci_low is not None and s.ci_high is not None
    half = (s.ci_high - s.ci_low) / 2 / s.median
    assert half > advice.WANTED
    wide, cv = _findings(samples)
    assert wide == advice.Finding(
        "wide", f"\N{PLUS-MINUS SIGN}{half:.1%} at n = 10", math.ceil(10 * (half / 0.05) ** 2)
    )
    # the spread is noise, reported with its causes and no sample count
    assert cv == advice.Finding("cv", f"{s.cv:.1%}", None)
    (line,) = advice.group_warnings([_at("", "startup", "default", cv)])
    assert "--repeat" not in line and "CPU frequency scaling" in line


@pytest.mark.parametrize("sigma", [0.05, 0.3, 1.0])
def test_following_the_sample_size_advice_converges_instead_of_escalating(sigma: float) -> None:
    """Take the advised n, measure again, take the new advice, five times over: the
    advice settles where the interval is about +-5 % instead of growing each time."""
    rng = np.random.default_rng(11)
    n, advised = 10, []
    for _ in range(6):
        found = {f.rule: f for f in _findings(lognormal(rng, 0.3, n, sigma=sigma))}
        n = found["wide"].samples or n if "wide" in found else n
        advised.append(n)
    settled = advised[1:]
    assert max(settled) <= 2 * min(settled), advised
    # at the settled size the interval is about as wide as wanted
    final = advice.median_half_width(summarize(lognormal(rng, 0.3, max(settled), sigma=sigma)))
    assert final is not None and final < 2 * advice.WANTED


@pytest.mark.parametrize("unit", advice.NO_CV_WARNING_UNITS)
def test_counts_vary_by_nature_and_their_spread_is_no_warning(unit: str) -> None:
    retransmits = (0.0, 3.0, 12.0, 1.0, 0.0) * 2
    assert _findings(retransmits, unit) == []
    assert [f.rule for f in _findings(retransmits, "s")] == ["wide", "cv"]


def test_a_comparison_with_native_is_judged_on_the_headline_metric_only() -> None:
    unclear = Ratio(1.02, (0.90, 1.15), 0.95)
    assert _findings(STEADY_SAMPLES, versus=unclear, headline=False) == []
    (finding,) = _findings(STEADY_SAMPLES, versus=unclear)
    half = math.sqrt(1.15 / 0.90) - 1
    assert finding == advice.Finding(
        "native", "1.02\N{MULTIPLICATION SIGN} slower [0.90\N{EN DASH}1.15] at n = 10",
        math.ceil(10 * (half / 0.05) ** 2),
    )  # fmt: skip


def test_a_shown_difference_or_a_tight_equality_with_native_needs_no_more_samples() -> None:
    shown = Ratio(1.5, (1.2, 1.9), 0.95)  # wide, but clearly slower
    equal = Ratio(1.01, (0.98, 1.04), 0.95)  # equal to native within +-5 %
    assert _findings(STEADY_SAMPLES, versus=shown) == []
    assert _findings(STEADY_SAMPLES, versus=equal) == []
    assert _findings(STEADY_SAMPLES, versus=Ratio(1.0, None, 0.95)) == []


def _at(where: str, scenario: str, variant: str, finding: advice.Finding) -> advice.Located:
    return advice.Located(where, scenario, variant, "end_to_end", finding)


def test_warnings_group_by_run_scenario_and_rule_naming_a_few_series() -> None:
    found = [
        _at(
            "mac",
            "startup",
            f"v{i}",
            advice.Finding("wide", f"\N{PLUS-MINUS SIGN}{8 + i}.0% at n = 10", 20 + i),
        )
        for i in range(5)
    ]
    found.insert(1, _at("mac", "startup", "v0", advice.Finding("ci", "n = 3", NEEDED)))
    found.append(_at("linux", "startup", "v0", advice.Finding("ci", "n = 3", NEEDED)))

    assert list(advice.group_warnings(found)) == [
        "mac, startup: a median's 95 % interval wider than \N{PLUS-MINUS SIGN}5 % in 5 "
        "metric series (end_to_end [v0] \N{PLUS-MINUS SIGN}8.0% at n = 10; end_to_end [v1] "
        "\N{PLUS-MINUS SIGN}9.0% at n = 10; end_to_end [v2] \N{PLUS-MINUS SIGN}10.0% at n = 10; "
        "and 2 more); about 24 samples would narrow it to \N{PLUS-MINUS SIGN}5 % (--repeat 24, "
        "or --target-ci 10 to sample until then)",
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


def test_imported_benchmarks_get_their_harnesss_advice_not_crossdocks(tmp_path: Path) -> None:
    from bench.interop import import_pytest_benchmark

    source = Path(__file__).parent / "fixtures" / "pytest-benchmark" / "json_with_data.json"
    path = import_pytest_benchmark(source=source, out=tmp_path / "results")

    terminal = console.warnings(read(path))
    info = build_report(inputs=[path], output=tmp_path / "page.html")

    # 7 rounds of test_sorted with a CV of 43 %: a wide median and noise, in both places
    assert any("interval wider than" in w for w in terminal)
    assert any("noisy" in w for w in terminal)
    for warning in [*terminal, *info.warnings]:
        assert "--repeat" not in warning and "--target-ci" not in warning
    wide = next(w for w in terminal if "interval wider than" in w)
    assert "rounds would narrow it" in wide and "pytest --benchmark-min-rounds=" in wide
