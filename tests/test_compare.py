"""Tests of bench.compare: two sets of results side by side."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from factories import make_document, result, startup_variant
from rich.console import Console

from bench.analysis import inference, stats
from bench.analysis.stats import format_slowdown
from bench.cli import main
from bench.compare import MANN_WHITNEY, ComparisonRow, compare, render
from bench.errors import ResultsError
from bench.metrics import format_value
from bench.results import read, write_atomic


def _write(path: Path, run_id: str, seed: int, *, slower: float, n: int = 30) -> Path:
    """A run with end_to_end *slower* times the baseline 0.3 s, create unchanged, and a
    metric measured only here (cli_run_rm when run_id ends in 'b')."""
    rng = np.random.default_rng(seed)
    metrics = {
        "end_to_end": ("s", "lower", tuple(0.3 * slower * rng.lognormal(0, 0.1, n))),
        "create": ("s", "lower", tuple(0.05 * rng.lognormal(0, 0.1, n))),
    }
    if run_id.endswith("b"):
        metrics["cli_run_rm"] = ("s", "lower", tuple(rng.lognormal(0, 0.1, n)))
    variant = startup_variant("container", network="bridge")
    write_atomic(
        path, make_document(run_id=run_id, results=[result("startup", "startup", variant, metrics)])
    )
    return path


def _row(rows: list[ComparisonRow], metric: str) -> ComparisonRow:
    return next(r for r in rows if r.metric == metric)


def test_a_real_slowdown_is_measured_and_significant(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.json", "run-a", 1, slower=1.0)
    b = _write(tmp_path / "b.json", "run-b", 2, slower=1.5)

    rows = compare(a=a, b=b)

    assert [r.metric for r in rows] == ["end_to_end", "create"]  # cli_run_rm: only in B
    slow = _row(rows, "end_to_end")
    assert slow.scenario == "startup" and "network=bridge" in slow.variant
    assert (slow.n_a, slow.n_b) == (30, 30)
    assert slow.median_a == pytest.approx(0.3, rel=0.1)
    assert slow.ratio is not None and slow.ratio.ci is not None
    assert slow.ratio.ci[0] <= 1.5 <= slow.ratio.ci[1]
    assert slow.ratio.value == pytest.approx(slow.median_b / slow.median_a)
    assert slow.test == MANN_WHITNEY and not slow.runs_as_units
    assert slow.p_value < 0.001 and slow.p_adjusted == pytest.approx(2 * slow.p_value)
    assert slow.significant and slow.mark == stats.significance_mark(slow.p_adjusted) != ""
    assert not slow.size_check.too_few
    same = _row(rows, "create")
    assert same.p_value > 0.05 and same.p_adjusted == same.p_value  # the larger of two
    assert not same.significant and same.mark == ""
    assert same.ratio is not None and same.ratio.ci is not None
    assert same.ratio.ci[0] <= 1.0 <= same.ratio.ci[1]
    assert same.size_check.too_few or same.size_check.needed is None


def test_rows_are_sorted_by_effect_size_either_way(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.json", "run-a", 1, slower=1.0)
    b = _write(tmp_path / "b.json", "run-b", 2, slower=0.4)  # B much faster

    rows = compare(a=a, b=b)

    assert rows[0].metric == "end_to_end"
    assert rows[0].effect == pytest.approx(abs(math.log(rows[0].ratio.value)))  # type: ignore[union-attr]
    assert [r.effect for r in rows] == sorted((r.effect for r in rows), reverse=True)


def test_too_few_samples_are_flagged_with_the_n_needed(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.json", "run-a", 1, slower=1.0, n=5)
    b = _write(tmp_path / "b.json", "run-b", 2, slower=1.03, n=5)

    row = _row(compare(a=a, b=b), "end_to_end")

    assert row.size_check.too_few and row.size_check.have == 5
    assert row.size_check.needed is not None and row.size_check.needed > 5


def test_folders_compare_their_runs_as_units_and_skip_bad_files_with_a_warning(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "a" / "one.json", "run-a1", 1, slower=1.0, n=10)
    _write(tmp_path / "a" / "two.json", "run-a2", 3, slower=1.0, n=10)
    (tmp_path / "a" / "notes.json").write_text('{"note": "not results"}')
    b = _write(tmp_path / "b.json", "run-b", 2, slower=2.0)

    with pytest.warns(UserWarning, match="notes.json"):
        rows = compare(a=tmp_path / "a", b=b)

    row = _row(rows, "end_to_end")
    assert (row.runs_a, row.runs_b, row.n_a, row.n_b) == (2, 1, 20, 30)
    assert row.runs_as_units and row.test == inference.POOLED_LOG
    assert isinstance(row.size_check, inference.RunCountCheck)


def test_unreadable_side_is_bad_input(tmp_path: Path) -> None:
    b = _write(tmp_path / "b.json", "run-b", 2, slower=1.0)
    (tmp_path / "a.json").write_text("{ truncated")

    with (
        pytest.warns(UserWarning, match="not valid JSON"),
        pytest.raises(ResultsError, match=r"a\.json"),
    ):
        compare(a=tmp_path / "a.json", b=b)
    with (
        pytest.warns(UserWarning, match="no such file"),
        pytest.raises(ResultsError, match="no readable crossdock results"),
    ):
        compare(a=b, b=tmp_path / "missing")


def test_render_shows_every_row_and_keeps_markup_literal(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    for name, scale in (("a", 1.0), ("b", 2.0)):
        document = make_document(
            run_id=f"run-{name}",
            results=[
                result(
                    "[bold red]startup[/]",
                    "startup",
                    {"image": image},
                    {"end_to_end": ("s", "lower", tuple(scale * rng.lognormal(-1, 0.1, 12)))},
                )
                for image in ("[link=http://x]busybox[/link]", "alpine")
            ],
        )
        write_atomic(tmp_path / f"{name}.json", document)
    rows = compare(a=tmp_path / "a.json", b=tmp_path / "b.json")

    table = render(rows)
    console = Console(record=True, width=250)
    console.print(table)
    text = console.export_text()

    assert table.row_count == len(rows) == 2
    assert "[bold red]startup[/]" in text
    assert "image=[link=http://x]busybox[/link]" in text
    assert rows[0].slowdown in text and "slower [" in rows[0].slowdown
    assert "one run per side" in text and "not covered" in text
    assert "Benjamini-Hochberg over the 2 metrics" in text
    assert format_value(rows[0].median_a, "s") in text  # medians in human units
    assert "ms" in format_value(rows[0].median_a, "s")


def test_labels_show_only_the_parameters_that_vary(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    for name in ("a", "b"):
        document = make_document(
            run_id=f"run-{name}",
            results=[
                result(
                    "startup",
                    "startup",
                    startup_variant("container", network=network),
                    {"end_to_end": ("s", "lower", tuple(rng.lognormal(-1, 0.1, 10)))},
                )
                for network in ("none", "bridge")
            ],
        )
        write_atomic(tmp_path / f"{name}.json", document)

    rows = compare(a=tmp_path / "a.json", b=tmp_path / "b.json")

    assert sorted(r.label for r in rows) == ["network=bridge", "network=none"]
    assert all("runtime=container" in r.variant for r in rows)


def test_a_scenario_with_one_variant_is_labelled_default(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.json", "run-a", 1, slower=1.0)
    b = _write(tmp_path / "b.json", "run-b", 2, slower=1.5)

    rows = compare(a=a, b=b)

    assert {r.label for r in rows} == {"default"}  # as the terminal and the report say
    assert all("network=bridge" in r.variant for r in rows)


#: The simulated comparison: metrics per side, of which the first PLANTED are 1.6x slower
#: in B; every run shifts each metric's level by a log-normal factor of 5 % (sigma 0.05).
METRICS, PLANTED, RUNS, RUN_SHIFT, SLOWER = 100, 10, 3, 0.05, 1.6


def simulated_sides(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Samples of both sides, ``[run, metric, sample]``: RUNS runs of METRICS metrics,
    each run at the metric's level (uniform in 0.01-1 s; B's first PLANTED times SLOWER)
    times a run shift, ten samples of 8 % log-normal noise around that."""
    levels = rng.uniform(0.01, 1.0, METRICS)
    sides = []
    for side in (levels, levels * np.where(np.arange(METRICS) < PLANTED, SLOWER, 1.0)):
        shifted = side * rng.lognormal(0.0, RUN_SHIFT, (RUNS, METRICS))
        sides.append(shifted[:, :, None] * rng.lognormal(0.0, 0.08, (RUNS, METRICS, 10)))
    return sides[0], sides[1]


