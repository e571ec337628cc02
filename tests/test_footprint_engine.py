"""The footprint kind against the real local engine: its processes found and read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import driver, results
from bench.environment import dockerd, engine, hostside
from bench.environment.records import platform_record
from bench.workloads import footprint

pytestmark = pytest.mark.engine


def vm_rss(pid: int) -> int:
    """Resident bytes of *pid* as the kernel states it, read without psutil."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


@pytest.fixture
def native(live_engine: engine.Engine) -> dockerd.Dockerd:
    if platform_record(live_engine).id != "linux-native":
        pytest.skip("this engine is not linux-native: its dockerd is not a process of this host")
    found = dockerd.engine_dockerd(live_engine)
    if isinstance(found, str):
        pytest.skip(found)
    return found


def test_the_poller_reads_the_dockerd_that_serves_the_engine(
    live_engine: engine.Engine, native: dockerd.Dockerd
) -> None:
    rules = hostside.PROCESSES["linux-native"]
    poller = hostside.Poller(rules, footprint._where(live_engine, rules))
    found = {m.proc.pid: m for m in poller.processes()}
    assert native.pid in found and found[native.pid].role == "engine"
    assert any(m.proc.name == "containerd" for m in found.values())
    reading = poller.read()
    (key,) = [k for k in reading.rss if k[0] == native.pid]
    # psutil's figure is the kernel's, within what dockerd allocates between two reads
    assert reading.rss[key] == pytest.approx(vm_rss(native.pid), rel=0.05)
    assert reading.cpu[key] > 0


def test_idle_and_churn_windows_on_the_live_engine(
    tmp_path: Path, live_engine: engine.Engine, native: dockerd.Dockerd, no_leftovers: None
) -> None:
    scenario = tmp_path / "fp.toml"
    scenario.write_text(
        'kind = "footprint"\nrepetitions = 2\nwarmups = 0\n'
        '[params]\nwindow = 1.5\n[matrix]\nload = ["idle", "churn"]\n',
        encoding="utf-8",
    )
    (run,) = driver.run(scenarios=[str(scenario)], out=tmp_path / "results")
    document = results.read(run.path)
    by_load = {r.variant["load"]: r for r in document.results}
    for load, result in by_load.items():
        assert result.status == "ok", (load, result.reason)
        metrics = {m.name: m for m in result.metrics}
        assert metrics["host_rss"].unit == "B" and metrics["host_cpu"].unit == "%"
        assert len(metrics["host_rss"].samples) == 2
        # shared pages split between sharers: never more than the plain sum at the peak
        assert min(metrics["host_pss"].samples) > 0
        assert max(metrics["host_pss"].samples) <= max(metrics["host_rss"].samples)
        # the sum holds at least the serving dockerd as the kernel counts it now
        assert min(metrics["host_rss"].samples) > 0.5 * vm_rss(native.pid)
        assert all(c >= 0 for c in metrics["host_cpu"].samples)
        assert "dockerd" in result.extra["processes"]["engine"]
        assert result.extra["platform"] == "linux-native"
        assert result.tool is not None and result.tool["name"] == "psutil"
    churn = {m.name: m for m in by_load["churn"].metrics}
    assert all(t > 0 for t in churn["throughput"].samples)
    assert "throughput" not in {m.name for m in by_load["idle"].metrics}
    # the shims of the churn containers (and of any other running ones) count with the engine
    assert "containerd-shim-runc-v2" in by_load["churn"].extra["processes"]["engine"]
