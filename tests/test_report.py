"""Tests of bench.report: the self-contained HTML page, in text and in a real browser."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from factories import (
    PLATFORMS,
    default_suite,
    lognormal,
    make_document,
    result,
    startup_results,
    startup_variant,
    write_suite,
)
from plotly.offline import get_plotlyjs

from bench.analysis.cells import sample_series as _sample_series
from bench.analysis.frame import load_frame
from bench.report import build_report
from bench.report.selection import Selection
from bench.results import Result, RunDocument, result_path, write_atomic
from bench.validation import samples_result

PLOTLY_BANNER = "* plotly.js v"
PAYLOAD = "<script>document.title='pwned'</script>"
IMG_PAYLOAD = "<img src=x onerror=\"document.title='pwned'\">"
MAX_PAGE_BYTES = 6_000_000


def _rows(html: str) -> list[list[str]]:
    """The text of each table cell in *html*, row by row."""
    return [
        re.findall(r"<td[^>]*>([^<]*)</td>", row)
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.DOTALL)
    ]


def _section(page: str, start: str, end: str) -> str:
    return page[page.index(f'id="{start}"') : page.index(f'id="{end}"')]


def _figures(page: str) -> dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Each plotly figure of *page* by its div id: its traces and layout, with typed
    arrays (base64) decoded to numpy arrays."""

    def decode(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"dtype", "bdata"}:
            return np.frombuffer(base64.b64decode(value["bdata"]), dtype="<" + value["dtype"])
        if isinstance(value, dict):
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    decoder = json.JSONDecoder()
    figures = {}
    for call in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        traces, end = decoder.raw_decode(page, call.end())
        layout, _ = decoder.raw_decode(page, page.index("{", end))
        figures[call.group(1)] = (decode(traces), decode(layout))
    return figures


def _hostile_document() -> RunDocument:
    """A run whose text fields carry markup, as a results file from a stranger might."""
    rng = np.random.default_rng(12)
    results = [
        *startup_results(rng, n=8, containers=1),
        result(
            f"startup{PAYLOAD}",
            "startup",
            startup_variant("container", image=PAYLOAD),
            {"end_to_end": ("s", "lower", tuple(rng.lognormal(-1, 0.1, 8)))},
            tool={"name": PAYLOAD, "version": IMG_PAYLOAD},
            extra={"cache": PAYLOAD},
        ),
        Result("fileio", "fileio", {"target": IMG_PAYLOAD}, "skipped", reason=PAYLOAD),
    ]
    return make_document(
        run_id=f"run{PAYLOAD}",
        platform="linux-native",
        results=results,
        hostname_hash=PAYLOAD,
        detection=(IMG_PAYLOAD,),
    )


