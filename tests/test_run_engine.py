"""End to end on the real engine: the startup scenario, failures, no engine, interruption.

No test asserts a timing: only that the figures exist, are positive, and that nothing
labelled is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import driver, results
from bench.cli import main
from bench.environment import engine, host
from bench.metrics import METRICS

pytestmark = pytest.mark.engine

SMALL = """
kind = "startup"
name = "startup-small"
repetitions = 2
warmups = 1
timeout = 60
[matrix]
network = ["none", "bridge"]
publish = [false, true]
mount = ["none", "bind"]
exclude = [{network = "none", publish = true}]
include = [{runtime = "native"}, {concurrency = 3, cli = false}]
"""

PHASES = {"create", "start", "run_to_exit", "remove", "end_to_end", "cli_run_rm"}
ENGINE_SIDE = {"engine_create_to_start", "engine_start_to_die", "engine_die_to_destroy"}


def scenario_file(tmp_path: Path, text: str = SMALL) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.vm
def test_startup_scenario_writes_every_phase_for_every_variant(
    tmp_path: Path, live_engine: engine.Engine, engine_contexts: list[str], no_leftovers: None
) -> None:
    (run_file,) = driver.run(
        scenarios=[str(scenario_file(tmp_path))],
        out=tmp_path / "results",
        argv=["test"],
        contexts=engine_contexts,
    )
    doc = results.read(run_file.path)
    native = live_engine.info["KernelVersion"] == host.kernel_release()
    assert run_file.path.parent.name == doc.platform["id"]
    assert doc.platform["id"] == ("linux-native" if native else "linux-vm")
    assert doc.platform["file_sharing"]  # probed, e.g. ext4 or xfs here
    assert doc.run["status"] == "complete"
    assert doc.engine["server_version"] == live_engine.info["ServerVersion"]
    assert doc.host["cpu_count"] == os.cpu_count()
    assert len(doc.results) == 8
    for r in doc.results:
        assert r.status == "ok", r.reason
        names = {m.name for m in r.metrics}
        for m in r.metrics:
            assert len(m.samples) == 2  # warmups are not samples
            assert all(s > 0 for s in m.samples)
            assert (m.unit, m.direction) == (METRICS[m.name].unit, METRICS[m.name].direction)
        if r.variant["runtime"] == "native":
            assert names == {"end_to_end"}
        elif r.variant["concurrency"] == 3:
            assert names == {"throughput", "batch"}
            assert r.extra["absent"]
        else:
            assert names >= PHASES | ENGINE_SIDE
            assert r.extra["image"]["method"] in ("host", "registry")
            assert r.tool and r.tool["name"] == "docker-engine-api"
            # the phases are parts of the end-to-end interval, sample by sample
            by = {m.name: m.samples for m in r.metrics}
            for i in range(2):
                parts = sum(by[p][i] for p in ("create", "start", "run_to_exit", "remove"))
                assert parts <= by["end_to_end"][i] * (1 + 1e-9)


def test_a_failing_variant_is_recorded_and_the_run_goes_on(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    text = """
kind = "startup"
name = "too-slow"
repetitions = 1
warmups = 0
timeout = 0.001
[matrix]
runtime = ["container", "native"]
cli = [false]
"""
    out = tmp_path / "results"
    code = main(["run", str(scenario_file(tmp_path, text)), "--out", str(out)])
    assert code == 1
    (path,) = out.rglob("*.json")
    by_runtime = {r.variant["runtime"]: r for r in results.read(path).results}
    assert by_runtime["container"].status == "failed"
    assert "timeout" in (by_runtime["container"].reason or "")
    assert by_runtime["native"].status in ("ok", "failed")  # 1 ms may be too little here too


def test_no_engine_exits_3_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")
    out = tmp_path / "results"
    assert main(["run", "--suite", "quick", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "No Docker engine answered" in err
    assert "--allow-no-engine" in err
    assert not out.exists()  # nothing written

    assert main(["run", str(scenario_file(tmp_path)), "--out", str(out), "--allow-no-engine"]) == 0
    (path,) = out.rglob("*.json")
    doc = results.read(path)
    assert doc.platform["id"] == "unknown"
    assert "no engine answered" in doc.platform["detection"][0]
    statuses = {r.variant["runtime"]: r.status for r in doc.results}
    assert statuses == {"container": "skipped", "native": "ok"}
    assert all(r.reason for r in doc.results if r.status == "skipped")


def test_interrupt_keeps_a_valid_partial_file_and_cleans_up(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    text = SMALL.replace("repetitions = 2", "repetitions = 200")
    out = tmp_path / "results"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            str(scenario_file(tmp_path, text)),
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    # wait until containers of this run exist: sampling has started
    while time.monotonic() < deadline and not any(live_engine.leftovers()["images"]):
        time.sleep(0.2)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    (path,) = out.rglob("*.json")
    doc = results.read(path)
    assert doc.run["status"] == "partial"
    assert doc.run["finished_at"]


@pytest.mark.vm
def test_clean_removes_labelled_objects(
    live_engine: engine.Engine, engine_contexts: list[str]
) -> None:
    labels = engine.labels("test-clean")
    live_engine.client.volumes.create(name="crossdock-test-clean", labels=labels)
    live_engine.client.networks.create("crossdock-test-clean", labels=labels)
    assert live_engine.leftovers("test-clean")["volumes"] == ["crossdock-test-clean"]
    context = [a for c in engine_contexts for a in ("--context", c)]
    assert main(["clean", "--run-id", "test-clean", *context]) == 0
    assert not any(live_engine.leftovers("test-clean").values())


def test_an_unexpected_platform_fails_before_measuring(
    tmp_path: Path, live_engine: engine.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results"
    code = main(
        ["run", str(scenario_file(tmp_path)), "--out", str(out), "--expect-platform", "colima"]
    )
    assert code == 3
    assert "expected platform 'colima' but found 'linux-native'" in capsys.readouterr().err
    assert not out.exists()


def test_several_engines_in_one_run_get_one_file_each(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    """Two docker contexts (here both reach the local engine): the plan runs on each,
    scenario by scenario, one results file per engine."""
    from docker.context import ContextAPI

    name = f"crossdock-test-{os.getpid()}"
    ContextAPI.create_context(name, host=live_engine.target.endpoint)
    try:
        text = SMALL.replace("repetitions = 2", "repetitions = 1").replace(
            "warmups = 1", "warmups = 0"
        )
        files = driver.run(
            scenarios=[str(scenario_file(tmp_path, text))],
            out=tmp_path / "results",
            contexts=["default", name],
        )
    finally:
        ContextAPI.remove_context(name)
    assert len(files) == 2
    docs = [results.read(f.path) for f in files]
    assert [d.run["context"] for d in docs] == ["default", name]
    assert docs[0].run["id"] != docs[1].run["id"]
    assert all(r.status == "ok" for d in docs for r in d.results)


SWEEP = """
kind = "startup"
name = "startup-sweep"
repetitions = 2
warmups = 0
timeout = 60
[params]
cli = false
[matrix]
concurrency = [1, 2]
include = [{runtime = "native"}]
"""


def test_every_n_of_a_concurrency_sweep_is_timed_alike_and_native_runs_busybox_true(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    (run_file,) = driver.run(
        scenarios=[str(scenario_file(tmp_path, SWEEP))], out=tmp_path / "results", argv=["t"]
    )
    found = {
        (r.variant["runtime"], r.variant["concurrency"]): r
        for r in results.read(run_file.path).results
    }
    one, two, native = found["container", 1], found["container", 2], found["native", 1]
    for r in (one, two):
        assert r.status == "ok", r.reason
        assert {m.name for m in r.metrics} == {"throughput", "batch"}
        assert r.extra["timing"] == two.extra["timing"]
    assert "batch of one" in one.extra["absent"]["phases"]
    assert native.status == "ok", native.reason
    assert Path(native.extra["command"][0]).name == "busybox"
    assert native.extra["command"][1:] == ["true"] and "Popen" in native.extra["spawn"]
    assert native.tool and native.tool["version"].startswith("BusyBox v")
