"""The command kind on the real engine: every target, a borrowed busybox, failures."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import driver, results
from bench.environment import engine
from bench.provision import images

pytestmark = pytest.mark.engine


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "project"
    (ws / "src").mkdir(parents=True)
    for i in range(20):
        (ws / "src" / f"m{i}.py").write_text(f"def f{i}():\n    return {i}\n")
    (ws / "node_modules").mkdir()
    (ws / "node_modules" / "big.js").write_text("junk")
    return ws


@pytest.fixture
def bare_image(live_engine: engine.Engine) -> Iterator[str]:
    """An image with no shell and no busybox at all (FROM scratch, one file)."""
    labels = engine.labels("test-bare")  # in the Dockerfile: build steps carry them too
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (
            (
                "Dockerfile",
                f"FROM scratch\n{images.label_line(labels)}\nCOPY hello /hello\n".encode(),
            ),
            ("hello", b"hi\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    tag = "crossdock-test-bare:1"
    live_engine.client.images.build(fileobj=context, custom_context=True, tag=tag)
    yield tag
    live_engine.cleanup("test-bare")


def run(tmp_path: Path, text: str) -> results.RunDocument:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    (run_file,) = driver.run(scenarios=[str(path)], out=tmp_path / "results")
    return results.read(run_file.path)


def test_a_command_on_every_target_with_a_copy_of_the_workspace(
    tmp_path: Path, workspace: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    doc = run(
        tmp_path,
        f"""
kind = "command"
repetitions = 2
warmups = 0
[params]
workspace = "{workspace}"
setup = "test ! -e marker"
command = "busybox test -f src/m3.py && busybox test ! -e node_modules && busybox rm -rf src && busybox touch marker"
[matrix]
target = ["native", "bind", "volume", "container", "tmpfs"]
""",
    )
    for r in doc.results:
        assert r.status == "ok", (r.variant["target"], r.reason)
        (m,) = r.metrics
        assert m.name == "command" and len(m.samples) == 2 and all(s > 0 for s in m.samples)
        assert r.extra["fs_type"]
    # the command deleted src/ in its copy, every time; the original is untouched
    assert len(list((workspace / "src").iterdir())) == 20


def test_an_image_without_busybox_borrows_the_hosts(
    tmp_path: Path, bare_image: str, live_engine: engine.Engine, no_leftovers: None
) -> None:
    doc = run(
        tmp_path,
        f"""
kind = "command"
repetitions = 1
warmups = 0
[params]
image = "{bare_image}"
command = "cat /hello"
[matrix]
target = ["container", "volume"]
""",
    )
    for r in doc.results:
        assert r.status == "ok", r.reason
        assert r.extra["busybox"] == "lent by the host"


def test_a_failing_command_fails_the_variant_with_its_output(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    doc = run(
        tmp_path,
        """
kind = "command"
repetitions = 2
warmups = 0
[params]
command = "echo this went wrong >&2; exit 7"
[matrix]
target = ["native", "container"]
""",
    )
    for r in doc.results:
        assert r.status == "failed"
        assert "exited with 7" in (r.reason or "") and "this went wrong" in (r.reason or "")


def test_a_relative_workspace_is_relative_to_the_scenario_file() -> None:
    from bench.errors import SampleError
    from bench.plan import Scenario
    from bench.workloads.command import workspace_dir

    here = Path(__file__).parent
    scenario = Scenario("s", "command", "", (), 1, 0, 60, path=here / "fixtures" / "x.toml")
    assert workspace_dir(scenario, "..") == here.resolve()
    assert workspace_dir(scenario, "") is None
    assert workspace_dir(scenario, str(here)) == here.resolve()
    with pytest.raises(SampleError, match="not a directory"):
        workspace_dir(scenario, "no-such-folder")


def test_the_shipped_example_copies_the_crossdock_package() -> None:
    from bench.scenarios import load, scenario_dir
    from bench.workloads.command import workspace_dir

    example = load(scenario_dir() / "command-example.toml")
    folder = workspace_dir(example, str(example.variants[0]["workspace"]))
    assert folder is not None and (folder / "workloads" / "command.py").is_file()