@pytest.fixture(scope="module")
def suite_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A realistic default-suite report of three platforms, plus one hostile run."""
    root = tmp_path_factory.mktemp("suite")
    write_suite(root / "results")
    write_atomic(root / "results" / "hostile" / "run.json", _hostile_document())
    output = root / "reports" / "index.html"
    build_report(inputs=[root / "results"], output=output)
    return root / "results", output


def test_page_is_self_contained_and_small(suite_report: tuple[Path, Path]) -> None:
    _, output = suite_report
    page = output.read_text(encoding="utf-8")

    assert output.stat().st_size < MAX_PAGE_BYTES
    assert page.count(PLOTLY_BANNER) == 1  # plotly.js inlined once
    assert "Content-Security-Policy\" content=\"default-src 'none';" in page
    ours = page.replace(get_plotlyjs(), "")
    assert "<script src" not in ours
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", ours)
    # a heatmap per area; a box plot per metric of each scenario: startup 10, concurrency 2,
    # the hostile run's scenario 1, fileio 14, network 6; and, linux-native having two runs
    # of the default suite (the suite's and the hostile one), its history: one trend chart,
    # of the startup variants both runs measured
    trends = _section(page, "trends", "summary").count('class="plotly-graph-div"')
    assert trends == 1
    assert page.count('class="plotly-graph-div"') == 3 + 10 + 2 + 1 + 14 + 6 + trends


def test_same_results_give_the_same_page(suite_report: tuple[Path, Path]) -> None:
    """Seeded bootstrap, fixed figure ids, no timestamps: a page can be diffed."""
    results, output = suite_report
    again = results.parent / "again" / "index.html"
    build_report(inputs=[results], output=again)
    assert again.read_bytes() == output.read_bytes()


def test_report_info_counts_runs_samples_and_warnings(suite_report: tuple[Path, Path]) -> None:
    results, _ = suite_report
    output = results.parent / "again.html"
    (results / "broken.json").write_text('{"schema_version": 1, "run": ')
    try:
        info = build_report(inputs=[results], output=output)
    finally:
        (results / "broken.json").unlink()

    loaded = load_frame([results])
    assert info.output == output
    assert info.n_runs == 4
    assert info.n_samples == len(loaded.samples)
    assert any("broken.json" in w and "not valid JSON" in w for w in info.warnings)
    assert "broken.json" in output.read_text(encoding="utf-8")


def test_everything_from_results_files_is_escaped(suite_report: tuple[Path, Path]) -> None:
    _, output = suite_report
    page = output.read_text(encoding="utf-8")

    assert "<script>document.title" not in page
    assert "<img src=x" not in page
    escaped = "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"
    for where in ("hostname_hash", "run", "skipped reason", "tool", "conditions"):
        assert escaped in page, where
    assert "&lt;img src=x onerror=" in page


def test_summary_shows_container_to_native_ratios(tmp_path: Path) -> None:
    """Native end_to_end median 0.1 s, container 0.3 s: the summary says 3x."""
    native = (0.09, 0.1, 0.11) * 4
    container = (0.27, 0.3, 0.33) * 4
    document = make_document(
        run_id="r1",
        results=[
            result(
                "startup",
                "startup",
                startup_variant("native"),
                {"end_to_end": ("s", "lower", native)},
            ),
            result(
                "startup",
                "startup",
                startup_variant("container", network="bridge"),
                {"end_to_end": ("s", "lower", container), "create": ("s", "lower", container)},
            ),
        ],
    )
    write_atomic(tmp_path / "r1.json", document)

    build_report(inputs=[tmp_path], output=tmp_path / "page.html")

    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    summary = _section(page, "summary", "warnings")
    [row] = [r for r in _rows(summary) if r]
    assert row[:3] == ["startup", "network=bridge, runtime=container", "end_to_end"]
    # the one ratio wording: how many times slower, with its interval in the same words
    assert re.fullmatch(r"3\.00× slower \[[\d.]+–[\d.]+\]", row[3])
    assert "Not measured in these results." in summary  # fileio, network
    # the raw-sample table of the end_to_end chart: medians in human units, the baseline
    charts = _rows(_section(page, "scenario-0", "outcomes"))
    native_label = "network=none, runtime=native"
    container_label = "network=bridge, runtime=container"
    assert [native_label, "linux-native", "1", "12", "100 ms"] in [r[:5] for r in charts]
    assert [container_label, "linux-native", "1", "12", "300 ms"] in [r[:5] for r in charts]
    assert [r[-1] for r in charts if r and r[0] == native_label] == ["baseline"]
    # the end_to_end chart draws every sample, each on its variant's row
    traces, layout = _figures(page)["box-0-0"]
    [box] = [t for t in traces if t["type"] == "box"]
    assert layout["yaxis"]["ticktext"] == [native_label, container_label]
    assert box["x"].tolist() == [*native, *container]
    assert box["y"].tolist() == [0] * len(native) + [1] * len(container)


def test_skipped_failed_and_warnings_are_listed(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    noisy = tuple(float(x) for x in rng.lognormal(-2, 0.6, 12))
    document = make_document(
        run_id="r1",
        results=[
            result(
                "startup",
                "startup",
                startup_variant("native"),
                {"end_to_end": ("s", "lower", (0.1,) * 3)},
            ),
            result(
                "startup",
                "startup",
                startup_variant("container"),
                {"end_to_end": ("s", "lower", noisy)},
            ),
            Result(
                "startup",
                "startup",
                startup_variant("container", mount="bind"),
                "skipped",
                reason="bind mount not shared",
            ),
            Result("network", "network", {"path": "bridge"}, "failed", reason="iperf3 exited 1"),
        ],
    )
    write_atomic(tmp_path / "r1.json", document)

    info = build_report(inputs=[tmp_path], output=tmp_path / "page.html")

    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    outcomes = _section(page, "outcomes", "environment")
    assert "bind mount not shared" in outcomes and "skipped" in outcomes
    assert "iperf3 exited 1" in outcomes and "failed" in outcomes
    joined = "\n".join(info.warnings)
    assert "too few samples for a 95 % interval" in joined and "--repeat 6" in joined
    assert "coefficient of variation above 10%" in joined and "CPU frequency scaling" in joined
    for warning in info.warnings:
        assert warning.replace("'", "&#39;") in page


def test_no_results_gives_a_page_that_says_so(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "foreign.json").write_text('{"hello": "world"}')

    info = build_report(inputs=[tmp_path / "results"], output=tmp_path / "out" / "index.html")

    page = info.output.read_text(encoding="utf-8")
    assert info.n_runs == 0 and info.n_samples == 0
    assert "No results" in page and "crossdock run" in page
    assert "not a crossdock results file" in page
    assert PLOTLY_BANNER not in page  # nothing to draw, no 4.5 MB of plotly.js


def _groups(samples: pd.DataFrame) -> dict[tuple[str, ...], tuple[str, str, tuple[float, ...]]]:
    """The metric series of a samples table by a pandas object per group."""
    return {
        tuple(str(k) for k in key): (
            str(group["unit"].iloc[0]),
            str(group["direction"].iloc[0]),
            tuple(group["value"].tolist()),
        )
        for key, group in samples.groupby(["run_id", "scenario", "variant", "metric"], sort=False)
    }


def test_metric_series_are_the_groups_of_the_samples_table(tmp_path: Path) -> None:
    """The series the statistics run on are exactly pandas' groups of the samples table
    (values in table order, unit and direction from the first row), first seen first --
    also when a series' rows are not next to each other."""
    write_suite(tmp_path)
    samples = load_frame([tmp_path]).samples
    shuffled = samples.sample(frac=1.0, random_state=3)
    for table in (samples, shuffled):
        series = _sample_series(table)
        expected = _groups(table)
        assert list(series) == list(expected)
        assert series == expected
    assert len(series) > 100
    assert _sample_series(load_frame([]).samples) == {}


