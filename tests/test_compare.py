"""Tests of bench.compare: two sets of results side by side."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from factories import make_document, result, startup_variant
from rich.console import Console

from bench.analysis.stats import format_ratio
from bench.compare import ComparisonRow, compare, render
from bench.errors import ResultsError
from bench.metrics import format_value
from bench.results import write_atomic


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
    assert slow.p_value < 0.001 and slow.mark == "***"
    assert not slow.sample_size.too_few
    same = _row(rows, "create")
    assert same.p_value > 0.05 and same.mark == ""
    assert same.ratio is not None and same.ratio.ci is not None
    assert same.ratio.ci[0] <= 1.0 <= same.ratio.ci[1]
    assert same.sample_size.too_few or same.sample_size.needed is None


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

    assert row.sample_size.too_few and row.sample_size.have == 5
    assert row.sample_size.needed is not None and row.sample_size.needed > 5


def test_folders_pool_their_runs_and_skip_bad_files_with_a_warning(tmp_path: Path) -> None:
    _write(tmp_path / "a" / "one.json", "run-a1", 1, slower=1.0, n=10)
    _write(tmp_path / "a" / "two.json", "run-a2", 3, slower=1.0, n=10)
    (tmp_path / "a" / "notes.json").write_text('{"note": "not results"}')
    b = _write(tmp_path / "b.json", "run-b", 2, slower=2.0)

    with pytest.warns(UserWarning, match="notes.json"):
        rows = compare(a=tmp_path / "a", b=b)

    assert _row(rows, "end_to_end").n_a == 20


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
    assert format_ratio(rows[0].ratio) in text
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
