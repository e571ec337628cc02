"""The command line as a user meets it: exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import results
from bench.cli import main
from bench.environment import engine


def test_python_dash_m_is_the_same_program() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("crossdock ")


def test_list_shows_suites_scenarios_and_variants(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "suite quick" in out and "suite default" in out and "suite full" in out
    assert "startup-concurrency" in out
    assert "concurrency=8" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--repeat", "0"],
        ["run", "--repeat", "many"],
        ["run", "--suite", "fastest"],
        ["frobnicate"],
        ["detect", "--host-os", "beos"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "crossdock" in capsys.readouterr().err


def test_bad_scenario_file_exits_2_naming_file_and_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('kind = "startup"\n[matrix\n', encoding="utf-8")
    out = tmp_path / "results"
    assert main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "line 2" in err
    assert not out.exists()
    assert main(["run", "no-such-scenario", "--out", str(out)]) == 2
    assert "unknown scenario 'no-such-scenario'" in capsys.readouterr().err


@pytest.mark.engine
def test_detect_classifies_the_live_engine(
    live_engine: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["detect", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)["platform"]
    assert record["id"] == "linux-native"
    assert record["detection"]
    # the file-sharing probe: what a bind mount of a harness directory is, seen from inside
    with open("/proc/mounts", encoding="utf-8") as f:
        host_types = {line.split()[2] for line in f}
    assert record["file_sharing"] in host_types
    assert "probe container saw its bind mount" in record["detection"][-1]


# --- faults around the run: a message and an exit code, never a traceback -----------------


def crossdock(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """The program as a process, as a user runs it, with *env* added to the environment."""
    run = subprocess.run(
        [sys.executable, "-m", "bench", *argv],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
    )
    assert "Traceback" not in run.stderr, run.stderr
    return run


@pytest.fixture
def path_without_fio(tmp_path: Path) -> str:
    """A PATH with every program of this one except fio."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in map(Path, os.environ["PATH"].split(os.pathsep)):
        for program in directory.glob("*") if directory.is_dir() else ():
            link = bin_dir / program.name
            if program.name == "fio" or os.path.lexists(link):
                continue
            if program.is_file() and os.access(program, os.X_OK):
                link.symlink_to(program)
    return str(bin_dir)


@pytest.mark.parametrize("command", ["detect", "validate"])
def test_without_an_engine_detect_and_validate_exit_3(command: str, tmp_path: Path) -> None:
    out = tmp_path / "results"
    argv = [command] if command == "detect" else [command, "--out", str(out)]
    run = crossdock(argv, DOCKER_HOST=f"unix://{tmp_path}/absent.sock")
    assert run.returncode == 3
    assert run.stderr.lstrip().startswith("crossdock: No Docker engine answered")
    assert not out.exists()


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_scratch_directory_that_cannot_be_made_exits_1_before_writing(
    command: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    out = tmp_path / "results"
    argv = [command, "--out", str(out)]
    if command == "run":  # the check comes first: no engine is needed to see it
        argv += ["startup", "--allow-no-engine"]
    run = crossdock(argv, CROSSDOCK_WORKDIR=str(blocker / "scratch"))
    assert run.returncode == 1
    assert run.stderr.lstrip().startswith(
        f"crossdock: cannot make a scratch directory in {blocker}"
    )
    assert "CROSSDOCK_WORKDIR" in run.stderr
    assert not out.exists()


@pytest.mark.engine
def test_detect_without_a_scratch_directory_says_the_probe_failed(
    tmp_path: Path, live_engine: engine.Engine
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    run = crossdock(["detect", "--json"], CROSSDOCK_WORKDIR=str(blocker / "scratch"))
    assert run.returncode == 0
    record = json.loads(run.stdout)["platform"]
    assert record["id"] == "linux-native" and record["file_sharing"] is None
    assert record["detection"][-1].startswith(
        "file-sharing probe failed: cannot make a scratch directory"
    )


@pytest.mark.engine
def test_without_fio_on_the_host_detect_records_why_and_validate_exits_1(
    tmp_path: Path, path_without_fio: str, live_engine: engine.Engine, no_leftovers: None
) -> None:
    # images assembled from the host's binaries need fio; a registry is not asked
    env = {"PATH": path_without_fio, "CROSSDOCK_IMAGE_SOURCE": "host"}
    run = crossdock(["detect"], **env)
    assert run.returncode == 0
    assert run.stdout.startswith("linux-native\n")
    assert "file-sharing probe failed: cannot assemble images from host binaries" in run.stdout
    assert "not installed on the host: fio" in run.stdout

    out = tmp_path / "results"
    run = crossdock(["validate", "--rounds", "1", "--out", str(out)], **env)
    assert run.returncode == 1
    assert "crossdock: cannot assemble images from host binaries" in run.stderr
    (path,) = out.rglob("*.json")
    document = results.read(path)
    assert document.run["status"] == "partial" and document.run["finished_at"]
