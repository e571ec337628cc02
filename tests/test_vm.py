"""crossdock's reference VM: how it is started, reached and stopped (real processes, a
real docker context), and, where it runs (``CROSSDOCK_TEST_CONTEXTS`` naming
``crossdock-vm``, as ``.ci/run`` does), both engines measured in one run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import contexts_under_test

import bench
from bench import driver, results
from bench.provision import cache
from bench.provision.context import alt_root
from bench.vm import context, machine
from bench.vm.layout import CONTEXT, Layout, State, vm_root


def state(tmp_path: Path, accel: str = "tcg") -> State:
    return State(2222, accel, "why", str(tmp_path / "work"), str(tmp_path / "work-alt"), {})


def test_qemu_is_reachable_on_loopback_only_and_shares_both_folders(tmp_path: Path) -> None:
    lay = Layout(tmp_path / "vm")
    argv = machine.qemu_argv(lay, state(tmp_path))
    joined = " ".join(argv)
    assert "hostfwd=tcp:127.0.0.1:2222-:22" in joined
    assert "0.0.0.0" not in joined
    assert argv.count("-netdev") == 1
    append = argv[argv.index("-append") + 1]
    assert f"crossdock.work={tmp_path / 'work'}" in append.split()
    assert f"crossdock.alt={tmp_path / 'work-alt'}" in append.split()
    assert "vhost-user-fs-pci,chardev=vfs,tag=crossdock-work" in argv
    virtfs = argv[argv.index("-virtfs") + 1]
    assert f"path={tmp_path / 'work-alt'}" in virtfs and "mount_tag=crossdock-alt" in virtfs
    assert argv[argv.index("-accel") + 1].startswith("tcg")
    kvm = machine.qemu_argv(lay, state(tmp_path, "kvm"))
    assert kvm[kvm.index("-accel") + 1] == "kvm"


def test_the_accelerator_is_tcg_on_a_pvm_host() -> None:
    accel, why = machine.accelerator()
    if Path("/sys/module/kvm_pvm").exists():
        assert (accel, "PVM" in why) == ("tcg", True)
    elif not os.access("/dev/kvm", os.R_OK | os.W_OK):
        assert accel == "tcg"
    else:
        assert accel == "kvm"


def test_ssh_takes_only_the_vms_key_and_pins_the_images_host_key(tmp_path: Path) -> None:
    lay = Layout(tmp_path / "vm")
    lay.image.mkdir(parents=True)
    lay.run.mkdir()
    lay.host_key.write_text("ssh-ed25519 AAAAkey root@crossdock-vm\n", encoding="utf-8")
    argv = machine.ssh_argv(lay, 2222)
    assert argv[-1] == "root@127.0.0.1" and argv[argv.index("-p") + 1] == "2222"
    assert "StrictHostKeyChecking=yes" in argv and "IdentitiesOnly=yes" in argv
    assert "BatchMode=yes" in argv and f"-oHostKeyAlias={CONTEXT}" in argv
    known = lay.run_file("known_hosts").read_text(encoding="utf-8")
    assert known == f"{CONTEXT} ssh-ed25519 AAAAkey\n"


def test_state_round_trips_and_a_broken_file_reads_as_none(tmp_path: Path) -> None:
    s = state(tmp_path)
    s.save(tmp_path / "state.json")
    assert State.load(tmp_path / "state.json") == s
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    assert State.load(tmp_path / "bad.json") is None
    assert State.load(tmp_path / "none.json") is None


def test_the_vm_directory_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CROSSDOCK_VM_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert vm_root() == tmp_path / "crossdock-vm"
    monkeypatch.setenv("CROSSDOCK_VM_DIR", str(tmp_path / "elsewhere"))
    assert vm_root() == tmp_path / "elsewhere"
    monkeypatch.setenv("CROSSDOCK_WORKDIR", str(tmp_path / "w"))
    assert alt_root() == tmp_path / "w-alt"


def test_missing_tools_are_named_with_the_packages_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(machine.VMError) as caught:
        machine.up(lambda _: None, lay=Layout(tmp_path / "vm"))
    message = str(caught.value)
    assert "apt-get install -y" in message
    for package in ("qemu-system-x86", "mmdebstrap", "openssh-client", "e2fsprogs"):
        assert package in message
    assert not (tmp_path / "vm" / "run").exists()


def test_the_build_script_parses_and_an_image_of_another_version_is_not_current(
    tmp_path: Path,
) -> None:
    script = Path(machine.__file__).with_name("build.sh")
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    lay = Layout(tmp_path / "vm")
    lay.image.mkdir(parents=True)
    for path in (lay.disk, lay.kernel, lay.initrd, lay.host_key, lay.key):
        path.write_bytes(b"x")
    assert lay.built() and not machine.current(lay)
    lay.image_digest.write_text("0" * 64 + "\n", encoding="utf-8")
    assert not machine.current(lay)
    lay.image_digest.write_text(machine.script_digest() + "\n", encoding="utf-8")
    assert machine.current(lay)
    lay.key.unlink()  # the image's authorized_keys holds a key that is gone
    assert not machine.current(lay)


def sleeper(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", *args], start_new_session=True
    )


def test_down_ends_only_processes_that_name_the_vms_directory(tmp_path: Path) -> None:
    """A recorded pid whose process is not the VM's (say, the pid was reused) survives."""
    lay = Layout(tmp_path / "vm")
    lay.run.mkdir(parents=True)
    ours, other = sleeper(str(lay.root / "run" / "virtiofsd.sock")), sleeper("unrelated")
    try:
        s = State(1, "tcg", "", "", "", {"virtiofsd": ours.pid, "ssh": other.pid})
        s.save(lay.state_file)
        assert machine.status(lay).running == {"virtiofsd": ours.pid}
        assert machine.down(lambda _: None, lay) == ["virtiofsd"]
        assert ours.wait(timeout=20) is not None
        assert other.poll() is None
        assert not lay.run.exists()
    finally:
        for proc in (ours, other):
            proc.kill()
            proc.wait()


