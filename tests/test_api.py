"""Tests of the keyword API in bench/__init__.py: what tests and notebooks call without
argv. Captures are real `docker info` outputs; results files are made through
tests/factories.py; the run without an engine measures the real native baseline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from factories import make_document, result, startup_variant

import bench
from bench.errors import BadInputError, NoEngineError
from bench.results import read, write_atomic

CAPTURES = Path(__file__).parent / "fixtures" / "docker-info"


def _startup_run(path: Path, run_id: str, seed: int, *, slower: float) -> Path:
    rng = np.random.default_rng(seed)
    samples = tuple(0.3 * slower * rng.lognormal(0, 0.05, 30))
    variant = startup_variant("container", network="bridge")
    metrics = {"end_to_end": ("s", "lower", samples)}
    document = make_document(
        run_id=run_id, results=[result("startup", "startup", variant, metrics)]
    )
    write_atomic(path, document)
    return path


def test_detect_classifies_a_capture_file_or_its_text() -> None:
    path = CAPTURES / "docker_info_colima_1.txt"
    record = bench.detect(source=path)
    assert record.id == "colima"
    assert record.file_sharing is None  # nothing probed a capture
    assert record.detection
    assert bench.detect(text=path.read_text(encoding="utf-8")) == record
    mac = bench.detect(
        source=CAPTURES / "docker_info_json_desktop-mac-intel_2.txt", host_os="darwin"
    )
    assert (mac.id, mac.host_os) == ("docker-desktop-mac", "darwin")


def test_detect_raises_typed_errors_for_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="cannot read"):
        bench.detect(source=tmp_path / "absent.txt")
    binary = tmp_path / "info.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(BadInputError, match="not text"):
        bench.detect(source=binary)
    with pytest.raises(BadInputError, match="valid: linux, darwin, windows"):
        bench.detect(text="Server Version: 26.1.0", host_os="plan9")


def test_detect_without_an_engine_raises_no_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")
    with pytest.raises(NoEngineError) as info:
        bench.detect()
    assert info.value.exit_code == 3


def test_compare_returns_rows_with_the_ratio_of_medians(tmp_path: Path) -> None:
    a = _startup_run(tmp_path / "a.json", "run-a", 1, slower=1.0)
    b = _startup_run(tmp_path / "b.json", "run-b", 2, slower=2.0)
    (row,) = bench.compare(a=a, b=b)
    assert row.metric == "end_to_end" and row.scenario == "startup"
    assert row.ratio is not None
    assert row.ratio.value == pytest.approx(2.0, rel=0.1)
    assert row.mark == "***"


def test_report_writes_the_page_of_every_run_it_is_given(tmp_path: Path) -> None:
    runs = tmp_path / "results"
    _startup_run(runs / "linux-native" / "run-a.json", "run-a", 1, slower=1.0)
    _startup_run(runs / "linux-native" / "run-b.json", "run-b", 2, slower=1.2)
    output = tmp_path / "site" / "index.html"
    info = bench.report(inputs=[runs], output=output)
    assert info.output == output and output.is_file()
    assert (info.n_runs, info.n_samples) == (2, 60)
    assert "run-a" in output.read_text(encoding="utf-8")


def test_run_without_an_engine_records_the_skip_and_measures_the_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")
    monkeypatch.setenv("CROSSDOCK_WORKDIR", str(tmp_path / "scratch"))
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'kind = "startup"\nrepetitions = 3\nwarmups = 0\n[matrix]\nruntime = ["container", "native"]\n'
    )
    with pytest.raises(NoEngineError):
        bench.run(scenarios=[str(scenario)], out=tmp_path / "none")
    assert not (tmp_path / "none").exists()
    seen: list[Path] = []
    (run_file,) = bench.run(
        scenarios=[str(scenario)], out=tmp_path / "r", allow_no_engine=True, on_file=seen.append
    )
    assert seen == [run_file.path] and not run_file.failed
    document = read(run_file.path)
    assert document.run["status"] == "complete"
    by = {r.variant["runtime"]: r for r in document.results}
    assert by["container"].status == "skipped" and "no engine" in (by["container"].reason or "")
    assert len(by["native"].metrics[0].samples) == 3


def test_run_refuses_an_impossible_target_interval(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="target CI width"):
        bench.run(scenarios=["startup"], out=tmp_path, target_ci=50.0)


def test_the_api_functions_survive_their_submodules_being_imported() -> None:
    from bench.compare import render  # noqa: F401 - the import is the point
    from bench.report import build_report  # noqa: F401

    assert bench.report.__module__ == "bench" and bench.compare.__module__ == "bench"


def test_importing_bench_stays_light() -> None:
    code = (
        "import sys, bench; heavy = ('bench.driver', 'bench.cli', 'pandas', 'scipy', 'docker');"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
