"""bench.environment.platform: every real capture classifies as fixtures/docker-info/INDEX.md says,
the rules need evidence (an endpoint, this host's kernel) and their precedence holds."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.environment import captures, engine, host, records
from bench.environment.evidence import Fact, boot, place
from bench.environment.platform import (
    FAMILIES,
    PLATFORM_IDS,
    RULES,
    Platform,
    Rule,
    detect,
    detect_capture,
    infer_host_os,
)

FIXTURES = Path(__file__).parent / "fixtures" / "docker-info"

# file -> (host OS passed in, or None to infer it from the capture; expected id; host OS per
# INDEX.md, "unknown" where the capture does not show it). A host OS is passed only where
# the capture itself does not show it and the source does.
CAPTURES: dict[str, tuple[str | None, str, str]] = {
    "docker_info_linux-native_1.txt": (None, "unknown", "linux"),
    "docker_info_linux-native-gha-ubuntu_1.txt": (None, "unknown", "linux"),
    "docker_version_linux-native-gha-ubuntu_1.txt": (None, "unknown", "linux"),
    "docker_info_dind-codespaces_1.txt": (None, "dind", "linux"),
    "docker_info_desktop-linux_1.txt": (None, "docker-desktop-linux", "linux"),
    "docker_info_desktop-mac-arm64_1.txt": (None, "docker-desktop-mac", "darwin"),
    "docker_version_desktop-mac-arm64_1.txt": (None, "docker-desktop-mac", "darwin"),
    "docker_version_json_desktop-mac-intel_1.txt": (None, "docker-desktop-mac", "darwin"),
    "docker_info_json_desktop-mac-intel_2.txt": ("darwin", "docker-desktop-mac", "darwin"),
    "docker_info_desktop-windows-wsl2_1.txt": (None, "docker-desktop-windows-wsl2", "windows"),
    "docker_info_desktop-windows-wsl2_2.txt": ("windows", "docker-desktop-windows-wsl2", "windows"),
    "docker_version_desktop-windows_1.txt": (None, "docker-desktop-windows", "windows"),
    "docker_info_desktop-windows-hyperv_1.txt": (
        "windows",
        "docker-desktop-windows-hyperv",
        "windows",
    ),
    "docker_version_desktop-windows-hyperv_1.txt": (None, "unknown", "windows"),
    "docker_info_desktop-windows-api-too-old-stub_1.txt": (None, "unknown", "windows"),
    "docker_info_wsl2-engine_1.txt": (None, "wsl2-engine", "linux"),
    "docker_info_colima_1.txt": (None, "colima", "darwin"),
    "docker_info_lima_1.txt": ("darwin", "lima", "darwin"),
    "docker_info_orbstack_1.txt": (None, "orbstack", "darwin"),
    "docker_info_rancher-desktop-mac_1.txt": (None, "rancher-desktop", "darwin"),
    "docker_info_rancher-desktop-windows_1.txt": ("windows", "rancher-desktop", "windows"),
    "docker_version_podman-linux_1.txt": (None, "podman", "linux"),
    "docker_info_windows-containers_1.txt": (None, "windows-containers", "windows"),
    # added for issue 15: legacy names, pastes as they come, version-only markers
    "docker_info_desktop-mac-legacy-moby_1.txt": ("darwin", "docker-desktop-mac", "darwin"),
    "docker_info_desktop-legacy-moby-swarm_1.txt": (None, "unknown", "unknown"),
    "docker_info_desktop-mac-indented_1.txt": (None, "docker-desktop-mac", "darwin"),
    "docker_info_desktop-windows-hyperv-tabbed_1.txt": (
        None,
        "docker-desktop-windows-hyperv",
        "windows",
    ),
    "docker_version_rancher-desktop-windows_1.txt": (None, "rancher-desktop", "windows"),
    "docker_version_rd-cli-orbstack_1.txt": (None, "orbstack", "darwin"),
    "docker_version_rd-cli-desktop-mac_1.txt": (None, "docker-desktop-mac", "darwin"),
    "docker_version_rd-cli-tcd_1.txt": (None, "unknown", "darwin"),
    "docker_version_podman-machine-pyrepr_1.txt": (None, "podman", "unknown"),
    "docker_version_info_linux-combined_1.txt": (None, "unknown", "linux"),
    "docker_version_json_wire-log_1.txt": (None, "unknown", "unknown"),
    "docker_version_desktop-mac-lost-header_1.txt": (None, "unknown", "darwin"),
    "docker_version_desktop-mac_2.txt": (None, "docker-desktop-mac", "darwin"),
    "docker_info_linux-vm-qemu_1.txt": (None, "unknown", "unknown"),
}

# Captures that are `unknown` alone, with the evidence a live detection has and the id it
# then gives (INDEX.md: "truly ...").
WITH_EVIDENCE: dict[str, tuple[dict[str, Any], str]] = {
    "docker_info_linux-native_1.txt": (
        {"host_os": "linux", "endpoint": "unix:///var/run/docker.sock"},
        "linux-native",
    ),
    "docker_info_linux-native-gha-ubuntu_1.txt": (
        {"host_os": "linux", "endpoint": "unix:///var/run/docker.sock"},
        "linux-native",
    ),
    "docker_version_info_linux-combined_1.txt": (
        {"host_os": "linux", "endpoint": "unix:///var/run/docker.sock"},
        "linux-native",
    ),
    "docker_version_desktop-windows-hyperv_1.txt": (
        {"host_os": "windows", "endpoint": "npipe:////./pipe/docker_engine"},
        "docker-desktop-windows",
    ),
    "docker_version_desktop-mac-lost-header_1.txt": (
        {"host_os": "darwin", "endpoint": "unix:///var/run/docker.sock"},
        "linux-vm",
    ),
    "docker_info_linux-vm-qemu_1.txt": (
        {"host_os": "linux", "endpoint": "tcp://127.0.0.1:23750", "host_kernel": "6.18.44-fc-v782"},
        "linux-vm",
    ),
}


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def parsed(name: str) -> captures.Capture:
    return captures.parse_capture(read(name))


def info_of(name: str) -> dict[str, Any]:
    info = parsed(name).info
    assert info is not None
    return info


def kernel_of(capture: captures.Capture) -> str:
    info, version = capture.info or {}, capture.version or {}
    return str(info.get("KernelVersion") or version.get("KernelVersion") or "")


def index_rows() -> dict[str, str]:
    """file -> platform id as INDEX.md's "expected platform" column starts."""
    rows = {}
    for line in read("INDEX.md").splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) > 2 and cells[1].startswith("docker_"):
            match = re.match(r"[a-z0-9-]+", cells[2])
            assert match is not None, line
            rows[cells[1]] = match[0]
    return rows