def test_status_says_what_runs(tmp_path: Path) -> None:
    assert machine.Status({}, False, None).lines() == [f"{CONTEXT}: not running"]
    partly = machine.Status({"qemu": 7}, False, state(tmp_path))
    assert not partly.up
    assert partly.lines()[:2] == [f"{CONTEXT}: partly up (tcg)", "  qemu: pid 7"]
    assert "  engine: does not answer" in partly.lines()


def test_the_context_is_written_as_the_docker_cli_reads_it_and_removed_only_if_ours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    lay = Layout(tmp_path / "vm")
    context.create_context(lay)
    from docker.context import ContextAPI

    found = ContextAPI.get_context(CONTEXT)
    assert found is not None and found.Host == f"unix://{lay.docker_sock}"
    if shutil.which("docker"):
        listed = subprocess.run(
            ["docker", "context", "inspect", CONTEXT],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "DOCKER_CONFIG": str(tmp_path / "docker")},
        )
        assert json.loads(listed.stdout)[0]["Endpoints"]["docker"]["Host"] == found.Host
    assert not context.remove_context(Layout(tmp_path / "another-vm"))
    assert ContextAPI.get_context(CONTEXT) is not None
    assert context.remove_context(lay)
    assert ContextAPI.get_context(CONTEXT) is None


@pytest.fixture
def image_copy(tmp_path: Path) -> Layout:
    """A VM directory holding a copy of the built image (the running VM locks its own)."""
    built = machine.layout()
    if not machine.current(built):
        if os.environ.get("CROSSDOCK_REQUIRE_VM") == "1":
            pytest.fail("CROSSDOCK_REQUIRE_VM=1 but no VM image is built (crossdock vm up)")
        pytest.skip(f"no VM image in {built.image} (crossdock vm up builds one)")
    if machine.missing_tools() or os.geteuid() != 0:
        pytest.skip("the VM needs its tools and root")
    lay = Layout(tmp_path / "vm")
    lay.image.mkdir(parents=True)
    for name in ("vmlinuz", "initrd.img", "host_key.pub", "build.sha256"):
        shutil.copy(built.image / name, lay.image / name)
    subprocess.run(
        ["cp", "--sparse=always", "--reflink=auto", str(built.disk), str(lay.disk)], check=True
    )
    shutil.copy(built.key, lay.key)
    return lay