def _validation_document(rng: np.random.Generator) -> RunDocument:
    """A run as ``crossdock validate`` stores it: the harness beside the reference tools,
    with no native baseline for startup and file I/O (network compares the bridge with
    native loopback, method by method)."""
    results = [
        *(
            samples_result("startup", {"method": m}, "end_to_end", lognormal(rng, 0.3, 30), {})
            for m in ("harness", "bare-api", "hyperfine")
        ),
        *(
            samples_result(
                "fileio",
                {"workload": "seq-read", "method": m},
                "bandwidth",
                lognormal(rng, 1e9, 10),
                {},
            )
            for m in ("harness-native", "harness-bind", "fio-by-hand")
        ),
        *(
            samples_result(
                "network", {"path": p, "method": m}, "bitrate", lognormal(rng, 3e10, 5), {}
            )
            for p in ("native-loopback", "bridge")
            for m in ("harness", "by-hand")
        ),
    ]
    document = make_document(run_id="validate-1", platform="linux-native", results=results)
    return replace(document, run={**document.run, "purpose": "validate"})


def test_runs_without_a_native_comparison_are_left_out_of_an_area_summary(
    tmp_path: Path,
) -> None:
    """A platform whose only run is a validation run has nothing to compare with native in
    startup and file I/O: no empty column for it there, a line saying so, and its samples
    in its own sections."""
    write_suite(tmp_path / "results", ["docker-desktop-mac"])
    validation = _validation_document(np.random.default_rng(17))
    write_atomic(tmp_path / "results" / "validate.json", validation)

    build_report(inputs=[tmp_path / "results"], output=tmp_path / "page.html")

    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    figures = _figures(page)
    suite_runs = ["docker-desktop-mac"]
    label = "linux-native"  # a column per platform, whatever its runs

    def columns(area: str) -> list[str]:
        return [x.replace("<br>", " ") for x in figures[f"heat-{area}"][0][0]["x"]]

    for area in ("startup", "fileio"):
        assert columns(area) == suite_runs
        summary = _section(
            page, f"area-{area}", {"startup": "area-fileio"}.get(area, "area-network")
        )
        headers = re.findall(r"<th[^>]*>([^<]*)</th>", summary)
        assert headers[3:] == [f"{run} vs native" for run in suite_runs]
        assert "Not in this summary, having no container figure here with a native" in summary
        assert f"measured beside it: {label} (a run of" in re.sub(r"\s+", " ", summary)
    # in network it compares the bridge with native loopback, so it is in that summary
    assert columns("network") == [*suite_runs, label]
    assert "Not in this summary" not in _section(page, "area-network", "warnings")
    # its own sections are all there
    sections = _section(page, "warnings", "outcomes")
    for scenario in ("validate-startup", "validate-fileio", "validate-network"):
        assert f"{scenario} <span" in sections
    assert [label, "1", "30"] in [r[1:4] for r in _rows(sections) if r]