def test_table_covers_every_fixture_and_follows_the_index() -> None:
    files = {p.name for p in FIXTURES.glob("*.txt")}
    assert set(CAPTURES) == files == set(index_rows())
    assert {f: expected for f, (_, expected, _) in CAPTURES.items()} == index_rows()


@pytest.mark.parametrize(("name", "row"), CAPTURES.items(), ids=list(CAPTURES))
def test_capture_classifies_as_index_says(name: str, row: tuple[str | None, str, str]) -> None:
    host_os, expected, index_host = row
    platform = detect_capture(read(name), host_os=host_os)
    assert platform.id == expected, platform.detection
    assert platform.host_os == index_host, platform.detection
    assert platform.detection
    assert all(reason.strip() for reason in platform.detection)
    assert platform.file_sharing is None


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_no_capture_is_a_confident_plain_linux_engine(name: str) -> None:
    # a capture shows neither the endpoint nor the host's kernel
    for host_os in (None, "linux"):
        found = detect_capture(read(name), host_os=host_os)
        assert found.id not in ("linux-native", "linux-vm", "linux-remote"), found.detection


@pytest.mark.parametrize(("name", "row"), WITH_EVIDENCE.items(), ids=list(WITH_EVIDENCE))
def test_the_evidence_a_capture_lacks_decides_its_true_id(
    name: str, row: tuple[dict[str, Any], str]
) -> None:
    given, expected = row
    capture = parsed(name)
    evidence = {"host_kernel": kernel_of(capture)} | given
    found = detect(info=capture.info, version=capture.version, **evidence)
    assert found.id == expected, found.detection
    assert detect_capture(read(name)).id == "unknown"


def test_unknown_from_a_capture_says_what_was_missing() -> None:
    platform = detect_capture(read("docker_info_linux-native_1.txt"))
    (reason,) = platform.detection[1:]
    assert "linux-native needs a local endpoint and this host's own kernel" in reason
    assert "no endpoint given" in reason
    assert "this host's kernel release is not known" in reason


def test_api_too_old_stub_is_unknown_because_negotiation_failed() -> None:
    platform = detect_capture(read("docker_info_desktop-windows-api-too-old-stub_1.txt"))
    assert platform.id == "unknown"
    assert platform.family == "unknown"
    assert any("negotiation" in reason for reason in platform.detection)


