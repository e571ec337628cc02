"""An engine in Windows-containers mode (what GitHub's Windows runners expose) cannot run
the workloads. It cannot exist on this machine, so its `docker info` comes from a real
capture: the run records the skip beside the engine's records, or exits 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import driver, results
from bench.cli import main
from bench.driver import session
from bench.environment import captures, engine, records
from bench.errors import UnusableEngineError

CAPTURE = (
    Path(__file__).parent / "fixtures" / "docker-info" / "docker_info_windows-containers_1.txt"
)


def windows_engine() -> engine.Engine:
    info = captures.parse_capture(CAPTURE.read_text(encoding="utf-8")).info
    assert info is not None
    target = engine.Target("default", "npipe:////./pipe/docker_engine", source="context")
    return engine.Engine(client=None, target=target, info=info, version={})  # type: ignore[arg-type]


def test_a_windows_containers_engine_is_not_usable() -> None:
    with pytest.raises(UnusableEngineError, match="runs windows containers") as info:
        driver._usable(windows_engine())
    assert records.platform_record(info.value).id == "windows-containers"
    reason = session.no_engine_reason(info.value)
    assert reason is not None and reason.startswith("no usable engine")


def test_the_run_records_the_skip_with_the_engine_or_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "connect", lambda context=None: windows_engine())
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'kind = "startup"\nrepetitions = 2\nwarmups = 0\n[matrix]\nruntime = ["container", "native"]\n'
    )
    out = tmp_path / "r"
    assert main(["run", str(scenario), "--out", str(out)]) == 3
    assert not out.exists()
    argv = ["run", str(scenario), "--out", str(out), "--allow-no-engine"]
    assert main([*argv, "--expect-platform", "windows-containers"]) == 0
    (path,) = out.rglob("*.json")
    doc = results.read(path)
    assert doc.platform["id"] == "windows-containers"
    assert doc.engine["os_type"] == "windows"  # the engine's own records are kept
    by = {r.variant["runtime"]: r for r in doc.results}
    assert by["container"].status == "skipped"
    assert "windows containers" in (by["container"].reason or "")
    assert by["native"].status == "ok"
