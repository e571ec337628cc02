"""Tests of bench.interop: pyperf and CSV out, pytest-benchmark in.

pyperf files are read back with pyperf itself and its own commands (`stats`,
`compare_to`); pytest-benchmark files come from a real pytest-benchmark run of
tests/fixtures/pytest-benchmark/bench_tiny.py, here and as saved in that folder.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyperf
import pytest
from factories import (
    default_suite,
    lognormal,
    make_document,
    network_results,
    result,
    startup_results,
    write_suite,
)

from bench import __version__, results
from bench.analysis.frame import SAMPLE_COLUMNS, load_frame
from bench.errors import BadInputError
from bench.interop import (
    PYTEST_BENCHMARK_SCENARIO,
    ExportInfo,
    benchmark_name,
    export_csv,
    export_pyperf,
    import_pytest_benchmark,
)
from bench.interop.pyperf import PER_OPERATION, PER_THOUSAND_INTERVALS
from bench.results import Metric, Result, RunDocument, result_path, write_atomic

CAPTURES = Path(__file__).parent / "fixtures" / "pytest-benchmark"
WITH_DATA = CAPTURES / "json_with_data.json"
WITHOUT_DATA = CAPTURES / "save_without_data.json"

Export = Callable[..., ExportInfo]


# --- helpers -----------------------------------------------------------------------------


def _run_document(platform: str, seed: int, run_id: str | None = None) -> RunDocument:
    """Startup (s and op/s), network (bit/s, s, %, counts), a byte-sized metric and a
    skipped result, with seeded samples; slower on Docker Desktop."""
    rng = np.random.default_rng(seed)
    slowdown = 1.6 if "desktop" in platform else 1.0
    return make_document(
        run_id=run_id or f"{platform}-{seed}",
        platform=platform,
        results=[
            *startup_results(rng, n=10, slowdown=slowdown, containers=2),
            *network_results(rng, slowdown=slowdown),
            result(
                "images",
                "command",
                {"target": "native", "image": "busybox"},
                {"image_size": ("B", "lower", lognormal(rng, 4.3e6, 5))},
            ),
            Result(
                scenario="fileio",
                kind="fileio",
                variant={"target": "bind-windows", "workload": "seq-read"},
                status="skipped",
                reason="no Windows filesystem on this host",
            ),
        ],
    )


def _write(folder: Path, document: RunDocument) -> Path:
    path = result_path(folder, str(document.platform["id"]), str(document.run["id"]))
    write_atomic(path, document)
    return path


def _exported(document: RunDocument) -> dict[str, Metric]:
    """What export_pyperf must write: benchmark name -> metric, in file order."""
    return {
        benchmark_name(r, m): m
        for r in document.results
        if r.status == "ok"
        for m in r.metrics
        if m.unit not in ("%", "1")
    }


def _pyperf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyperf", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _strings(value: Any) -> Iterator[str]:
    """Every string value (not key) in a decoded JSON document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# --- pyperf ------------------------------------------------------------------------------


def test_pyperf_export_loads_with_pyperf_one_run_per_sample(tmp_path: Path) -> None:
    document = _run_document("linux-native", seed=1)
    source = _write(tmp_path / "results", document)

    info = export_pyperf(inputs=[source], output=tmp_path / "linux.json")

    suite = pyperf.BenchmarkSuite.load(str(info.output))
    expected = _exported(document)
    assert suite.get_benchmark_names() == list(info.benchmarks) == list(expected)
    assert (
        "startup[cache=warm, cli=true, concurrency=1, image=busybox, mount=none, network=none, "
        "publish=false, runtime=native].end_to_end" in expected
    )
    for name, measured in expected.items():
        bench = suite.get_benchmark(name)
        assert bench.get_nrun() == len(measured.samples)
        assert all(len(run.values) == 1 for run in bench.get_runs())
        metadata = bench.get_metadata()
        assert metadata["crossdock_unit"] == measured.unit
        assert metadata["crossdock_direction"] == measured.direction
        assert metadata["crossdock_platform"] == "linux-native"
        assert metadata["crossdock_run_id"] == "linux-native-1"
        assert metadata["crossdock_harness_version"] == "0.1.0"
        assert metadata["date"] == "2024-05-01 10:00:00"
        thousand = measured.name in PER_OPERATION | PER_THOUSAND_INTERVALS or (
            measured.unit == "s" and "runtime=native" in name
        )
        if thousand:  # the time of 1,000 operations at that latency, or of 1,000 intervals
            assert bench.get_values() == pytest.approx([1e3 * s for s in measured.samples])
        elif measured.unit in ("s", "B"):
            assert bench.get_values() == measured.samples
        else:  # a rate: the time of a stated unit of work
            work = {"B/s": 2.0**30, "bit/s": 1e9, "op/s": 1e3}[measured.unit]
            assert bench.get_values() == pytest.approx([work / s for s in measured.samples])
    assert info.n_runs == 1
    assert info.n_values == sum(len(m.samples) for m in expected.values())