def test_an_interrupted_boot_leaves_nothing_running(
    image_copy: Layout, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CROSSDOCK_WORKDIR", str(tmp_path / "work"))
    monkeypatch.setattr(machine, "POWEROFF_TIMEOUT", 3.0)
    calls = []

    def interrupted(lay: Layout, port: int) -> bool:
        calls.append(port)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return False

    monkeypatch.setattr(machine, "_ssh_ok", interrupted)
    said: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        machine.up(said.append, lay=image_copy)
    assert "stopping what was started" in said
    assert not image_copy.run.exists()
    left = [
        p.parent.name
        for p in Path("/proc").glob("[0-9]*/cmdline")
        if str(image_copy.root) in p.read_bytes().decode(errors="replace")
    ]
    assert not left, f"VM processes left running: {left}"


vm_engine = pytest.mark.skipif(
    CONTEXT not in contexts_under_test(),
    reason=f"CROSSDOCK_TEST_CONTEXTS does not name {CONTEXT} (.ci/run boots it and does)",
)

BOTH = """
kind = "{kind}"
name = "{name}"
repetitions = 2
warmups = 0
timeout = 180
{body}
"""


@pytest.mark.engine
@vm_engine
def test_both_engines_in_one_run_are_told_apart_and_shown_side_by_side(
    tmp_path: Path, live_engine: object
) -> None:
    files = []
    for kind, name, body in (
        (
            "fileio",
            "both-fileio",
            '[params]\nsize = "8MiB"\nduration = 0.2\nfiles = 50\n'
            '[matrix]\ntarget = ["native", "bind", "bind-alt"]\nworkload = ["seq-read", "tree"]',
        ),
        (
            "network",
            "both-network",
            '[params]\nmeasure = "latency"\nroundtrips = 50\n'
            '[matrix]\npath = ["native-loopback", "to-host", "published-port"]',
        ),
        ("startup", "both-cold", '[params]\ncli = false\ncache = "cold"\n'),
        ("footprint", "both-footprint", "[params]\nwindow = 1.5\n"),
    ):
        path = tmp_path / f"{name}.toml"
        path.write_text(BOTH.format(kind=kind, name=name, body=body), encoding="utf-8")
        files.append(str(path))
    runs = driver.run(scenarios=files, out=tmp_path / "results", contexts=["default", CONTEXT])
    docs = {d.platform["id"]: d for d in (results.read(r.path) for r in runs)}
    assert set(docs) == {"linux-native", "linux-vm"}
    native, vm = docs["linux-native"], docs["linux-vm"]
    assert vm.run["context"] == CONTEXT
    assert native.platform["file_sharing"] in ("ext4", "xfs", "btrfs", "overlay")
    assert vm.platform["file_sharing"] == "virtiofs"
    for doc in (native, vm):
        assert doc.run["status"] == "complete"
        by = {(r.scenario, tuple(sorted(r.variant.items()))): r for r in doc.results}
        for r in by.values():
            published = r.variant.get("path") == "published-port"
            if doc is vm and published:
                assert r.status == "skipped" and "not-forwarded" in (r.reason or "")
            else:
                assert r.status == "ok", (r.scenario, r.variant, r.reason)
    fs = {
        str(r.variant["target"]): r.extra["fs_type"]
        for r in vm.results
        if r.scenario == "both-fileio" and r.status == "ok"
    }
    assert (fs["bind"], fs["bind-alt"]) == ("virtiofs", "9p")
    (to_host,) = [r for r in vm.results if r.variant.get("path") == "to-host"]
    assert to_host.extra["host_gateway"]["bind"] == "127.0.0.1"
    (cold,) = [r for r in vm.results if r.scenario == "both-cold"]
    assert cold.extra["cache_method"] == "engine"
    assert cold.extra["cache"] == cache.DEFINITIONS["engine"]
    (footprint,) = [r for r in vm.results if r.scenario == "both-footprint"]
    assert set(footprint.extra["processes"]["vm"]) == {"qemu-system-x86_64"}
    assert set(footprint.extra["processes"]["helper"]) == {"ssh", "virtiofsd"}
    page = tmp_path / "report.html"
    bench.report(inputs=[tmp_path / "results"], output=page)
    text = page.read_text(encoding="utf-8")
    assert "linux-native" in text and "linux-vm" in text
    assert "virtiofs" in text