def test_hyperv_version_with_its_companion_info_is_hyperv() -> None:
    version = parsed("docker_version_desktop-windows-hyperv_1.txt")
    info = info_of("docker_info_desktop-windows-hyperv_1.txt")
    host_os, _ = infer_host_os(version)
    assert host_os == "windows"
    platform = detect(info=info, version=version.version, host_os=host_os, host_kernel="")
    assert (platform.id, platform.vm) == ("docker-desktop-windows-hyperv", "linuxkit")


def test_no_engine_data_is_unknown() -> None:
    platform = detect(info=None, version=None, host_os="linux")
    assert platform.id == "unknown"
    assert platform.detection == ("no docker info or docker version data to classify",)


# --- precedence: explicit markers first, then where the engine is, then the kernel ---------


@pytest.fixture
def forwarder_socket(tmp_path: Path) -> Iterator[Path]:
    """A unix socket this test process serves: what an ssh or socat forward looks like."""
    path = tmp_path / "forwarded.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        yield path


def _truncated_after(text: str, marker: str) -> str:
    return text[: text.index(marker) + len(marker)]


@pytest.mark.parametrize(
    ("name", "cut_after", "expected"),
    [
        # /version cut off inside Components: only Platform.Name was read
        ("docker_version_json_desktop-mac-intel_1.txt", '"Name": "Engine",', "docker-desktop-mac"),
        # Podman's platform name, and its component list cut off before the Engine
        (
            "docker_version_podman-linux_1.txt",
            "Podman Engine:\n  Version:          4.5.1",
            "podman",
        ),
    ],
)
def test_negotiation_failed_does_not_fire_before_explicit_markers(
    name: str, cut_after: str, expected: str
) -> None:
    platform = detect_capture(_truncated_after(read(name), cut_after))
    assert platform.id == expected, platform.detection
    assert not any("negotiation" in reason for reason in platform.detection)


def test_podman_platform_name_alone_is_podman() -> None:
    version = {"Platform": {"Name": "linux/arm64/fedora-41"}, "Version": "5.4.2"}
    platform = detect(info=None, version=version, host_os="darwin", host_kernel="")
    assert (platform.id, platform.vm) == ("podman", "podman-machine")
    assert "is how Podman names its platform" in platform.detection[0]


@pytest.mark.parametrize(
    ("context", "server", "expected"),
    [
        ("default", "", "rancher-desktop"),
        ("", "", "rancher-desktop"),
        ("orbstack", "", "orbstack"),  # a context naming the engine wins over the CLI
        ("desktop-linux", "Docker Desktop 4.42.0 (195023)", "docker-desktop-mac"),
        ("tcd", "", "unknown"),  # a context naming something else: the CLI says nothing
    ],
)
def test_rancher_desktop_cli_marker_yields_to_what_names_the_engine(
    context: str, server: str, expected: str
) -> None:
    text = read("docker_version_rancher-desktop-windows_1.txt")
    text = text.replace("windows/amd64", "darwin/arm64").replace(
        "Context:           default", f"Context:           {context}"
    )
    text = text.replace("\nServer:\n", f"\nServer: {server}\n")
    assert detect_capture(text).id == expected


def test_dind_marker_wins_over_a_remote_endpoint() -> None:
    # GitLab's docker:dind service is reached at tcp://docker:2376 from the job container
    info = info_of("docker_info_dind-codespaces_1.txt")
    platform = detect(
        info=info, host_os="linux", endpoint="tcp://docker:2376", host_kernel="6.8.0-1052-azure"
    )
    assert platform.id == "dind"


