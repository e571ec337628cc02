"""``crossdock import --platform``: a stated platform that the pytest-benchmark file's
own ``machine_info`` contradicts is stored as stated, with the contradiction recorded and
said as a warning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import results
from bench.cli import main
from bench.interop import import_pytest_benchmark
from bench.interop.pytest_benchmark import contradiction

SAVED = Path(__file__).parent / "fixtures" / "pytest-benchmark" / "json_with_data.json"


def _with_machine(tmp_path: Path, system: str, release: str) -> Path:
    data: dict[str, Any] = json.loads(SAVED.read_text(encoding="utf-8"))
    data["machine_info"] |= {"system": system, "release": release}
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("system", "release", "platform", "agrees"),
    [
        ("Darwin", "24.1.0", "linux-native", False),
        ("Darwin", "24.1.0", "docker-desktop-mac", True),
        ("Windows", "10", "docker-desktop-windows-wsl2", True),
        ("Windows", "10", "colima", False),
        ("Linux", "5.15.153.1-microsoft-standard-WSL2", "linux-native", False),
        ("Linux", "5.15.153.1-microsoft-standard-WSL2", "wsl2-engine", True),
        ("Linux", "6.10.14-linuxkit", "docker-desktop-mac", True),
        ("Linux", "6.10.14-linuxkit", "linux-native", False),
        ("Linux", "6.1.0-28-amd64", "linux-native", True),
        ("Linux", "6.1.0-28-amd64", "colima", True),
        ("Linux", "6.1.0-28-amd64", "docker-desktop-linux", False),
        ("Linux", "6.1.0-28-amd64", "unknown", True),
    ],
)
def test_machine_info_agrees_or_contradicts(
    system: str, release: str, platform: str, agrees: bool
) -> None:
    found = contradiction(platform, {"system": system, "release": release})
    assert (found is None) == agrees, found


def test_a_contradicted_platform_is_kept_recorded_and_warned(tmp_path: Path) -> None:
    source = _with_machine(tmp_path, "Darwin", "24.1.0")
    said: list[str] = []
    path = import_pytest_benchmark(
        source=source, out=tmp_path / "results", platform="linux-native", on_warning=said.append
    )
    document = results.read(path)
    assert document.platform["id"] == "linux-native"
    assert len(said) == 1 and "Darwin" in said[0] and "'linux-native'" in said[0]
    assert said[0].endswith(document.platform["detection"][-1])


def test_an_agreeing_platform_says_nothing(tmp_path: Path) -> None:
    source = _with_machine(tmp_path, "Darwin", "24.1.0")
    said: list[str] = []
    path = import_pytest_benchmark(
        source=source, out=tmp_path / "r", platform="docker-desktop-mac", on_warning=said.append
    )
    assert said == []
    assert not any("contradicts" in r for r in results.read(path).platform["detection"])


def test_the_cli_prints_the_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _with_machine(tmp_path, "Linux", "6.10.14-linuxkit")
    code = main(["import", str(source), "--platform", "linux-native", "--out", str(tmp_path)])
    assert code == 0
    out, err = capsys.readouterr()
    assert "warning:" in err and "LinuxKit" in err
    assert Path(out.strip()).is_file()
