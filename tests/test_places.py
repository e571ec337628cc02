"""Places: filesystem types from /proc/mounts and the bind-mount honesty check."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.environment import engine
from bench.provision import places
from bench.provision.context import RunContext

PROC = Path(__file__).parent / "fixtures" / "proc"


def test_fs_type_of_the_longest_mount_point_in_a_container() -> None:
    mounts = (PROC / "mounts-container.txt").read_text()
    assert places.fs_type_at(mounts, "/data") == "ext4"
    assert places.fs_type_at(mounts, "/data/deeper/file") == "ext4"
    assert places.fs_type_at(mounts, "/scratch") == "tmpfs"
    assert places.fs_type_at(mounts, "/") == "overlay"
    assert places.fs_type_at(mounts, "/usr/bin") == "overlay"
    assert places.fs_type_at("", "/") is None


def test_windows_target_is_a_recorded_skip_outside_wsl() -> None:
    problem = places.windows_drive_problem()
    assert problem is None or "WSL" in problem or "/mnt/c" in problem


@pytest.mark.engine
def test_a_read_only_bind_is_refused_before_timing(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    ctx = RunContext(
        run_id="test-places",
        engine=live_engine,
        labels=engine.labels("test-places"),
        workdir=tmp_path,
    )
    try:
        tag = ctx.image("busybox").tag
        container = places._start(
            ctx,
            tag,
            {"binds": {str(tmp_path): {"bind": places.MOUNT_POINT, "mode": "ro"}}},
            "busybox",
        )
        place = places.Place("bind", places.MOUNT_POINT, container=container)
        reason = places.check_bind(ctx, place, tmp_path)
        assert reason is not None and "cannot write" in reason
        places.close_place(ctx, place)
        # a working share passes
        ok = places.open_place(ctx, "bind", name="t", image=tag, tmpfs_bytes=0)
        assert ok.skip is None
        assert ok.fs_type == places.host_fs_type(tmp_path)
        places.close_place(ctx, ok)
    finally:
        live_engine.cleanup("test-places")
