"""The images workloads run in: offline assembly from host binaries, recorded versions."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest

from bench.environment import engine
from bench.provision import images


def test_shared_libraries_of_a_dynamic_binary_include_libc_and_the_loader() -> None:
    exe = shutil.which("iperf3") or shutil.which("python3")
    assert exe
    libs = images.shared_libraries(Path(exe))
    assert any(p.name.startswith("libc.so") for p in libs)
    assert any(p.name.startswith("ld-linux") for p in libs)
    assert all(p.is_absolute() for p in libs)


def test_a_static_binary_needs_no_libraries() -> None:
    if not Path("/bin/busybox").exists():
        pytest.skip("busybox-static is not installed")
    assert images.shared_libraries(Path("/bin/busybox")) == []


def test_registry_context_pins_the_base_image_by_digest() -> None:
    context = images.registry_context(("busybox", "fio", "iperf3"), {"io.crossdock.run": "r1"})
    with tarfile.open(fileobj=context) as tar:
        member = tar.extractfile("Dockerfile")
        assert member is not None
        dockerfile = member.read().decode()
    assert dockerfile.startswith(f"FROM {images.BASE_IMAGE}\n")
    assert "@sha256:" in images.BASE_IMAGE
    assert "apk add --no-cache busybox fio iperf3" in dockerfile
    # the labels come first, so every intermediate build container carries them
    assert dockerfile.splitlines()[1] == 'LABEL "io.crossdock.run"="r1"'


def test_host_assembly_refuses_a_foreign_architecture() -> None:
    problem = images.host_assembly_problem("riscv64")
    assert problem is not None and "differs" in problem


@pytest.mark.engine
def test_tools_image_runs_the_host_tools(
    live_engine: engine.Engine, no_leftovers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSDOCK_IMAGE_SOURCE", "host")
    labels = engine.labels("test-images")
    try:
        built = images.build(live_engine, "tools", run_id="test-images", labels=labels)
        assert built.method == "host"
        assert built.tool_versions["fio"].startswith("fio-")
        assert built.tool_versions["iperf3"].startswith("iperf 3")
        out = live_engine.client.containers.run(
            built.tag,
            [
                "sh",
                "-c",
                "fio --name=t --size=64k --rw=write --filename=/tmp/f "
                "--output-format=json >/dev/null && echo ok",
            ],
            remove=True,
            labels=labels,
            network_mode="none",
        )
        assert out.strip() == b"ok"
    finally:
        live_engine.cleanup("test-images")


def test_unknown_image_source_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSDOCK_IMAGE_SOURCE", "magic")
    with pytest.raises(images.ImageError, match="valid: auto, host, registry"):
        images.choose_method(engine.Engine(client=None, target=engine.Target(None, "x")))  # type: ignore[arg-type]
