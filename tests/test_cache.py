"""Cold starts: the choice of method per platform (real captured `docker info` outputs),
both methods evicting a real file from the page cache, and cold variants end to end."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench import driver, results
from bench.driver import session
from bench.environment import engine
from bench.environment.captures import parse_capture
from bench.errors import SampleError
from bench.provision import cache

FIXTURES = Path(__file__).parent / "fixtures" / "docker-info"

COLD = """
kind = "startup"
name = "startup-cold-test"
repetitions = 2
warmups = 1
timeout = 60
[params]
network = "none"
[matrix]
runtime = ["container", "native"]
cache = ["warm", "cold"]
"""


def fake_context(kernel: str, endpoint: str = "unix:///var/run/docker.sock") -> Any:
    eng = SimpleNamespace(info={"KernelVersion": kernel}, target=SimpleNamespace(endpoint=endpoint))
    return SimpleNamespace(engine=eng)


def captured_kernel(name: str) -> str:
    info = parse_capture((FIXTURES / name).read_text(encoding="utf-8")).info
    assert info is not None
    return str(info["KernelVersion"])


@pytest.mark.parametrize(
    "capture",
    [
        "docker_info_desktop-mac-arm64_1.txt",
        "docker_info_desktop-windows-wsl2_1.txt",
        "docker_info_colima_1.txt",
        "docker_info_orbstack_1.txt",
    ],
)
def test_a_vm_backed_engine_is_made_cold_from_a_container(
    capture: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "host_can_drop", lambda: None)
    ctx = fake_context(captured_kernel(capture))
    assert not cache.shares_host_kernel(ctx)
    method, why = cache.choose(ctx, "busybox")
    assert why is None and method == cache.Method("engine", "tools")
    # the dropping container never uses the image being measured
    assert cache.choose(ctx, "tools")[0] == cache.Method("engine", "busybox")
    assert "VM disk" in cache.Method("engine", "tools").definition


def test_the_host_method_needs_the_same_kernel_on_a_local_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cache, "host_can_drop", lambda: None)
    monkeypatch.setattr(cache, "host_os", lambda: "linux")
    here = os.uname().release
    assert cache.choose(fake_context(here), "busybox") == (cache.Method("host"), None)
    remote = fake_context(here, endpoint="tcp://127.0.0.1:2375")
    assert cache.choose(remote, "busybox")[0] == cache.Method("engine", "tools")


def test_a_cold_native_baseline_needs_the_host_method(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "host_can_drop", lambda: "not root")
    assert cache.choose(fake_context("x"), None) == (None, "not root")
    monkeypatch.setattr(cache, "host_can_drop", lambda: None)
    assert cache.choose(fake_context("x"), None) == (cache.Method("host"), None)


def test_macos_and_windows_hosts_cannot_drop_their_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    for os_name in ("darwin", "windows"):
        monkeypatch.setattr(cache, "host_os", lambda name=os_name: name)
        problem = cache.host_can_drop()
        assert problem is not None and os_name in problem


# --- on the real engine and kernel ---------------------------------------------------------

needs_root = pytest.mark.skipif(
    cache.host_can_drop() is not None, reason=f"{cache.host_can_drop()}"
)


def resident_pages(path: Path) -> int:
    """Pages of *path* in the page cache, by util-linux ``fincore``."""
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "PAGES", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[0])


@pytest.fixture
def cached_file(tmp_path: Path) -> Path:
    """A 16 MiB file written and read back, so it sits in the host's page cache."""
    path = tmp_path / "cached.bin"
    path.write_bytes(os.urandom(16 * 1024**2))
    path.read_bytes()
    if resident_pages(path) == 0:
        pytest.skip("this filesystem keeps nothing in the page cache")
    return path


@needs_root
def test_the_host_method_evicts_a_cached_file(cached_file: Path) -> None:
    cache.drop_host()
    assert resident_pages(cached_file) == 0