@pytest.mark.parametrize(
    ("endpoint", "host_kernel", "engine_boot_id", "expected"),
    [
        ("unix:///var/run/docker.sock", "5.15.0-25-generic", None, "linux-native"),
        ("tcp://127.0.0.1:2375", "5.15.0-25-generic", None, "linux-native"),
        ("unix:///var/run/docker.sock", "6.1.0-57-amd64", None, "linux-vm"),
        ("tcp://localhost:23750", "6.1.0-57-amd64", None, "linux-vm"),
        # the same kernel release, booted twice: another kernel (a VM of the same distro)
        ("unix:///run/vm.sock", "5.15.0-25-generic", "another-boot", "linux-vm"),
        ("ssh://alice@build-box", "5.15.0-25-generic", None, "linux-remote"),
        ("tcp://10.0.0.5:2376", "6.1.0-57-amd64", None, "linux-remote"),
        ("https://[2001:db8::5]:2376", "", None, "linux-remote"),
        # this host's own engine reached through a network address, shown by its boot id
        ("tcp://192.168.1.10:2375", "5.15.0-25-generic", "this-boot", "linux-native"),
        ("", "5.15.0-25-generic", None, "unknown"),  # "no endpoint" is not "local"
        ("unix:///var/run/docker.sock", "", None, "unknown"),  # nor is "no host kernel" same
    ],
)
def test_a_plain_linux_engine_needs_an_endpoint_and_the_hosts_kernel(
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str,
    host_kernel: str,
    engine_boot_id: str | None,
    expected: str,
) -> None:
    monkeypatch.setattr(host, "boot_id", lambda: "this-boot")
    info = info_of("docker_info_linux-native_1.txt")  # kernel 5.15.0-25-generic
    platform = detect(
        info=info,
        host_os="linux",
        endpoint=endpoint,
        host_kernel=host_kernel,
        engine_boot_id=engine_boot_id,
    )
    assert platform.id == expected, platform.detection
    assert platform.family == FAMILIES[expected]


@pytest.mark.skipif(host.host_os() != "linux", reason="SO_PEERCRED is Linux's")
def test_a_forwarded_socket_with_the_same_kernel_release_is_not_native(
    monkeypatch: pytest.MonkeyPatch, forwarder_socket: Path
) -> None:
    # a VM of the same distro behind an ssh/socat socket forward: the release matches, but
    # the socket's server is this test process, not an engine
    info = info_of("docker_info_linux-native_1.txt")
    monkeypatch.setattr(host, "kernel_release", lambda: info["KernelVersion"])
    platform = detect(info=info, host_os="linux", endpoint=f"unix://{forwarder_socket}")
    assert platform.id == "unknown", platform.detection
    assert "which forwards to an engine that may run elsewhere" in platform.detection[0]
    served = boot(engine_boot_id=None, host_boot_id=None, server=(4927, "dockerd"))
    assert served.value == "same"


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("unix:///var/run/docker.sock", "local"),
        ("npipe:////./pipe/docker_engine", "local"),
        ("tcp://127.0.0.1:23750", "loopback"),
        ("tcp://[::1]:2375", "loopback"),
        ("ssh://localhost", "loopback"),
        ("ssh://alice@my-laptop", "remote"),
        ("tcp://192.168.49.2:2376", "remote"),
        ("", ""),
        ("spdy://x", ""),
    ],
)
def test_where_an_endpoint_is(endpoint: str, expected: str) -> None:
    found = place(endpoint)
    assert found.value == expected
    assert found.reason


@pytest.mark.parametrize(
    ("host_os", "wsl", "endpoint", "expected"),
    [
        ("darwin", False, None, "docker-desktop-mac"),
        ("windows", False, None, "docker-desktop-windows-hyperv"),
        ("linux", True, None, "docker-desktop-windows-hyperv"),
        (
            "linux",
            False,
            "npipe:////./pipe/dockerDesktopLinuxEngine",
            "docker-desktop-windows-hyperv",
        ),
        ("windows", False, "unix:///Users/x/.docker/run/docker.sock", "docker-desktop-mac"),
        ("linux", False, None, "docker-desktop-linux"),
    ],
)
def test_desktop_host_comes_from_endpoint_wsl_or_host_os(
    host_os: str, wsl: bool, endpoint: str | None, expected: str
) -> None:
    # An old Docker Desktop for Mac answer: linuxkit kernel, no address label. Server-side
    # it is identical to Desktop on Windows/Hyper-V; only the harness's side tells them apart.
    info = info_of("docker_info_json_desktop-mac-intel_2.txt")
    platform = detect(info=info, host_os=host_os, wsl=wsl, endpoint=endpoint, host_kernel="")
    assert platform.id == expected


def test_desktop_without_a_known_host_is_unknown_not_a_guess() -> None:
    platform = detect_capture(read("docker_info_json_desktop-mac-intel_2.txt"))
    assert (platform.id, platform.host_os) == ("unknown", "unknown")
    assert "give it (--host-os)" in platform.detection[-1]


def test_desktop_address_label_beats_host_os() -> None:
    info = info_of("docker_info_desktop-mac-arm64_1.txt")
    platform = detect(info=info, host_os="linux", host_kernel="")
    assert platform.id == "docker-desktop-mac"
    assert any("unix:///Users/" in reason for reason in platform.detection)


