"""The command line as a user meets it: exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import main


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