@pytest.mark.engine
def test_the_engine_method_evicts_a_cached_file_from_a_labelled_container(
    cached_file: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    # on a Linux-native engine the engine's kernel is this one: its file shows the drop
    with session.run_context("cold-engine-test", live_engine) as ctx:
        cache.drop(ctx, cache.Method("engine", "busybox"))
        assert resident_pages(cached_file) == 0


@pytest.mark.engine
def test_a_refused_drop_is_a_sample_error_saying_why(
    live_engine: engine.Engine, no_leftovers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "_DROP_SCRIPT", "echo 'Read-only file system' >&2; exit 1")
    with (
        session.run_context("cold-refused-test", live_engine) as ctx,
        pytest.raises(SampleError, match=r"Read-only file system.*rootless"),
    ):
        cache.drop(ctx, cache.Method("engine", "busybox"))


@pytest.mark.engine
def test_cold_variants_run_and_say_what_cold_meant(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    scenario = tmp_path / "cold.toml"
    scenario.write_text(COLD, encoding="utf-8")
    (run_file,) = driver.run(scenarios=[str(scenario)], out=tmp_path / "out", argv=["test"])
    by_variant = {
        (r.variant["runtime"], r.variant["cache"]): r for r in results.read(run_file.path).results
    }
    assert len(by_variant) == 4
    for (runtime, state), r in by_variant.items():
        if state == "warm":
            assert r.status == "ok" and r.extra["cache"] == cache.WARM
            continue
        if cache.host_can_drop() is not None and runtime == "native":
            assert r.status == "skipped" and "root" in (r.reason or "")
            continue
        assert r.status == "ok", r.reason
        method = r.extra["cache_method"]
        assert r.extra["cache"] == cache.DEFINITIONS[method]
        # here the engine shares this kernel: crossdock as root drops it directly
        assert method == ("host" if cache.host_can_drop() is None else "engine")
        if runtime == "container":
            assert {m.name for m in r.metrics} >= {"end_to_end", "cli_run_rm"}


def test_startup_variants_take_a_cache_state() -> None:
    from bench.workloads.startup import StartupWorkload

    workload = StartupWorkload()
    assert workload.params["cache"].choices == cache.STATES
    native_cold = {k: s.default for k, s in workload.params.items()} | {
        "runtime": "native",
        "cache": "cold",
    }
    assert workload.check_variant(native_cold) is None


def test_a_warm_variant_beside_a_cold_one_is_re_warmed_after_each_drop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bench.plan import Variant
    from bench.workloads.startup import StartupWorkload

    workload = StartupWorkload()
    defaults = {k: s.default for k, s in workload.params.items()}
    warm = Variant(tuple(defaults.items()))
    cold = Variant(tuple((defaults | {"cache": "cold"}).items()))
    workload._cold[cold] = cache.Method("host")
    runs: list[str] = []
    monkeypatch.setattr(cache, "drop", lambda ctx, method: runs.append("drop"))

    def measure(ctx: object, scenario: object, variant: Variant) -> dict[str, float]:
        runs.append(str(variant["cache"]))
        return {}

    monkeypatch.setattr(workload, "_measure", measure)
    for variant in (warm, cold, warm, warm, cold, warm):
        workload.sample(None, None, variant)  # type: ignore[arg-type]
    assert runs == [
        *["warm"],
        *["drop", "cold"],
        *["warm", "warm"],  # one unrecorded run re-warms after the drop
        *["warm"],
        *["drop", "cold"],
        *["warm", "warm"],
    ]


COLD_TREE = """
kind = "fileio"
name = "fileio-cold-tree-test"
repetitions = 2
warmups = 0
timeout = 120
[params]
workload = "tree"
files = 200
[matrix]
target = ["native", "bind", "volume"]
cache = ["warm", "cold"]
"""


@pytest.mark.engine
def test_a_cold_tree_drops_the_cache_between_unpacking_and_walking(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    scenario = tmp_path / "tree.toml"
    scenario.write_text(COLD_TREE, encoding="utf-8")
    (run_file,) = driver.run(scenarios=[str(scenario)], out=tmp_path / "out", argv=["test"])
    found = {
        (r.variant["target"], r.variant["cache"]): r for r in results.read(run_file.path).results
    }
    assert len(found) == 6
    for (target, state), r in found.items():
        if state == "cold" and target == "native" and cache.host_can_drop() is not None:
            assert r.status == "skipped" and "root" in (r.reason or "")
            continue
        assert r.status == "ok", r.reason
        phases = {m.name: m.samples for m in r.metrics}
        assert set(phases) == {"tree_unpack", "tree_walk", "tree_read", "tree_delete", "tree_total"}
        for i in range(2):  # the pause for the drop is in no phase
            parts = sum(
                phases[p][i] for p in ("tree_unpack", "tree_walk", "tree_read", "tree_delete")
            )
            assert phases["tree_total"][i] == pytest.approx(parts)
        if state == "warm":
            assert r.extra["cache"] == cache.FILEIO_WARM["tree"] + cache.FILEIO_REWARMED
        else:
            assert r.extra["cache"] == cache.tree_cold(cache.Method(r.extra["cache_method"]))


def test_cold_applies_to_the_tree_workload_only() -> None:
    from bench.workloads.fileio import FileioWorkload

    workload = FileioWorkload()
    base = {k: s.default for k, s in workload.params.items()} | {"cache": "cold"}
    assert workload.check_variant(base | {"workload": "tree"}) is None
    problem = workload.check_variant(base | {"workload": "seq-read"})
    assert problem is not None and "already start cold" in problem


REWARM_TREE = """
kind = "fileio"
name = "fileio-rewarm-test"
repetitions = 3
warmups = 0
timeout = 120
[params]
workload = "tree"
files = 50
[matrix]
target = ["native", "bind"]
cache = ["warm", "cold"]
"""


@pytest.mark.engine
def test_a_warm_tree_beside_a_cold_one_is_re_warmed_after_every_drop(
    tmp_path: Path,
    live_engine: engine.Engine,
    no_leftovers: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real workload on a real engine, its steps logged in order: after any drop, a
    warm variant's next recorded sample follows one unrecorded run of its own."""
    from bench.workloads import fileio

    log: list[tuple[str, str, str]] = []  # (what, target, cache)
    real_drop, real_run = cache.drop, fileio.FileioWorkload._run

    def drop(ctx: Any, method: cache.Method, timeout: float = 120.0) -> None:
        log.append(("drop", "", ""))
        real_drop(ctx, method, timeout)

    def run(self: Any, ctx: Any, scenario: Any, variant: Any) -> dict[str, float]:
        log.append(("run", str(variant["target"]), str(variant["cache"])))
        return real_run(self, ctx, scenario, variant)

    monkeypatch.setattr(cache, "drop", drop)
    monkeypatch.setattr(fileio.FileioWorkload, "_run", run)
    scenario = tmp_path / "tree.toml"
    scenario.write_text(REWARM_TREE, encoding="utf-8")
    (run_file,) = driver.run(scenarios=[str(scenario)], out=tmp_path / "out", argv=["test"])
    stored = results.read(run_file.path).results
    ok = {(r.variant["target"], r.variant["cache"]) for r in stored if r.status == "ok"}
    assert {("native", "warm"), ("bind", "warm"), ("bind", "cold")} <= ok
    for r in stored:
        if r.status == "ok":
            assert all(len(m.samples) == 3 for m in r.metrics)  # re-warming records nothing
    drops = [i for i, step in enumerate(log) if step[0] == "drop"]
    assert len(drops) >= 4  # the trial drop, then one per cold sample
    for target in ("native", "bind"):
        warm = [i for i, step in enumerate(log) if step[1:] == (target, "warm")]
        # every round: a drop came before, so two runs (re-warm, sample) back to back
        assert len(warm) == 6
        for first, second in zip(warm[::2], warm[1::2], strict=True):
            assert second == first + 1
            assert any(d < first for d in drops)
        # the first round was cooled by the trial drop, later ones by a cold sample
        assert drops[0] < warm[0]
        assert any(warm[1] < d < warm[2] for d in drops)


def test_o_direct_says_what_it_cannot_exclude_behind_a_vm() -> None:
    native = cache.fileio_state("seq-read", True)
    behind_vm = cache.fileio_state("seq-read", True, in_vm=True)
    assert "bypassed" in native and "host's own cache" not in native
    assert behind_vm.startswith(native) and "host's own cache can still serve" in behind_vm
    assert cache.fileio_state("seq-read", False, in_vm=True) == cache.FILEIO_BUFFERED