@pytest.mark.parametrize(
    ("context", "endpoint", "expected"),
    [
        ("colima", None, "colima"),
        ("colima-work", None, "colima"),
        (None, "unix:///Users/x/.colima/default/docker.sock", "colima"),
        (None, "unix:///Users/x/.lima/docker/sock/docker.sock", "lima"),
        ("lima-docker", None, "lima"),
        ("rancher-desktop", None, "rancher-desktop"),
        (None, "unix:///Users/x/.rd/docker.sock", "rancher-desktop"),
        ("orbstack", None, "orbstack"),
        (None, "unix:///Users/x/.local/share/containers/podman/machine/podman.sock", "podman"),
    ],
)
def test_stock_distro_in_a_vm_is_told_by_context_or_endpoint(
    context: str | None, endpoint: str | None, expected: str
) -> None:
    info = info_of("docker_info_linux-native_1.txt")
    assert detect(info=info, host_os="darwin", context=context, endpoint=endpoint).id == expected


def test_rancher_desktop_wins_over_the_generic_wsl2_rule() -> None:
    info = info_of("docker_info_rancher-desktop-windows_1.txt")
    assert detect(info=info, host_os="windows").id == "rancher-desktop"
    plain = info | {"OperatingSystem": "Ubuntu 22.04.4 LTS"}
    assert detect(info=plain, host_os="windows").id == "wsl2-engine"


def test_a_version_only_linux_engine_seen_from_wsl_is_not_guessed() -> None:
    version = parsed("docker_version_linux-native-gha-ubuntu_1.txt").version
    platform = detect(info=None, version=version, host_os="linux", wsl=True, host_kernel="")
    assert platform.id == "unknown"
    info = info_of("docker_info_wsl2-engine_1.txt")
    kernel = info["KernelVersion"]
    here = detect(info=info, host_os="linux", wsl=True, endpoint="unix:///var/run/docker.sock",
                  host_kernel=kernel)  # fmt: skip
    assert (here.id, here.vm) == ("wsl2-engine", "wsl2")


def test_captured_in_wsl_places_docker_desktop_on_windows() -> None:
    # Docker Desktop's CLI inside a WSL distro: a Linux client, an old unlabelled Desktop
    text = read("docker_version_json_desktop-mac-intel_1.txt").replace('"darwin"', '"linux"')
    text = text.replace("5.10.104-linuxkit", "")  # `docker version` text shows no kernel
    assert detect_capture(text).id == "docker-desktop-linux"
    inside = detect_capture(text, captured_in="wsl")
    assert (inside.id, inside.host_os) == ("docker-desktop-windows", "linux")
    assert "WSL2" in inside.detection[0]
    assert detect_capture(text, captured_in="host").id == "docker-desktop-linux"
    with pytest.raises(ValueError, match=r"unknown capture place 'vm' \(valid: wsl, host\)"):
        detect_capture(text, captured_in="vm")


def test_podman_off_linux_runs_in_a_machine() -> None:
    version = parsed("docker_version_podman-linux_1.txt").version
    assert detect(info=None, version=version, host_os="darwin").vm == "podman-machine"
    assert detect(info=None, version=version, host_os="linux", host_kernel="").vm is None


def test_remote_linux_engine_from_windows_is_not_taken_for_desktop() -> None:
    version = parsed("docker_version_desktop-windows-hyperv_1.txt").version
    platform = detect(info=None, version=version, host_os="windows", endpoint="tcp://10.0.0.5:2376")
    assert platform.id == "linux-remote"
    assert "10.0.0.5" in platform.detection[1]


def test_linux_engine_from_a_mac_without_vm_signs_or_endpoint_is_unknown() -> None:
    platform = detect(info=info_of("docker_info_linux-native_1.txt"), host_os="darwin")
    assert platform.id == "unknown"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/opt/homebrew/lib/docker/cli-plugins/docker-buildx", "darwin"),
        ("/Users/me/.docker/cli-plugins/docker-compose", "darwin"),
        ("/usr/libexec/docker/cli-plugins/docker-buildx", "linux"),
        ("/home/me/.docker/cli-plugins/docker-buildx", "linux"),
        ("C:\\Program Files\\Docker\\cli-plugins\\docker-buildx.exe", "windows"),
        ("/usr/local/lib/docker/cli-plugins/docker-buildx", None),  # Homebrew or Linux
    ],
)
def test_plugin_paths_as_host_evidence(path: str, expected: str | None) -> None:
    capture = captures.Capture(info=None, version=None, client={"Plugins": [{"Path": path}]})
    host_os, why = infer_host_os(capture)
    assert host_os == expected
    assert (path in why) if expected else ("not visible" in why)