def simulate(seeds: range) -> tuple[list[int], list[int]]:
    """For each seed's :func:`simulated_sides`, tested as ``crossdock compare`` tests runs
    (t on log run medians, Benjamini-Hochberg at 5 %): how many unshifted metrics were
    called different, and how many planted ones were found."""
    false_calls, found = [], []
    for seed in seeds:
        a, b = simulated_sides(np.random.default_rng(seed))
        p = [
            inference.compare_runs(a[:, m].tolist(), b[:, m].tolist()).p_value
            for m in range(METRICS)
        ]
        called = np.asarray(inference.adjust_p(p)) < stats.ALPHA
        false_calls.append(int(called[PLANTED:].sum()))
        found.append(int(called[:PLANTED].sum()))
    return false_calls, found


def _write_runs(folder: Path, side: str, samples: np.ndarray) -> None:
    """One results file per run of *samples* (``[run, metric, sample]``): metric ``i`` is
    ``m{i % 5}`` of variant ``case={i // 5}``."""
    for run, metrics in enumerate(samples):
        results = [
            result(
                "sim",
                "startup",
                {"case": case},
                {f"m{m}": ("s", "lower", tuple(metrics[case * 5 + m])) for m in range(5)},
            )
            for case in range(METRICS // 5)
        ]
        document = make_document(run_id=f"run-{side}{run}", results=results)
        write_atomic(folder / f"{side}{run}.json", document)


def test_runs_of_one_process_are_rarely_called_different_and_a_planted_shift_is_found(
    tmp_path: Path,
) -> None:
    a, b = simulated_sides(np.random.default_rng(16))
    _write_runs(tmp_path / "a", "a", a)
    _write_runs(tmp_path / "b", "b", b)
    out = tmp_path / "out" / "compare.json"

    code = main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json", str(out)])

    document = json.loads(out.read_text())
    rows = {(r["label"], r["metric"]): r for r in document["rows"]}
    assert code == 0 and len(rows) == METRICS
    is_planted = {(f"case={i // 5}", f"m{i % 5}"): i < PLANTED for i in range(METRICS)}
    flagged = [key for key, row in rows.items() if row["significant"]]
    false_calls = [key for key in flagged if not is_planted[key]]
    assert len(false_calls) <= 0.05 * METRICS
    found = [rows[key] for key in flagged if is_planted[key]]
    assert len(found) >= 0.8 * PLANTED
    for row in found:
        assert row["ratio_ci"][0] > 1.0 and row["b_against_a"].endswith("]")
        assert row["b_against_a"].startswith(f"{row['ratio']:.2f}× slower")
    assert all(
        r["runs_a"] == r["runs_b"] == RUNS and r["run_variation_covered"] for r in rows.values()
    )
    assert {r["test"] for r in rows.values()} == {inference.POOLED_LOG}
    # the same samples pooled, as if independent, mistake the run shifts for differences
    pooled = _pooled_p_values(tmp_path / "a", tmp_path / "b")
    assert sum(p < 0.05 for key, p in pooled.items() if not is_planted[key]) > 0.15 * METRICS


def _pooled_p_values(a: Path, b: Path) -> dict[tuple[str, str], float]:
    """Mann-Whitney p of every metric over the samples of all runs of each side."""
    sides = []
    for folder in (a, b):
        pooled: dict[tuple[str, str], list[float]] = {}
        for path in sorted(folder.glob("*.json")):
            for res in read(path).results:
                for metric in res.metrics:
                    key = (f"case={res.variant['case']}", metric.name)
                    pooled.setdefault(key, []).extend(metric.samples)
        sides.append(pooled)
    return {key: stats.mann_whitney_p(sides[0][key], sides[1][key]) for key in sides[0]}


def test_over_many_draws_few_unshifted_metrics_are_called_and_most_planted_are_found() -> None:
    false_calls, found = simulate(range(40))

    assert np.mean(false_calls) / (METRICS - PLANTED) <= 0.02
    assert max(false_calls) <= 0.05 * METRICS
    assert np.mean(found) / PLANTED >= 0.9


def test_json_rows_go_to_stdout_and_say_what_one_run_per_side_cannot_cover(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _write(tmp_path / "a.json", "run-a", 1, slower=1.0)
    b = _write(tmp_path / "b.json", "run-b", 2, slower=1.5)

    code = main(["compare", str(a), str(b), "--json"])

    document = json.loads(capsys.readouterr().out)  # the JSON alone: no table
    assert code == 0 and document["format"] == "crossdock-compare/1"
    assert document["adjustment"] == "benjamini-hochberg" and document["alpha"] == 0.05
    assert any("run-to-run variation not covered" in line for line in document["methods"])
    slow = next(r for r in document["rows"] if r["metric"] == "end_to_end")
    row = _row(compare(a=a, b=b), "end_to_end")
    assert slow["scenario"] == "startup" and slow["variant"] == row.variant
    assert (slow["median_a"], slow["median_b"]) == (row.median_a, row.median_b)
    assert (slow["samples_a"], slow["runs_a"]) == (30, 1)
    assert row.ratio is not None and row.ratio.ci is not None
    assert slow["ratio_ci"] == list(row.ratio.ci)
    assert slow["b_against_a"] == format_slowdown(row.ratio, "lower")
    assert (slow["p"], slow["p_adjusted"]) == (row.p_value, row.p_adjusted)
    assert slow["significant"] is True and slow["test"] == MANN_WHITNEY
    assert slow["run_variation_covered"] is False


def test_json_to_a_file_that_cannot_be_written_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _write(tmp_path / "a.json", "run-a", 1, slower=1.0)
    (tmp_path / "taken").write_text("a file, not a folder")

    code = main(["compare", str(a), str(a), "--json", str(tmp_path / "taken" / "rows.json")])

    assert code == 1
    assert "cannot write" in capsys.readouterr().err
