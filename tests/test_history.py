"""History over runs (bench.analysis.history, bench.regressions, bench.report.trends):
several weeks of default-suite runs of two platforms (tests/factories.py, dates shifted,
one engine upgrade), with a regression planted in one platform's bind mounts, shown by
`crossdock compare --history`, its JSON and the report, and drawn in a real browser."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import default_suite
from test_report import _chromium, needs_browser

from bench.analysis import stats
from bench.analysis.history import REGRESSION_THRESHOLD, Estimate, call, history, suite_of
from bench.cli import main
from bench.regressions import keep
from bench.report import build_report
from bench.results import Result, RunDocument, read, result_path, write_atomic

START = datetime(2026, 9, 7, 4, 23, tzinfo=UTC)
WEEKS = 6
#: the week from which docker-desktop-mac's bind mounts are planted 1.6x slower
PLANTED_WEEK = 4
#: the week from which linux-native runs a newer engine (a condition change, no slowdown)
UPGRADE_WEEK = 3
PLATFORMS = ("linux-native", "docker-desktop-mac")


def slower_bind(document: RunDocument, factor: float) -> RunDocument:
    """*document* with every metric of its fileio bind-mount results *factor* times worse
    (a time longer, a rate lower)."""

    def scaled(result: Result) -> Result:
        if result.scenario != "fileio" or result.variant.get("target") != "bind":
            return result
        metrics = tuple(
            replace(
                m,
                samples=tuple(
                    x * factor if m.direction == "lower" else x / factor for x in m.samples
                ),
            )
            for m in result.metrics
        )
        return replace(result, metrics=metrics)

    return replace(document, results=tuple(scaled(r) for r in document.results))


def week_run(
    platform: str, week: int, *, engine: str = "26.1.0", slowdown: float = 1.0
) -> RunDocument:
    """A default-suite run of *platform* in week *week* (a new seed each)."""
    index = PLATFORMS.index(platform) if platform in PLATFORMS else 9
    document = default_suite(platform, seed=100 * week + index, run_id=f"{platform}-w{week}")
    when = START + timedelta(weeks=week)
    run = {**document.run, "started_at": when.isoformat(), "finished_at": when.isoformat()}
    document = replace(document, run=run, engine={**document.engine, "server_version": engine})
    return slower_bind(document, slowdown) if slowdown != 1.0 else document


Plan = Callable[[str, int], RunDocument]


def planted(platform: str, week: int) -> RunDocument:
    """The planted history: mac's bind mounts slower from PLANTED_WEEK, linux-native's
    engine upgraded at UPGRADE_WEEK."""
    mac_slow = platform == "docker-desktop-mac" and week >= PLANTED_WEEK
    upgraded = platform == "linux-native" and week >= UPGRADE_WEEK
    return week_run(
        platform, week, engine="27.0.1" if upgraded else "26.1.0", slowdown=1.6 if mac_slow else 1.0
    )


def steady(platform: str, week: int) -> RunDocument:
    return week_run(platform, week)


def write_history(folder: Path, plan: Plan) -> Path:
    for week in range(WEEKS):
        for platform in PLATFORMS:
            document = plan(platform, week)
            write_atomic(result_path(folder, platform, str(document.run["id"])), document)
    return folder


@pytest.fixture(scope="module")
def planted_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_history(tmp_path_factory.mktemp("planted") / "results", planted)


# --- the calls --------------------------------------------------------------------------


def test_the_planted_regression_is_called_with_the_runs_before_and_after(
    planted_folder: Path,
) -> None:
    found = history(read(p) for p in sorted(planted_folder.rglob("*.json")))

    regressions = found.called("regression")
    assert regressions
    assert found.called("improvement") == []
    for item in regressions:
        assert item.trend.platform == "docker-desktop-mac"
        assert item.trend.scenario == "fileio"
        assert item.trend.params["target"] == "bind"
        assert item.step.before.run.run_id == f"docker-desktop-mac-w{PLANTED_WEEK - 1}"
        assert item.step.after.run.run_id == f"docker-desktop-mac-w{PLANTED_WEEK}"
        assert item.step.changes == ()
        ratio = item.step.ratio
        assert ratio is not None and ratio.ci is not None
        worse = [b if item.trend.direction == "lower" else 1 / b for b in ratio.ci]
        assert min(worse) > REGRESSION_THRESHOLD
    # every bind workload's headline metric is called
    assert {c.trend.params["workload"] for c in regressions} == {
        "seq-read", "seq-write", "rand-read", "rand-write", "fsync-write", "metadata", "tree",
    }  # fmt: skip


def test_an_engine_upgrade_breaks_the_trend_without_a_call(planted_folder: Path) -> None:
    found = history(read(p) for p in sorted(planted_folder.rglob("*.json")))

    linux = [t for t in found.trends if t.platform == "linux-native"]
    assert linux and all(len(t.points) == WEEKS for t in linux)
    for trend in linux:
        broken = [s for s in trend.steps if s.changes]
        assert [s.after.run.run_id for s in broken] == [f"linux-native-w{UPGRADE_WEEK}"]
        assert [str(c) for c in broken[0].changes] == ["engine 26.1.0 \N{RIGHTWARDS ARROW} 27.0.1"]
        assert all(s.call == "" for s in trend.steps)


def test_no_call_where_nothing_changed(tmp_path: Path) -> None:
    folder = write_history(tmp_path / "results", steady)
    found = history(read(p) for p in sorted(folder.rglob("*.json")))

    assert len(found.runs) == WEEKS * len(PLATFORMS)
    assert found.called("regression") == [] and found.called("improvement") == []
    assert all(not s.changes for t in found.trends for s in t.steps)


def test_a_regression_across_a_condition_change_names_the_change() -> None:
    documents = [
        week_run("docker-desktop-mac", 0),
        week_run("docker-desktop-mac", 1, engine="27.0.1", slowdown=1.6),
    ]
    regressions = history(documents).called("regression")

    assert regressions
    for item in regressions:
        assert [(c.name, c.before, c.after) for c in item.step.changes] == [
            ("engine", "26.1.0", "27.0.1")
        ]


def test_a_new_crossdock_version_breaks_the_trend() -> None:
    """A release may change how a figure is measured (fio's write buffers, say): runs of
    two versions are not joined silently."""
    before = week_run("linux-native", 0)
    after = week_run("linux-native", 1)
    after = replace(after, run={**after.run, "harness_version": "0.2.0"})
    steps = [s for t in history([before, after]).trends for s in t.steps]
    assert steps
    for step in steps:
        assert [(c.name, c.before, c.after) for c in step.changes] == [
            ("crossdock", "0.1.0", "0.2.0")
        ]


def test_runs_with_too_few_samples_are_not_called() -> None:
    def three_samples(document: RunDocument) -> RunDocument:
        results = tuple(
            replace(r, metrics=tuple(replace(m, samples=m.samples[:3]) for m in r.metrics))
            for r in document.results
        )
        return replace(document, results=results)

    documents = [
        three_samples(week_run("docker-desktop-mac", 0)),
        three_samples(week_run("docker-desktop-mac", 1, slowdown=3.0)),
    ]
    found = history(documents)
    assert found.called("regression") == []
    assert all(s.too_few and s.call == "" for t in found.trends for s in t.steps)


def test_runs_are_ordered_by_date_not_by_file() -> None:
    late, early = week_run("linux-native", 2), week_run("linux-native", 0)
    trend = history([late, early]).trends[0]
    assert [p.run.run_id for p in trend.points] == ["linux-native-w0", "linux-native-w2"]


def test_suites_are_followed_apart() -> None:
    default = week_run("linux-native", 0)
    quick = week_run("linux-native", 1)
    quick = replace(quick, run={**quick.run, "argv": ["crossdock", "run", "--suite", "quick"]})
    found = history([default, quick])
    assert set(found.groups()) == {("linux-native", "default"), ("linux-native", "quick")}
    assert all(not t.steps for t in found.trends)


@pytest.mark.parametrize("n", [1, 2, 5, 6, 7, 10, 30])
def test_a_points_estimate_is_the_summarys_median_and_interval(n: int) -> None:
    samples = week_run("linux-native", n).results[1].metrics[0].samples[:n]
    summary, estimate = stats.summarize(samples), Estimate.of(samples)
    assert (estimate.n, estimate.median) == (summary.n, summary.median)
    assert (estimate.ci_low, estimate.ci_high) == (summary.ci_low, summary.ci_high)


@pytest.mark.parametrize(
    ("ci", "direction", "expected"),
    [
        ((1.12, 1.30), "lower", "regression"),  # whole interval beyond 1.10x slower
        ((1.05, 1.30), "lower", ""),  # reaches below the threshold
        ((0.70, 0.85), "lower", "improvement"),
        ((0.70, 0.85), "higher", "regression"),  # a rate 0.7-0.85 of before: slower
        ((1.20, 1.40), "higher", "improvement"),
        ((0.95, 1.05), "higher", ""),
    ],
)
def test_call_needs_the_whole_interval_beyond_the_threshold(
    ci: tuple[float, float], direction: str, expected: str
) -> None:
    ratio = stats.Ratio(value=sum(ci) / 2, ci=ci, confidence=0.95)
    assert call(ratio, direction) == expected
    assert call(stats.Ratio(value=2.0, ci=None, confidence=0.95), direction) == ""


@pytest.mark.parametrize(
    ("argv", "suite"),
    [
        (["crossdock", "run", "--suite", "full", "--out", "r"], "full"),
        (["crossdock", "run", "--suite=quick"], "quick"),
        (["crossdock", "run", "--out", "results", "--allow-no-engine"], "default"),
        (
            ["crossdock", "run", "--repeat", "3", "network", "startup"],
            "scenarios: network, startup",
        ),
        (["crossdock", "validate", "--rounds", "2"], "validate"),
    ],
)
def test_the_suite_is_read_from_the_command_line(argv: list[str], suite: str) -> None:
    assert suite_of({"argv": argv}) == suite


# --- crossdock compare --history ------------------------------------------------------


def test_compare_history_prints_the_regressions(
    planted_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", "--history", str(planted_folder)]) == 0
    out = capsys.readouterr().out
    assert "Regressions" in out and "beyond 1.10\N{MULTIPLICATION SIGN} slower" in out
    assert out.count("docker-desktop-mac-w4") >= 7  # one row per bind workload
    assert "No improvement between consecutive runs." in out
    assert "linux-native-w" not in out


def test_a_called_regression_fails_the_gate_and_a_steady_history_passes_it(
    planted_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", "--history", str(planted_folder), "--fail-on-regression"]) == 1
    assert "docker-desktop-mac-w4" in capsys.readouterr().out  # printed before failing
    json_gate = ["compare", "--history", str(planted_folder), "--json", "--fail-on-regression"]
    assert main(json_gate) == 1
    steady_folder = write_history(tmp_path / "steady", steady)
    assert main(["compare", "--history", str(steady_folder), "--fail-on-regression"]) == 0
    capsys.readouterr()
    assert main(["compare", "a", "b", "--fail-on-regression"]) == 2
    assert "--fail-on-regression goes with --history" in capsys.readouterr().err


def test_compare_history_json(planted_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--history", str(planted_folder), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["threshold"] == REGRESSION_THRESHOLD
    assert document["improvements"] == []
    regressions = document["regressions"]
    assert len(regressions) == 7
    first = regressions[0]
    assert first["before"]["run_id"] == "docker-desktop-mac-w3"
    assert first["after"]["run_id"] == "docker-desktop-mac-w4"
    assert first["change"].split("\N{MULTIPLICATION SIGN}")[1].startswith(" slower [")
    assert first["ratio_ci"][0] <= first["ratio"] <= first["ratio_ci"][1]
    trends = [t for t in document["trends"] if t["platform"] == "linux-native"]
    assert all(len(t["points"]) == WEEKS for t in trends)
    assert all(t["breaks"][0]["after_run"] == "linux-native-w3" for t in trends)


@pytest.mark.parametrize(
    "argv",
    [["compare"], ["compare", "a.json"], ["compare", "--json"]],
)
def test_compare_needs_two_sides_or_a_history(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert "--history" in capsys.readouterr().err


def test_compare_history_without_results_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", "--history", str(tmp_path)]) == 2
    assert "no readable crossdock results" in capsys.readouterr().err


# --- the report ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history_page(planted_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("page") / "index.html"
    build_report(inputs=[planted_folder], output=output)
    return output


def test_the_report_opens_with_the_calls_and_draws_trends(history_page: Path) -> None:
    text = history_page.read_text(encoding="utf-8")
    trends = text.index('<section id="trends">')
    assert trends < text.index('<section id="summary">')
    assert "7 regressions, 0 improvements" in text
    assert text.count('<tr class="warn">', trends, text.index("</table>", trends)) == 7
    section = text[trends : text.index("</section>", trends)]
    assert "Trends: linux-native, suite default" in section
    assert "Trends: docker-desktop-mac, suite default" in section
    # one chart per scenario and headline metric of each platform
    assert section.count('class="plotly-graph-div"') >= 2 * 5
    assert "engine 26.1.0 \N{RIGHTWARDS ARROW} 27.0.1" in section  # the break, listed
    assert "regression (after this run)" in section


def test_a_report_of_single_runs_has_no_history(tmp_path: Path) -> None:
    for platform in PLATFORMS:
        document = week_run(platform, 0)
        write_atomic(result_path(tmp_path / "r", platform, str(document.run["id"])), document)
    build_report(inputs=[tmp_path / "r"], output=tmp_path / "page.html")
    assert 'id="trends"' not in (tmp_path / "page.html").read_text(encoding="utf-8")


@needs_browser
def test_trend_charts_render_in_chromium(history_page: Path, tmp_path: Path) -> None:
    text = history_page.read_text(encoding="utf-8")
    figures = text.count('class="plotly-graph-div"')

    run = _chromium(history_page, tmp_path / "profile", "--dump-dom")

    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert dom.count('class="plot-container plotly"') == figures
    trends = dom[dom.index('id="trends"') : dom.index('id="summary"')]
    # every trend chart drew its lines, its error bars and the "break" notes
    assert trends.count('class="scatterlayer') >= 10
    assert 'class="errorbars"' in trends
    assert ">break<" in trends
    assert "Uncaught" not in run.stderr
    assert "Content Security Policy" not in run.stderr


# --- the kept history folder ----------------------------------------------------------------


def test_keep_adds_new_runs_and_drops_those_older_than_the_bound(tmp_path: Path) -> None:
    kept = write_history(tmp_path / "history", steady)
    new = tmp_path / "artifacts" / "bench-ubuntu"
    latest = week_run("linux-native", WEEKS)
    write_atomic(result_path(new, "linux-native", str(latest.run["id"])), latest)
    (new / "broken.json").write_text("{", encoding="utf-8")
    now = START + timedelta(weeks=WEEKS, days=1)

    done = keep(into=kept, sources=[tmp_path / "artifacts"], now=now, weeks=3)

    assert [p.name for p in done.added] == [f"linux-native-w{WEEKS}.json"]
    # runs of weeks 0-3 started more than three weeks before now
    assert sorted(p.stem for p in done.dropped) == sorted(
        f"{platform}-w{week}" for platform in PLATFORMS for week in range(4)
    )
    assert len(done.skipped) == 1 and "broken.json" in done.skipped[0]
    left = sorted(p.relative_to(kept).as_posix() for p in kept.rglob("*.json"))
    assert left == sorted(
        [f"{p}/{p}-w{w}.json" for p in PLATFORMS for w in (4, 5)]
        + [f"linux-native/linux-native-w{WEEKS}.json"]
    )
    # a second time adds nothing
    again = keep(into=kept, sources=[tmp_path / "artifacts"], now=now, weeks=3)
    assert again.added == () and again.dropped == ()


def test_keep_removes_folders_left_empty(tmp_path: Path) -> None:
    old = week_run("docker-desktop-mac", 0)
    write_atomic(result_path(tmp_path / "history", "docker-desktop-mac", "old"), old)
    keep(into=tmp_path / "history", sources=[], now=START + timedelta(weeks=60))
    assert list((tmp_path / "history").iterdir()) == []