def test_given_host_os_adds_no_inference_reason() -> None:
    platform = detect_capture(read("docker_info_colima_1.txt"), host_os="darwin")
    assert platform.detection == ("Name 'colima' is a colima VM",)


def test_unknown_id_raises_on_construction() -> None:
    with pytest.raises(ValueError, match=r"unknown id 'bnid' \(valid: linux-native, "):
        Platform(
            id="bnid", family="linux", host_os="linux", vm=None, file_sharing=None, detection=("x",)
        )


def test_unknown_host_os_raises() -> None:
    with pytest.raises(ValueError, match="unknown host OS 'macos'"):
        detect(info=None, host_os="macos")
    with pytest.raises(ValueError, match="unknown host OS 'macos'"):
        detect_capture("", host_os="macos")


def test_rule_with_unknown_id_raises() -> None:
    with pytest.raises(ValueError, match="unknown id 'docker-desktop'"):
        Rule("docker-desktop", None, ())


def test_every_platform_id_has_a_rule() -> None:
    assert {rule.id for rule in RULES} == set(PLATFORM_IDS)


def test_to_json_has_exactly_the_schema_keys() -> None:
    platform = detect_capture(read("docker_info_orbstack_1.txt"))
    assert platform.to_json() == {
        "id": "orbstack",
        "family": "orbstack",
        "host_os": "darwin",
        "vm": "orbstack",
        "file_sharing": None,
        "detection": list(platform.detection),
    }


def test_with_file_sharing_returns_a_copy_with_the_reason_appended() -> None:
    platform = detect_capture(read("docker_info_colima_1.txt"))
    shared = platform.with_file_sharing("virtiofs", "probe saw virtiofs on /work")
    assert (shared.file_sharing, shared.detection[-1]) == (
        "virtiofs",
        "probe saw virtiofs on /work",
    )
    assert shared.detection[:-1] == platform.detection
    assert platform.file_sharing is None


# --- live: this host's engine, a forwarder in front of it, a VM and a remote engine ---------


@pytest.mark.engine
def test_this_hosts_engine_is_native_and_says_why(live_engine: engine.Engine) -> None:
    platform = records.platform_record(live_engine)
    assert platform.id == "linux-native", platform.detection
    kernel = host.kernel_release()
    assert any(f"'{kernel}' is this host's release" in r for r in platform.detection)
    if live_engine.target.endpoint.startswith("unix://"):
        assert any("the socket is served by" in r for r in platform.detection)


@pytest.mark.engine
def test_the_same_engine_behind_a_forwarded_socket_is_not_native(
    live_engine: engine.Engine, forwarder_socket: Path
) -> None:
    platform = detect(
        info=live_engine.info,
        version=live_engine.version,
        host_os=host.host_os(),
        endpoint=f"unix://{forwarder_socket}",
    )
    assert platform.id == "unknown", platform.detection
    assert "forwards to an engine that may run elsewhere" in platform.detection[0]


@pytest.mark.engine
def test_a_vm_and_a_remote_engine_are_told_from_this_hosts(live_engine: engine.Engine) -> None:
    vm_info = info_of("docker_info_linux-vm-qemu_1.txt")
    assert vm_info["KernelVersion"] != host.kernel_release()
    vm = detect(info=vm_info, host_os=host.host_os(), endpoint="tcp://127.0.0.1:23750")
    assert vm.id == "linux-vm", vm.detection
    remote = detect(info=vm_info, host_os=host.host_os(), endpoint="ssh://builder@10.1.2.3")
    assert remote.id == "linux-remote", remote.detection
    here = detect(
        info=live_engine.info, host_os=host.host_os(), endpoint=live_engine.target.endpoint
    )
    assert here.id == "linux-native", here.detection


def test_fact_reasons_say_what_is_not_known() -> None:
    assert boot(engine_boot_id=None, host_boot_id=None, server=None) == Fact(
        "", "whether the engine runs on this boot of the kernel is not readable"
    )


def test_detect_from_a_file_says_where_it_was_captured(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "docker_info_desktop-windows-wsl2_2.txt"  # shows no client OS
    assert main(["detect", "--from", str(path), "--captured-in", "wsl", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)["platform"]
    assert (record["id"], record["host_os"]) == ("docker-desktop-windows-wsl2", "linux")
    assert record["detection"][0] == "captured inside a WSL2 distro: the client ran on Linux"
