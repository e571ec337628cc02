"""The startup workload's arithmetic and variant rules (no engine needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.metrics import METRICS, format_value
from bench.workloads import startup


def test_engine_intervals_are_differences_of_engine_timestamps() -> None:
    times = {
        "create": 1_000_000_000,
        "start": 1_050_000_000,
        "die": 1_060_000_000,
        "destroy": 1_090_000_000,
    }
    got = startup.engine_intervals(times)
    assert got == pytest.approx(
        {
            "engine_create_to_start": 0.05,
            "engine_start_to_die": 0.01,
            "engine_die_to_destroy": 0.03,
        }
    )


def test_missing_or_out_of_order_events_leave_the_interval_out() -> None:
    got = startup.engine_intervals({"create": 10, "start": 5, "die": 20})
    assert set(got) == {"engine_start_to_die"}
    assert startup.engine_intervals({}) == {}


def test_every_declared_metric_is_in_the_metric_table() -> None:
    assert set(startup.StartupWorkload.metrics) <= set(METRICS)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"publish": True}, "needs network"),
        ({"runtime": "native", "network": "bridge"}, "network do not apply"),
        ({"runtime": "native", "concurrency": 4}, "concurrency do not apply"),
        ({"network": "bridge", "publish": True, "mount": "bind"}, None),
        ({"runtime": "native", "cli": False}, None),
    ],
)
def test_variant_rules(changes: dict[str, object], problem: str | None) -> None:
    w = startup.StartupWorkload()
    variant = {k: s.default for k, s in w.params.items()} | changes
    got = w.check_variant(variant)  # type: ignore[arg-type]
    assert (got is None) if problem is None else (got is not None and problem in got)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.0123, "s", "12.3 ms"),
        (2.5, "s", "2.5 s"),
        (3.2e-6, "s", "3.2 µs"),
        (1.5e9, "bit/s", "1.5 Gbit/s"),
        (42.0, "op/s", "42 op/s"),
        (0.0, "s", "0 ns"),
    ],
)
def test_format_value(value: float, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def test_without_busybox_the_native_baseline_runs_the_hosts_true_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import shutil

    from bench.plan import Variant
    from bench.provision.context import RunContext

    workload = startup.StartupWorkload()
    defaults = {k: s.default for k, s in workload.params.items()}
    native = Variant(tuple((defaults | {"runtime": "native"}).items()))
    ctx = RunContext("t", None, {}, tmp_path)
    tool, extra = workload.describe(ctx, native)
    command = extra["command"]
    assert isinstance(command, list) and Path(command[0]).name == "busybox"
    assert "command_note" not in extra
    assert tool is not None and tool["version"].startswith("BusyBox v")

    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "busybox" else which(name))
    tool, extra = workload.describe(ctx, native)
    assert extra["command"] == [which("true")] and extra["command_note"] == startup.NOT_BUSYBOX
    assert workload.skip_reason(ctx, native) is None