def test_pyperf_units_and_meanings_follow_the_mapping(tmp_path: Path) -> None:
    document = _run_document("linux-native", seed=2)
    info = export_pyperf(
        inputs=[_write(tmp_path, document)], output=tmp_path / "out" / "suite.json"
    )
    suite = pyperf.BenchmarkSuite.load(str(info.output))
    meanings = {
        b.get_metadata()["crossdock_metric"]: (b.get_unit(), b.get_metadata()["crossdock_values"])
        for b in suite
    }
    assert meanings["end_to_end"] == ("second", "seconds")
    assert meanings["throughput"] == ("second", "seconds per 1,000 operations (1,000 / op/s)")
    assert meanings["bitrate"] == ("second", "seconds per Gbit (10^9 bit / bit/s)")
    assert meanings["image_size"] == ("byte", "bytes")
    assert {"retransmits", "sender_cpu", "receiver_cpu"}.isdisjoint(meanings)
    skipped = "\n".join(info.skipped)
    assert "retransmits (unit '1') left out" in skipped
    assert "sender_cpu (unit '%') left out" in skipped
    assert "1 skipped or failed results have no samples" in skipped


def test_exported_rates_and_latencies_are_times_pyperf_does_not_call_too_short(
    tmp_path: Path,
) -> None:
    """pyperf's check warns about a value under 1 ms ("the shortest raw value is only
    ..."): a rate exported as seconds per byte or bit was nanoseconds, and the latency of
    one I/O or round trip is microseconds. As the time of a GiB, a Gbit or 1,000
    operations, no benchmark of a default suite is under it."""
    info = export_pyperf(
        inputs=[_write(tmp_path, default_suite("linux-native", seed=5))],
        output=tmp_path / "suite.json",
    )
    exported = list(pyperf.BenchmarkSuite.load(str(info.output)))
    rates = [b for b in exported if b.get_metadata()["crossdock_unit"] in ("B/s", "bit/s", "op/s")]
    assert {b.get_metadata()["crossdock_unit"] for b in rates} == {"B/s", "bit/s", "op/s"}
    latencies = [b for b in exported if b.get_metadata()["crossdock_metric"] in PER_OPERATION]
    assert {b.get_metadata()["crossdock_metric"] for b in latencies} == set(PER_OPERATION)
    thousands = {
        b.get_metadata()["crossdock_metric"]
        for b in exported
        if b.get_metadata()["crossdock_values"].startswith("seconds per 1,000 such intervals")
    }
    assert thousands >= PER_THOUSAND_INTERVALS and "end_to_end" in thousands  # native start
    for bench in exported:
        assert min(bench.get_values()) >= 1e-3, bench.get_name()
    checked = subprocess.run(
        [sys.executable, "-m", "pyperf", "check", str(info.output)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "shortest raw value" not in checked.stdout
    stats = _pyperf("stats", str(info.output))
    assert stats.returncode == 0 and "shortest raw value" not in stats.stdout


def test_pyperf_stats_and_compare_to_read_two_exports(tmp_path: Path) -> None:
    files = {}
    for seed, platform in enumerate(("linux-native", "docker-desktop-mac")):
        source = _write(tmp_path / "results", _run_document(platform, seed))
        files[platform] = export_pyperf(inputs=[source], output=tmp_path / f"{platform}.json")
    linux, mac = files["linux-native"], files["docker-desktop-mac"]
    assert linux.benchmarks == mac.benchmarks

    stats = _pyperf("stats", str(linux.output))
    assert stats.returncode == 0, stats.stderr
    assert all(name in stats.stdout for name in linux.benchmarks)

    compared = _pyperf("compare_to", str(linux.output), str(mac.output))
    assert compared.returncode == 0, compared.stderr
    assert all(name in compared.stdout for name in linux.benchmarks)
    lines = {line.split(": Mean")[0]: line for line in compared.stdout.splitlines()}
    container = (
        "cache=warm, cli=true, concurrency=1, image=busybox, mount=none, network=none, "
        "publish=false, runtime=container"
    )
    # 1.6 times slower startup on the Desktop: longer times, and fewer containers per
    # second, which exported as seconds per container must also read "slower"
    assert lines[f"startup[{container}].end_to_end"].endswith("slower")
    assert lines[f"startup[{container}].throughput"].endswith("slower")


def test_pyperf_runs_of_one_platform_become_runs_of_the_same_benchmarks(tmp_path: Path) -> None:
    first = _run_document("linux-native", seed=3, run_id="run-a")
    second = _run_document("linux-native", seed=4, run_id="run-b")
    folder = tmp_path / "results"
    _write(folder, first)
    _write(folder, second)

    info = export_pyperf(inputs=[folder], output=tmp_path / "linux.json")

    suite = pyperf.BenchmarkSuite.load(str(info.output))
    assert info.n_runs == 2
    assert suite.get_benchmark_names() == list(_exported(first))
    name, measured = next(iter(_exported(first).items()))
    bench = suite.get_benchmark(name)
    assert bench.get_nrun() == 2 * len(measured.samples)
    run_ids = [run.get_metadata()["crossdock_run_id"] for run in bench.get_runs()]
    assert sorted(set(run_ids)) == ["run-a", "run-b"]


def test_pyperf_refuses_to_mix_platforms(tmp_path: Path) -> None:
    paths = write_suite(tmp_path / "results", ["linux-native", "docker-desktop-mac"])
    output = tmp_path / "mixed.json"

    with pytest.raises(BadInputError) as caught:
        export_pyperf(inputs=paths, output=output)

    message = str(caught.value)
    assert "linux-native" in message and "docker-desktop-mac" in message
    assert all(str(p) in message for p in paths)
    assert "own file" in message
    assert not output.exists()


def test_pyperf_leaves_out_what_it_would_misread(tmp_path: Path) -> None:
    document = make_document(
        run_id="odd",
        results=[
            result(
                "command",
                "command",
                {"target": "native"},
                {
                    "command": ("s", "lower", (0.5, 0.6, 0.7)),
                    "score": ("s", "higher", (1.0, 2.0)),
                    "iops": ("op/s", "higher", (0.0, 10.0)),
                    "retransmits": ("1", "lower", (0.0, 3.0)),
                },
            )
        ],
    )
    info = export_pyperf(inputs=[_write(tmp_path, document)], output=tmp_path / "odd.json")

    assert info.benchmarks == ("command[target=native].command",)
    skipped = "\n".join(info.skipped)
    assert "score (unit 's', higher is better) left out" in skipped
    assert "iops left out where a sample is 0 or less" in skipped
    assert "retransmits (unit '1') left out" in skipped


def test_pyperf_refuses_a_file_with_nothing_it_can_hold(tmp_path: Path) -> None:
    document = make_document(
        run_id="counts",
        results=[
            result("network", "network", {"path": "bridge"}, {"retransmits": ("1", "lower", [2.0])})
        ],
    )
    with pytest.raises(BadInputError, match=r"nothing to export to pyperf: .*retransmits"):
        export_pyperf(inputs=[_write(tmp_path, document)], output=tmp_path / "none.json")


# --- CSV ---------------------------------------------------------------------------------


def test_csv_is_the_samples_frame_one_row_per_sample(tmp_path: Path) -> None:
    paths = write_suite(tmp_path / "results")
    unicode_run = make_document(
        run_id="unicode",
        results=[
            result(
                "command",
                "command",
                {"target": "native", "note": "µs Ü"},
                {"command": ("s", "lower", (0.25, 0.5))},
            )
        ],
    )
    paths.append(_write(tmp_path / "results", unicode_run))
    output = tmp_path / "export" / "samples.csv"

    info = export_csv(inputs=[tmp_path / "results"], output=output)

    documents = [results.read(p) for p in paths]
    total = sum(
        len(m.samples) for d in documents for r in d.results if r.status == "ok" for m in r.metrics
    )
    table = pd.read_csv(output, encoding="utf-8")
    frame = load_frame([tmp_path / "results"]).samples
    assert info.n_values == len(table) == total
    assert info.n_runs == len(paths)
    assert list(table.columns) == list(frame.columns)
    assert tuple(table.columns[: len(SAMPLE_COLUMNS)]) == SAMPLE_COLUMNS
    assert table["value"].tolist() == frame["value"].tolist()
    assert "µs Ü" in set(table["v_note"].dropna())
    assert "6 skipped or failed results have no samples" in info.skipped[0]
    text = output.read_text(encoding="utf-8")
    assert text.startswith(",".join(SAMPLE_COLUMNS) + ",v_")
    assert ",1.0," not in text.split("\n")[1]  # concurrency=1 stays a whole number


# --- bad inputs to the exports -----------------------------------------------------------


@pytest.mark.parametrize("export", [export_pyperf, export_csv], ids=["pyperf", "csv"])
def test_exports_refuse_inputs_they_cannot_use_whole(export: Export, tmp_path: Path) -> None:
    good = _write(tmp_path / "results", _run_document("linux-native", seed=5))
    truncated = tmp_path / "results" / "linux-native" / "truncated.json"
    truncated.write_text(good.read_text(encoding="utf-8")[:500], encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    output = tmp_path / "out.file"

    cases = [
        ([good, truncated], rf"{truncated}: not valid JSON"),
        ([good, tmp_path / "missing.json"], "missing.json: no such file or folder"),
        ([empty], "no results files in"),
        ([], "nothing to export"),
    ]
    for inputs, message in cases:
        with pytest.raises(BadInputError, match=message):
            export(inputs=inputs, output=output)
    assert not output.exists()


# --- pytest-benchmark import ---------------------------------------------------------------


@pytest.fixture(scope="module")
def live_capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A real pytest-benchmark run of bench_tiny.py: its ``--benchmark-json`` file and
    its ``--benchmark-save`` file (saved without ``--benchmark-save-data``)."""
    work = tmp_path_factory.mktemp("pytest-benchmark")
    shutil.copy(CAPTURES / "bench_tiny.py", work)
    store = work / "store"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "bench_tiny.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "--benchmark-json=live.json",
            "--benchmark-save=live",
            f"--benchmark-storage=file://{store}",
            "--benchmark-min-rounds=5",
            "--benchmark-max-time=0.0000001",
            "--benchmark-warmup=off",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (saved,) = store.rglob("*.json")
    return work / "live.json", saved


def test_live_pytest_benchmark_json_imports_sample_for_sample(
    live_capture: tuple[Path, Path], tmp_path: Path
) -> None:
    source = live_capture[0]
    raw = json.loads(source.read_text(encoding="utf-8"))

    path = import_pytest_benchmark(source=source, out=tmp_path / "results")

    assert path.parent == tmp_path / "results" / "unknown"
    document = results.read(path)
    assert document.platform["id"] == "unknown"
    assert document.platform["detection"] == ["imported from pytest-benchmark"]
    loaded = load_frame([path])
    assert loaded.warnings == ()
    samples = loaded.samples
    data = {b["fullname"]: b["stats"]["data"] for b in raw["benchmarks"]}
    assert len(samples) == sum(len(values) for values in data.values()) == 15
    for fullname, values in data.items():
        rows = samples[samples["v_benchmark"] == fullname].sort_values("repetition")
        assert rows["value"].tolist() == values
    assert set(samples["scenario"]) == {PYTEST_BENCHMARK_SCENARIO}
    assert set(samples["kind"]) == {"command"}
    assert set(zip(samples["metric"], samples["unit"], samples["direction"], strict=True)) == {
        ("command", "s", "lower")
    }
    groups = dict(zip(loaded.outcomes["v_benchmark"], loaded.outcomes["v_group"], strict=True))
    assert groups["bench_tiny.py::test_join[10]"] == "join"
    assert pd.isna(groups["bench_tiny.py::test_sorted"])


def test_saved_capture_keeps_host_facts_but_not_the_host_name(tmp_path: Path) -> None:
    raw = json.loads(WITH_DATA.read_text(encoding="utf-8"))
    machine = raw["machine_info"]

    path = import_pytest_benchmark(source=WITH_DATA, out=tmp_path, platform="linux-native")

    assert path.parent == tmp_path / "linux-native"
    document = results.read(path)
    assert document.platform["id"] == "linux-native"
    assert document.platform["family"] == "linux"
    assert document.platform["host_os"] == "linux"
    assert document.platform["detection"] == [
        "imported from pytest-benchmark",
        "platform 'linux-native' stated at import, not detected",
    ]
    assert document.host["os"] == "linux"
    assert document.host["arch"] == machine["machine"]
    assert document.host["cpu_model"] == machine["cpu"]["brand_raw"]
    assert document.host["cpu_count"] == machine["cpu"]["count"]
    assert document.host["hostname_hash"] == hashlib.sha256(b"vm").hexdigest()[:12]
    assert "vm" not in set(_strings(json.loads(path.read_text(encoding="utf-8"))))
    assert document.run["harness_version"] == __version__
    assert document.run["started_at"] == "2026-11-29T19:45:21+00:00"
    assert document.run["status"] == "complete"
    assert document.run["argv"][-2:] == ["--platform", "linux-native"]
    assert document.engine["server_version"] is None
    first = document.results[0]
    assert first.tool == {"name": "pytest-benchmark", "version": "5.2.3"}
    assert first.extra["iterations"] == raw["benchmarks"][0]["stats"]["iterations"]
    assert first.variant == {"benchmark": "bench_tiny.py::test_sorted"}
    # importing again writes the same file: the report never counts a run twice
    assert import_pytest_benchmark(source=WITH_DATA, out=tmp_path, platform="linux-native") == path
    assert list(tmp_path.rglob("*.json")) == [path]


def test_imported_benchmarks_export_to_pyperf(tmp_path: Path) -> None:
    raw = json.loads(WITH_DATA.read_text(encoding="utf-8"))
    path = import_pytest_benchmark(source=WITH_DATA, out=tmp_path)

    info = export_pyperf(inputs=[path], output=tmp_path / "imported.json")

    suite = pyperf.BenchmarkSuite.load(str(info.output))
    for benchmark in raw["benchmarks"]:
        group = f", group={benchmark['group']}" if benchmark["group"] else ""
        name = f"pytest-benchmark[benchmark={benchmark['fullname']}{group}].command"
        assert suite.get_benchmark(name).get_values() == tuple(benchmark["stats"]["data"])


def test_import_refuses_files_saved_without_raw_timings(
    live_capture: tuple[Path, Path], tmp_path: Path
) -> None:
    for source in (live_capture[1], WITHOUT_DATA):
        with pytest.raises(BadInputError) as caught:
            import_pytest_benchmark(source=source, out=tmp_path)
        message = str(caught.value)
        assert "3 of 3 benchmarks have no raw timings (stats.data)" in message
        assert "bench_tiny.py::test_sorted" in message
        assert "re-run with --benchmark-save-data" in message
    assert not any(tmp_path.rglob("*.json"))


def _edited_capture(tmp_path: Path, edit: Callable[[dict[str, Any]], object]) -> Path:
    data = json.loads(WITH_DATA.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_import_refuses_a_file_where_one_benchmark_lacks_raw_timings(tmp_path: Path) -> None:
    source = _edited_capture(tmp_path, lambda d: d["benchmarks"][1]["stats"].pop("data"))
    with pytest.raises(
        BadInputError, match=r"1 of 3 benchmarks .*: bench_tiny.py::test_join\[10\]\."
    ):
        import_pytest_benchmark(source=source, out=tmp_path / "results")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.json", r"missing.json: cannot read \(No such file"),
        (lambda tmp: _text(tmp, '{"benchmarks": ['), "not valid JSON"),
        (lambda tmp: _text(tmp, "\udcff"), "not valid JSON"),
        (
            lambda tmp: _write(tmp, make_document(run_id="r")),
            "not a pytest-benchmark JSON file",
        ),
        (
            lambda tmp: _edited_capture(tmp, lambda d: d.update(benchmarks=[])),
            "no benchmarks in the file",
        ),
        (
            lambda tmp: _edited_capture(tmp, lambda d: d.pop("datetime")),
            "no valid 'datetime'",
        ),
        (
            lambda tmp: _edited_capture(tmp, lambda d: d["machine_info"].update(system="Plan9")),
            "machine_info.system 'Plan9' is no host OS crossdock knows",
        ),
        (
            lambda tmp: _edited_capture(
                tmp, lambda d: d["benchmarks"][0]["stats"]["data"].append(math.inf)
            ),
            "cannot be stored as a results file",
        ),
    ],
    ids=["missing", "truncated", "not-utf8", "crossdock-file", "empty", "no-date", "os", "inf"],
)
def test_import_refuses_unusable_files(
    make: Callable[[Path], Path], message: str, tmp_path: Path
) -> None:
    source = make(tmp_path)
    with pytest.raises(BadInputError, match=message):
        import_pytest_benchmark(source=source, out=tmp_path / "results")
    assert not (tmp_path / "results").exists()


def test_import_refuses_an_unknown_platform(tmp_path: Path) -> None:
    with pytest.raises(
        BadInputError, match=r"unknown platform 'docker-desktop' \(valid: linux-native, "
    ):
        import_pytest_benchmark(source=WITH_DATA, out=tmp_path, platform="docker-desktop")


def _text(folder: Path, text: str) -> Path:
    path = folder / "bad.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path
