"""Every file I/O target and workload, briefly, on the real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import driver, results
from bench.cli import main
from bench.environment import engine
from bench.provision import cache
from bench.provision.context import alt_root, work_root

pytestmark = pytest.mark.engine

SMALL = """
kind = "fileio"
name = "fileio-small"
repetitions = 1
warmups = 0
timeout = 120
[params]
size = "8MiB"
duration = 0.2
files = 60
[matrix]
target = ["native", "bind", "bind-alt", "volume", "container", "tmpfs", "bind-windows"]
workload = ["seq-read", "seq-write", "rand-read", "rand-write", "fsync-write", "metadata", "tree"]
"""

HEADLINE = {
    "seq-read": "bandwidth",
    "seq-write": "bandwidth",
    "rand-read": "bandwidth",
    "rand-write": "bandwidth",
    "fsync-write": "fsync_p50",
    "metadata": "delete_rate",
    "tree": "tree_total",
}


@pytest.mark.vm
def test_every_target_and_workload(
    tmp_path: Path, live_engine: engine.Engine, engine_contexts: list[str], no_leftovers: None
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SMALL, encoding="utf-8")
    (run_file,) = driver.run(
        scenarios=[str(path)], out=tmp_path / "results", contexts=engine_contexts
    )
    doc = results.read(run_file.path)
    by = {(r.variant["target"], r.variant["workload"]): r for r in doc.results}
    assert len(by) == 49
    fs: dict[str, object] = {}
    for (target, workload), r in by.items():
        if target == "bind-windows":
            assert r.status == "skipped" and "WSL" in (r.reason or "")
            continue
        if target == "bind-alt" and not alt_root().is_dir():
            assert r.status == "skipped" and "no second shared folder" in (r.reason or "")
            continue
        assert r.status == "ok", (target, workload, r.reason)
        names = {m.name for m in r.metrics}
        assert HEADLINE[str(workload)] in names
        assert all(s > 0 for m in r.metrics for s in m.samples)
        fs[str(target)] = r.extra["fs_type"]
        if workload not in ("metadata", "tree"):
            assert isinstance(r.extra["direct"], bool) and r.extra["direct_reason"]
            # tmpfs refuses O_DIRECT: buffered, and labelled so
            direct = r.extra["direct"]
            in_vm = doc.platform["id"] != "linux-native" and target != "native"
            assert r.extra["cache"] == cache.fileio_state(str(workload), direct, in_vm=in_vm)
            assert in_vm == (cache.FILEIO_DIRECT_VM in r.extra["cache"]) or not direct
            assert r.tool and r.tool["name"] == "fio" and r.tool["version"].startswith("fio-")
        else:
            assert str(r.extra["cache"]).startswith("warm:")
    assert fs["container"] == "overlay"
    assert fs["tmpfs"] == "tmpfs"
    # what a bind mount is: the host's own filesystem where the engine shares its kernel,
    # else the VM's file sharing, as the platform probe found it
    assert fs["bind"] == doc.platform["file_sharing"]
    if doc.platform["id"] == "linux-native":
        assert fs["bind"] == fs["native"]
    else:
        assert fs["bind"] != fs["native"]
    # the scratch directories are gone with the run
    assert not list(work_root().glob(f"{doc.run['id']}*"))


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (
            'target = ["bnid"]',
            "unknown value 'bnid' (valid: native, bind, bind-alt, volume, container, tmpfs, "
            "bind-windows)",
        ),
        ('workload = ["seq-raed"]', "unknown value 'seq-raed' (valid: seq-read, seq-write"),
        ('size = ["12 parsecs"]', "'12 parsecs' is not a size"),
    ],
)
def test_bad_parameters_exit_2_with_the_choices(
    tmp_path: Path, matrix: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'kind = "fileio"\n[matrix]\n{matrix}\n', encoding="utf-8")
    assert main(["run", str(path), "--out", str(tmp_path / "r")]) == 2
    assert message in capsys.readouterr().err
