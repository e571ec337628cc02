"""Faults during a run: signals at random points, SIGKILL, a lost engine, a full disk,
resuming. Each checks the guarantees: a loadable results file keeping every completed
scenario, and nothing labelled left behind."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import results
from bench.cli import main
from bench.environment import engine
from bench.provision.context import work_root

pytestmark = pytest.mark.engine

FIRST = """
kind = "startup"
name = "first"
repetitions = 3
warmups = 0
[matrix]
network = ["none", "bridge"]
cli = [false]
"""
SECOND = FIRST.replace('name = "first"', 'name = "second"').replace(
    "repetitions = 3", "repetitions = 60"
)


def scenarios(tmp_path: Path) -> list[str]:
    paths = []
    for name, text in (("first", FIRST), ("second", SECOND)):
        path = tmp_path / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths


def start(argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``crossdock`` *argv* as a process of its own, with SIGINT deliverable as from a
    terminal even where the tests themselves were started with it ignored (a background
    job of a non-interactive shell inherits SIG_IGN, and Python keeps it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "bench", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )


def wait_for(condition: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def the_file(out: Path) -> Path | None:
    found = list(out.rglob("*.json"))
    return found[0] if found else None


def stored_scenarios(out: Path) -> set[str]:
    path = the_file(out)
    if path is None:
        return set()
    try:
        return {r["scenario"] for r in json.loads(path.read_text())["results"]}
    except (OSError, ValueError):
        return set()


def test_signals_at_random_points_keep_a_valid_file_and_leave_nothing(
    tmp_path: Path, live_engine: engine.Engine
) -> None:
    rng = random.Random()
    for attempt in range(3):
        out = tmp_path / f"r{attempt}"
        proc = start(["run", *scenarios(tmp_path), "--out", str(out)])
        time.sleep(rng.uniform(0.5, 8.0))
        sig = rng.choice([signal.SIGINT, signal.SIGTERM])
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode in (130, 0), err.decode()
        path = the_file(out)
        if path is None:  # the signal came before the file existed: nothing may be left
            assert proc.returncode == 130
            continue
        doc = results.read(path)  # loadable, valid
        assert doc.run["status"] == ("complete" if proc.returncode == 0 else "partial")
        assert not any(live_engine.leftovers(str(doc.run["id"])).values())
        assert not list(work_root().glob(f"{doc.run['id']}-*"))


def test_sigkill_leaves_a_valid_file_and_the_next_run_removes_the_leftovers(
    tmp_path: Path, live_engine: engine.Engine
) -> None:
    out = tmp_path / "killed"
    proc = start(["run", *scenarios(tmp_path), "--out", str(out)])
    wait_for(lambda: "first" in stored_scenarios(out))
    proc.kill()
    proc.wait(timeout=30)
    path = the_file(out)
    assert path is not None
    doc = results.read(path)
    assert doc.run["status"] == "partial"
    assert {r.scenario for r in doc.results} >= {"first"}
    run_id = str(doc.run["id"])
    assert any(live_engine.leftovers(run_id).values())  # the image, at least
    # the next run, on this machine, sees the owner process is gone and cleans up
    tiny = tmp_path / "tiny.toml"
    tiny.write_text('kind = "startup"\nrepetitions = 1\nwarmups = 0\n[params]\ncli = false\n')
    assert main(["run", str(tiny), "--out", str(tmp_path / "next")]) == 0
    assert not any(live_engine.leftovers(run_id).values())
    assert not list(work_root().glob(f"{run_id}-*"))


def test_resume_completes_a_partial_run_without_repeating_it(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    out = tmp_path / "results"
    proc = start(["run", *scenarios(tmp_path), "--out", str(out)])
    wait_for(lambda: "first" in stored_scenarios(out))
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    path = the_file(out)
    assert path is not None
    before = results.read(path)
    first = [r for r in before.results if r.scenario == "first"]
    assert before.run["status"] == "partial"

    assert main(["run", "--resume", str(path), "--repeat", "2"]) == 2  # plan is fixed
    assert main(["run", "--resume", str(path)]) == 0
    after = results.read(path)
    assert after.run["status"] == "complete"
    assert after.run["id"] == before.run["id"]
    assert [r for r in after.results if r.scenario == "first"] == first  # not repeated
    second = [r for r in after.results if r.scenario == "second"]
    assert len(second) == 2 and all(len(r.metrics[0].samples) == 60 for r in second)
    assert main(["run", "--resume", str(path)]) == 2  # complete: nothing to resume


@contextlib.contextmanager
def private_engine(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A test-only dockerd on its own socket, data root and containerd namespace."""
    base = Path(f"/tmp/cdt-{os.getpid()}")  # short: unix socket paths are limited
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir()
    socket = f"unix://{base}/docker.sock"
    # its own bridge: `--bridge none` would make dockerd delete the main engine's docker0
    bridge = f"cdt{os.getpid()}"[:15]
    for step in (["add", bridge, "type", "bridge"], ["set", bridge, "up"]):
        subprocess.run(["ip", "link", *step], check=True)
    daemon = subprocess.Popen(
        ["dockerd", "--host", socket, "--data-root", str(base / "data"),
         "--exec-root", str(base / "exec"), "--pidfile", str(base / "pid"),
         "--bridge", bridge, "--iptables=false", "--ip-masq=false", "--ip-forward=false",
         "--containerd-namespace", f"cdt{os.getpid()}",
         "--containerd-plugins-namespace", f"cdt{os.getpid()}p"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(
            lambda: (
                subprocess.run(
                    ["docker", "--host", socket, "info"], capture_output=True, check=False
                ).returncode
                == 0
            ),
            60,
        )
        yield socket, daemon
    finally:
        if daemon.poll() is None:
            daemon.terminate()
            daemon.wait(timeout=60)
        subprocess.run(["ip", "link", "del", bridge], check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(shutil.which("dockerd") is None, reason="dockerd is not installed here")
def test_an_engine_lost_mid_run_stops_cleanly_and_keeps_results(
    tmp_path: Path, live_engine: engine.Engine
) -> None:
    if os.geteuid() != 0:
        pytest.skip("starting a private dockerd needs root")
    out = tmp_path / "results"
    with private_engine(tmp_path) as (socket, daemon):
        # network none only: nothing is sent anywhere, not even on the private bridge
        paths = [p.replace(".toml", "-none.toml") for p in scenarios(tmp_path)]
        for original, copy in zip(scenarios(tmp_path), paths, strict=True):
            Path(copy).write_text(Path(original).read_text().replace('"none", "bridge"', '"none"'))
        proc = start(["run", *paths, "--out", str(out)], {"DOCKER_HOST": socket})
        wait_for(lambda: "first" in stored_scenarios(out))
        time.sleep(1)
        daemon.kill()
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err.decode()
    assert "stopped answering" in err.decode()
    path = the_file(out)
    assert path is not None
    doc = results.read(path)
    assert doc.run["status"] == "partial"
    assert "first" in {r.scenario for r in doc.results}


def test_a_full_results_disk_is_reported_and_nothing_is_half_written(
    tmp_path: Path,
    live_engine: engine.Engine,
    no_leftovers: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(disk)], check=True)
    try:
        # leave room for the first version of the file but not for two side by side
        size = len(json.dumps(live_engine.info)) * 2
        filler = disk / "filler"
        free = shutil.disk_usage(disk).free
        filler.write_bytes(b"\0" * max(0, free - int(size * 1.6)))
        code = main(["run", *scenarios(tmp_path)[:1], "--out", str(disk)])
        err = capsys.readouterr().err
        assert code == 1, err
        assert "cannot write" in err and "No space left on device" in err
        leftovers = [p for p in disk.rglob("*") if p.is_file() and p != filler]
        assert all(p.suffix == ".json" for p in leftovers)  # no temporary files
        for p in leftovers:
            results.read(p)  # whatever is there is a complete, valid document
    finally:
        subprocess.run(["umount", str(disk)], check=False)