# --- in a browser -----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRE_BROWSER = os.environ.get("CROSSDOCK_REQUIRE_BROWSER") == "1"

needs_browser = pytest.mark.skipif(
    CHROMIUM is None and not REQUIRE_BROWSER,
    reason="chromium is not installed (apt-get install chromium); "
    "set CROSSDOCK_REQUIRE_BROWSER=1 to make this a failure",
)


def _chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless chromium on *page* with every network path closed: no proxy that
    answers, no DNS, no background services."""
    if CHROMIUM is None:
        pytest.fail("chromium is required (CROSSDOCK_REQUIRE_BROWSER=1) but not installed")
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--proxy-server=127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--virtual-time-budget=15000",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@needs_browser
def test_charts_render_offline_in_chromium(suite_report: tuple[Path, Path], tmp_path: Path) -> None:
    _, output = suite_report
    figures = output.read_text(encoding="utf-8").count('class="plotly-graph-div"')

    run = _chromium(output, tmp_path / "profile", "--dump-dom")

    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert dom.count('class="plot-container plotly"') == figures
    assert dom.count('class="main-svg"') >= 2 * figures  # plotly draws two layers per figure
    trends = _section(dom, "trends", "summary").count('class="plot-container plotly"')
    assert dom.count('class="hm"') >= 3 and dom.count('class="boxlayer') >= figures - 3 - trends
    # the hostile run's markup stayed text
    assert "<title>crossdock report" in dom and "pwned</title>" not in dom
    assert "<img src=" not in dom
    # the page's policy (default-src 'none') logs any fetch it blocks: nothing was wanted
    # from the network, and no script failed
    assert "Content Security Policy" not in run.stderr
    assert "Uncaught" not in run.stderr


@needs_browser
def test_screenshot_of_the_page(suite_report: tuple[Path, Path], tmp_path: Path) -> None:
    _, output = suite_report
    shot = tmp_path / "page.png"

    run = _chromium(
        output,
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1280,2400",
        f"--screenshot={shot}",
    )

    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one


def _label_clashes(dom: str, div_id: str) -> list[tuple[str, str]]:
    """Neighbouring row labels of a rendered heatmap whose lines overlap: from each y
    tick's position in the drawn SVG and its number of lines (1.3 em apart at 13 px)."""
    figure = dom[dom.index(f'id="{div_id}"') :]
    figure = figure[: figure.index("</svg>", figure.index('class="main-svg"') + 1)]
    ticks = sorted(
        (float(y), label, label.count("&lt;br&gt;") + 1)
        for label, y in re.findall(
            r'<g class="ytick"><text[^>]*data-unformatted="([^"]*)"[^>]*'
            r'transform="translate\(0,([\d.]+)\)',
            figure,
        )
    )
    assert len(ticks) >= 2, f"no row labels drawn in {div_id}"
    line = 1.3 * 13
    return [
        (a, b)
        for (y_a, a, lines_a), (y_b, b, lines_b) in itertools.pairwise(ticks)
        if y_b - y_a < line * (lines_a + lines_b) / 2
    ]


@needs_browser
def test_heatmap_row_labels_do_not_overlap(tmp_path: Path) -> None:
    """Eight runs of three platforms, every run summarised: the platform labels over the
    columns take room above the plot, and the rows' two-line labels still have theirs."""
    for seed in range(8):
        platform = list(PLATFORMS)[seed % 3]
        document = default_suite(platform, seed=seed, run_id=f"2024-05-01T10-00-00-{seed:04d}")
        write_atomic(result_path(tmp_path / "results", platform, str(document.run["id"])), document)
    output = tmp_path / "page.html"
    build_report(inputs=[tmp_path / "results"], output=output, selection=Selection(latest=None))

    run = _chromium(output, tmp_path / "profile", "--window-size=1280,2000", "--dump-dom")

    assert run.returncode == 0, run.stderr[-2000:]
    for area in ("startup", "fileio", "network"):
        assert _label_clashes(run.stdout, f"heat-{area}") == [], area


