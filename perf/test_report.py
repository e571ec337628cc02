"""The report: :func:`bench.report.build_report` over 10, 100 and 1,000 synthetic results
files in this process, and ``python -m bench report`` over the same files as a child
process, for its wall time and peak memory; and the command over files shaped like real
runs (:mod:`perf.realshape`): 10, 100 and 1,000 ``quick`` runs (1,000: 276,000 series,
788,000 samples), 10 and 300 ``default`` runs (300: about a million samples), with the
default selection and with every run summarised (``--latest all``). Targets: 1,000
real-shaped files in under 20 s and 1.5 GB, a page under 10 MB."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench.report import build_report
from perf import measure
from perf.realshape import RealCorpus
from perf.synthetic import Corpus

#: files -> fixed rounds; every case takes seconds a round.
CASES = [(10, 3), (100, 1), pytest.param(1000, 1, marks=pytest.mark.large)]
IDS = ["10", "100", "1000"]

#: The checkout's root: where ``python -m bench`` finds this source tree.
REPO = Path(__file__).resolve().parent.parent


@pytest.mark.benchmark(group="report.build_report: synthetic files")
@pytest.mark.parametrize(("files", "rounds"), CASES, ids=IDS)
def test_build_report(
    benchmark: BenchmarkFixture, corpus: Corpus, tmp_path: Path, files: int, rounds: int
) -> None:
    folders = corpus.folders(files)
    output = tmp_path / "index.html"
    info = measure.timed(benchmark, build_report, inputs=folders, output=output, rounds=rounds)
    assert info.n_runs == files
    benchmark.extra_info["page_bytes"] = output.stat().st_size


@pytest.mark.skipif(not measure.SUPPORTED, reason="a child's peak memory needs os.wait4 (POSIX)")
@pytest.mark.benchmark(group="crossdock report (child process): synthetic files")
@pytest.mark.parametrize("files", [10, 100, pytest.param(1000, marks=pytest.mark.large)], ids=IDS)
def test_report_command(
    benchmark: BenchmarkFixture,
    corpus: Corpus,
    tmp_path: Path,
    peaks: list[measure.Peak],
    files: int,
) -> None:
    """The whole command as a user runs it, interpreter start and imports included; one
    round, whose peak RSS goes to the closing summary and the benchmark's extra_info."""
    output = tmp_path / "index.html"
    argv = [sys.executable, "-m", "bench", "report", *map(str, corpus.folders(files))]
    peak = measure.timed(
        benchmark,
        measure.child,
        [*argv, "-o", str(output)],
        label=f"crossdock report, {files} files",
        cwd=REPO,
        log=tmp_path / "report.log",
        rounds=1,
    )
    assert output.is_file()
    peaks.append(peak)
    benchmark.extra_info["max_rss_mib"] = round(peak.max_rss_mib, 1)
    benchmark.extra_info["page_bytes"] = output.stat().st_size


def _command(
    benchmark: BenchmarkFixture,
    folders: list[Path],
    tmp_path: Path,
    peaks: list[measure.Peak],
    label: str,
    *options: str,
) -> None:
    output = tmp_path / "index.html"
    argv = [sys.executable, "-m", "bench", "report", *map(str, folders), *options]
    peak = measure.timed(
        benchmark,
        measure.child,
        [*argv, "-o", str(output)],
        label=label,
        cwd=REPO,
        log=tmp_path / "report.log",
        rounds=1,
    )
    assert output.is_file()
    peaks.append(peak)
    benchmark.extra_info["max_rss_mib"] = round(peak.max_rss_mib, 1)
    benchmark.extra_info["page_bytes"] = output.stat().st_size


SELECTIONS = [(), ("--latest", "all")]
SELECTION_IDS = ["latest", "all-runs"]


@pytest.mark.skipif(not measure.SUPPORTED, reason="a child's peak memory needs os.wait4 (POSIX)")
@pytest.mark.benchmark(group="crossdock report (child process): real-shaped quick runs")
@pytest.mark.parametrize("options", SELECTIONS, ids=SELECTION_IDS)
@pytest.mark.parametrize("files", [10, 100, pytest.param(1000, marks=pytest.mark.large)], ids=IDS)
def test_report_command_real_quick(
    benchmark: BenchmarkFixture,
    *,
    real_quick: RealCorpus,
    tmp_path: Path,
    peaks: list[measure.Peak],
    files: int,
    options: tuple[str, ...],
) -> None:
    """The command over real-shaped ``quick`` files: many series of 2 or 3 samples."""
    label = " ".join(["crossdock report", *options, f"({files} real-shaped quick files)"])
    _command(benchmark, real_quick.folders(files), tmp_path, peaks, label, *options)


@pytest.mark.skipif(not measure.SUPPORTED, reason="a child's peak memory needs os.wait4 (POSIX)")
@pytest.mark.benchmark(group="crossdock report (child process): real-shaped default runs")
@pytest.mark.parametrize("options", SELECTIONS, ids=SELECTION_IDS)
@pytest.mark.parametrize(
    "files", [10, pytest.param(300, marks=pytest.mark.large)], ids=["10", "300"]
)
def test_report_command_real_default(
    benchmark: BenchmarkFixture,
    *,
    real_default: RealCorpus,
    tmp_path: Path,
    peaks: list[measure.Peak],
    files: int,
    options: tuple[str, ...],
) -> None:
    """The command over real-shaped ``default`` files: 30 or 10 samples per series."""
    label = " ".join(["crossdock report", *options, f"({files} real-shaped default files)"])
    _command(benchmark, real_default.folders(files), tmp_path, peaks, label, *options)
