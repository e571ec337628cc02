"""Tests of the report over many runs: per-platform summaries from the selected runs,
every run behind a selector, outliers marked, one ratio wording and one colour scale."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from factories import default_suite, make_document, result, startup_variant
from test_report import _chromium, _figures, _rows, _section, needs_browser

from bench.cli import main
from bench.plan import Scalar
from bench.report import build_report
from bench.report.figures import OUTLIER_MARKER
from bench.report.selection import Selection
from bench.results import result_path, write_atomic

DATES = ("2026-11-01T10:00:00Z", "2026-11-08T10:00:00Z", "2026-11-15T10:00:00Z")


def _history(folder: Path) -> list[str]:
    """Three weekly linux-native runs and one docker-desktop-mac run; the linux run ids."""
    ids = []
    for seed, started in enumerate(DATES):
        document = default_suite("linux-native", seed=seed, run_id=f"linux-week-{seed}")
        document = replace(document, run={**document.run, "started_at": started})
        write_atomic(result_path(folder, "linux-native", f"linux-week-{seed}"), document)
        ids.append(f"linux-week-{seed}")
    mac = default_suite("docker-desktop-mac", seed=9)
    write_atomic(result_path(folder, "docker-desktop-mac", "mac-1"), mac)
    return ids


def _summary_cells(page: str) -> list[list[str]]:
    return [r for r in _rows(_section(page, "area-startup", "area-fileio")) if r]


def _detail(page: str, table: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{table}-data">(.*?)</script>', page)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_each_platform_is_one_column_from_its_latest_run(tmp_path: Path) -> None:
    ids = _history(tmp_path / "results")
    output = tmp_path / "page.html"

    build_report(inputs=[tmp_path / "results"], output=output)

    page = output.read_text(encoding="utf-8")
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", _section(page, "area-startup", "area-fileio"))
    assert headers[3:] == ["docker-desktop-mac vs native", "linux-native vs native"]
    # one run per platform: its own ratio with a bootstrap interval, no "over N runs"
    assert all("over" not in cell for row in _summary_cells(page) for cell in row)
    # each box plot draws one box trace per platform
    traces, _ = _figures(page)["box-0-0"]
    assert [t["name"] for t in traces if t["type"] == "box"] == [
        "docker-desktop-mac",
        "linux-native",
    ]
    # every run is listed, newest first, with only the latest in the summary
    runs = _section(page, "runs", "outcomes")
    linux = [r for r in _rows(runs) if r and r[1].startswith("linux-week")]
    assert [(r[1], r[-1]) for r in linux] == [(ids[2], "yes"), (ids[1], "no"), (ids[0], "no")]
    # and each run's headline figures are in the selector's data, in the one wording
    detail = _detail(page, "runs-1")
    assert set(detail["runs"]) == set(ids)
    rows = detail["runs"][ids[0]]
    assert rows and all(re.match(r"[\d.]+× (slower|faster)", row[2]) for row in rows)


def test_latest_n_and_since_choose_the_runs_summarised(tmp_path: Path) -> None:
    _history(tmp_path / "results")

    every = tmp_path / "all.html"
    build_report(inputs=[tmp_path / "results"], output=every, selection=Selection(latest=None))
    since = tmp_path / "since.html"
    build_report(
        inputs=[tmp_path / "results"],
        output=since,
        selection=Selection(latest=None, since=date(2026, 11, 8)),
    )

    linux_all = [r[-1] for r in _summary_cells(every.read_text(encoding="utf-8"))]
    assert linux_all and all(c.endswith("over 3 runs") for c in linux_all)
    linux_since = [r[-1] for r in _summary_cells(since.read_text(encoding="utf-8"))]
    assert linux_since and all(c.endswith("over 2 runs") for c in linux_since)
    # the section tables count the runs each row stands for
    tables = _rows(_section(every.read_text(encoding="utf-8"), "scenario-0", "runs"))
    assert {r[2] for r in tables if r and r[1] == "linux-native"} == {"3"}


def test_report_command_takes_latest_and_since(tmp_path: Path) -> None:
    _history(tmp_path / "results")
    output = tmp_path / "page.html"

    code = main(["report", str(tmp_path / "results"), "-o", str(output), "--latest", "2"])

    assert code == 0
    cells = [r[-1] for r in _summary_cells(output.read_text(encoding="utf-8"))]
    assert cells and all(c.endswith("over 2 runs") for c in cells)
    with pytest.raises(SystemExit) as bad:
        main(["report", str(tmp_path / "results"), "--since", "last week"])
    assert bad.value.code == 2


def test_outliers_are_counted_and_circled(tmp_path: Path) -> None:
    """Twelve samples near 0.1 s and one at 1 s: the far one is beyond Q3 + 3 IQR."""
    values = (0.1, 0.101, 0.099, 0.102, 0.098, 0.1, 0.103, 0.097, 0.1, 0.101, 0.099, 1.0)
    document = make_document(
        run_id="r1",
        results=[
            result(
                "startup",
                "startup",
                startup_variant("native"),
                {"end_to_end": ("s", "lower", values)},
            ),
        ],
    )
    write_atomic(tmp_path / "r1.json", document)

    build_report(inputs=[tmp_path], output=tmp_path / "page.html")

    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    [row] = [r for r in _rows(_section(page, "scenario-0", "runs")) if r]
    assert row[8] == "1"  # the outliers column
    traces, _ = _figures(page)["box-0-0"]
    [marked] = [t for t in traces if t.get("marker") == OUTLIER_MARKER]
    assert marked["x"].tolist() == [1.0]


def test_one_colour_means_one_factor_for_times_and_rates(tmp_path: Path) -> None:
    """A container twice as slow to start (a time, 2x the native) and one with half the
    native bandwidth (a rate, 0.5x) are both "2.00x slower" and get the same colour."""
    rng = np.random.default_rng(3)
    native_t, native_r = rng.lognormal(np.log(0.1), 0.01, 12), rng.lognormal(np.log(1e9), 0.01, 12)
    fio: dict[str, Scalar] = {"workload": "seq-read", "size": "64MiB", "duration": 0.5}
    document = make_document(
        run_id="r1",
        results=[
            result(
                "startup",
                "startup",
                startup_variant("native"),
                {"end_to_end": ("s", "lower", tuple(native_t))},
            ),
            result(
                "startup",
                "startup",
                startup_variant("container"),
                {"end_to_end": ("s", "lower", tuple(2 * native_t))},
            ),
            result(
                "fileio",
                "fileio",
                {**fio, "target": "native"},
                {"bandwidth": ("B/s", "higher", tuple(native_r))},
            ),
            result(
                "fileio",
                "fileio",
                {**fio, "target": "bind"},
                {"bandwidth": ("B/s", "higher", tuple(native_r / 2))},
            ),
        ],
    )
    write_atomic(tmp_path / "r1.json", document)

    build_report(inputs=[tmp_path], output=tmp_path / "page.html")

    figures = _figures((tmp_path / "page.html").read_text(encoding="utf-8"))
    for area in ("startup", "fileio"):
        [trace] = figures[f"heat-{area}"][0]
        assert trace["text"] == [["2.00× slower"]]
        assert math.isclose(trace["z"][0][0], 1.0, abs_tol=0.01)  # log2 of 2x slower
        assert "than native" in trace["hovertemplate"]


@needs_browser
def test_the_run_selector_shows_a_runs_figures_in_chromium(tmp_path: Path) -> None:
    ids = _history(tmp_path / "results")
    output = tmp_path / "page.html"
    build_report(inputs=[tmp_path / "results"], output=output)

    run = _chromium(output, tmp_path / "profile", "--dump-dom")

    assert run.returncode == 0, run.stderr[-2000:]
    assert "Uncaught" not in run.stderr
    table = re.search(r'<table id="runs-1">.*?</table>', run.stdout, re.DOTALL)
    assert table is not None
    shown = _rows(table.group(0))
    expected = _detail(output.read_text(encoding="utf-8"), "runs-1")
    assert len([r for r in shown if r]) == len(expected["runs"][ids[2]])  # the newest run
    assert all(re.match(r"[\d.]+× (slower|faster)", r[4]) for r in shown if r)