def test_comparisons_with_native_that_need_more_samples_say_how_many(tmp_path: Path) -> None:
    rng = np.random.default_rng(21)

    def run(scale: float) -> tuple[float, ...]:
        return tuple(float(x) for x in scale * rng.lognormal(-1, 0.08, 10))

    document = make_document(
        run_id="r1",
        results=[
            result(
                "startup",
                "startup",
                startup_variant("native"),
                {"end_to_end": ("s", "lower", run(1.0))},
            ),
            # 8 % slower: visible with a few dozen samples, not with 10
            result(
                "startup",
                "startup",
                startup_variant("container", network="bridge"),
                {"end_to_end": ("s", "lower", run(1.08))},
            ),
            # 0.5 % slower: below what any practical --repeat resolves
            result(
                "startup",
                "startup",
                startup_variant("container", mount="bind"),
                {"end_to_end": ("s", "lower", run(1.005))},
            ),
            # counts vary by nature: no spread warning for them
            result(
                "startup",
                "startup",
                startup_variant("container"),
                {"end_to_end": ("s", "lower", run(3.0)), "retries": ("1", "lower", (0.0, 5.0) * 5)},
            ),
        ],
    )
    write_atomic(tmp_path / "r1.json", document)

    info = build_report(inputs=[tmp_path], output=tmp_path / "page.html")

    native = next(w for w in info.warnings if "no difference from the native baseline" in w)
    needed = int(re.findall(r"about (\d+) samples per side", native)[0])
    assert needed > 10 and "mount=bind" in native and f"(--repeat {needed})" in native
    assert not any("retries" in w for w in info.warnings)
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    retries = page[page.index("<h4>retries</h4>") :]
    assert 'class="warn"' not in retries[: retries.index("</table>")]  # nor highlighted
    ratios = {row[1]: row[3] for row in _rows(_section(page, "summary", "warnings")) if row}
    assert ratios["mount=none, network=bridge"].endswith("] †")
    assert ratios["mount=bind, network=none"].endswith("] †")
    assert (
        ratios["mount=none, network=none"].startswith("3")
        and "†" not in ratios["mount=none, network=none"]
    )


def test_each_scenario_shows_the_conditions_its_results_recorded(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)

    def timed(state: str, runtime: str, extra: dict[str, object]) -> Result:
        return result(
            "startup-cold",
            "startup",
            startup_variant(runtime, cache=state),
            {"end_to_end": ("s", "lower", tuple(rng.lognormal(-1, 0.1, 10)))},
            extra=extra,
        )

    rows = [
        timed("warm", "container", {"cache": "warm: the image is local"}),
        timed("cold", "container", {"cache": "cold: dropped", "cache_method": "engine"}),
        timed("warm", "native", {"cache": "warm: the image is local"}),
        result(
            "fileio",
            "fileio",
            {"target": "tmpfs", "workload": "seq-read"},
            {"bandwidth": ("B/s", "higher", tuple(rng.lognormal(20, 0.1, 10)))},
            extra={"fs_type": "tmpfs", "direct": False},
        ),
    ]
    write_atomic(
        tmp_path / "r" / "a.json", make_document(run_id="a", platform="colima", results=rows)
    )
    page = tmp_path / "index.html"
    build_report(inputs=[tmp_path / "r"], output=page)
    html = page.read_text(encoding="utf-8")
    startup = _section(html, "scenario-0", "scenario-1")
    conditions = startup[startup.index("Conditions recorded") :]
    assert _rows(conditions)[1:4] == [
        ["cache=warm, runtime=container", "colima", "warm: the image is local", "–"],
        ["cache=cold, runtime=container", "colima", "cold: dropped", "engine"],
        ["cache=warm, runtime=native", "colima", "warm: the image is local", "–"],
    ]
    fileio = html[html.index('id="scenario-1"') :]
    assert ["default", "colima", "tmpfs", "no"] in _rows(fileio[fileio.index("Conditions") :])
