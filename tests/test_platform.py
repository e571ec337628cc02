"""bench.environment.platform: every real capture classifies as fixtures/docker-info/INDEX.md says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bench.environment import captures
from bench.environment.platform import (
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
# INDEX.md). A host OS is passed only where the capture itself does not show it.
CAPTURES: dict[str, tuple[str | None, str, str]] = {
    "docker_info_linux-native_1.txt": (None, "linux-native", "linux"),
    "docker_info_linux-native-gha-ubuntu_1.txt": (None, "linux-native", "linux"),
    "docker_version_linux-native-gha-ubuntu_1.txt": (None, "linux-native", "linux"),
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
    "docker_version_desktop-windows-hyperv_1.txt": (None, "docker-desktop-windows", "windows"),
    "docker_info_desktop-windows-api-too-old-stub_1.txt": (None, "unknown", "windows"),
    "docker_info_wsl2-engine_1.txt": (None, "wsl2-engine", "linux"),
    "docker_info_colima_1.txt": (None, "colima", "darwin"),
    "docker_info_lima_1.txt": ("darwin", "lima", "darwin"),
    "docker_info_orbstack_1.txt": (None, "orbstack", "darwin"),
    "docker_info_rancher-desktop-mac_1.txt": (None, "rancher-desktop", "darwin"),
    "docker_info_rancher-desktop-windows_1.txt": ("windows", "rancher-desktop", "windows"),
    "docker_version_podman-linux_1.txt": (None, "podman", "linux"),
    "docker_info_windows-containers_1.txt": (None, "windows-containers", "windows"),
}

# Where this table knowingly differs from INDEX.md, and why.
DEVIATIONS = {
    "docker_version_desktop-windows-hyperv_1.txt": (
        "a version-only capture shows no kernel, so the Hyper-V backend is not visible; with "
        "its companion info capture it is docker-desktop-windows-hyperv (tested below)"
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
    differ = {f for f, (_, expected, _) in CAPTURES.items() if index_rows()[f] != expected}
    assert differ == set(DEVIATIONS)


@pytest.mark.parametrize(("name", "row"), CAPTURES.items(), ids=list(CAPTURES))
def test_capture_classifies_as_index_says(name: str, row: tuple[str | None, str, str]) -> None:
    host_os, expected, index_host = row
    platform = detect_capture(read(name), host_os=host_os)
    assert platform.id == expected, platform.detection
    assert platform.host_os == index_host, platform.detection
    assert platform.detection
    assert all(reason.strip() for reason in platform.detection)
    assert platform.file_sharing is None


def test_api_too_old_stub_is_unknown_because_negotiation_failed() -> None:
    platform = detect_capture(read("docker_info_desktop-windows-api-too-old-stub_1.txt"))
    assert platform.id == "unknown"
    assert platform.family == "unknown"
    assert any("negotiation" in reason for reason in platform.detection)


def test_hyperv_version_with_its_companion_info_is_hyperv() -> None:
    version = parsed("docker_version_desktop-windows-hyperv_1.txt")
    info = info_of("docker_info_desktop-windows-hyperv_1.txt")
    host_os, _ = infer_host_os(version)
    platform = detect(info=info, version=version.version, host_os=host_os)
    assert (platform.id, platform.vm) == ("docker-desktop-windows-hyperv", "linuxkit")


def test_no_engine_data_is_unknown() -> None:
    platform = detect(info=None, version=None, host_os="linux")
    assert platform.id == "unknown"
    assert platform.detection == ("no docker info or docker version data to classify",)


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
    assert detect(info=info, host_os=host_os, wsl=wsl, endpoint=endpoint).id == expected


def test_desktop_address_label_beats_host_os() -> None:
    info = info_of("docker_info_desktop-mac-arm64_1.txt")
    platform = detect(info=info, host_os="linux")
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


def test_wsl_flag_makes_a_version_only_linux_engine_wsl2_engine() -> None:
    version = parsed("docker_version_linux-native-gha-ubuntu_1.txt").version
    platform = detect(info=None, version=version, host_os="linux", wsl=True)
    assert (platform.id, platform.vm) == ("wsl2-engine", "wsl2")


def test_podman_off_linux_runs_in_a_machine() -> None:
    version = parsed("docker_version_podman-linux_1.txt").version
    assert detect(info=None, version=version, host_os="darwin").vm == "podman-machine"
    assert detect(info=None, version=version, host_os="linux").vm is None


def test_remote_linux_engine_from_windows_is_not_taken_for_desktop() -> None:
    version = parsed("docker_version_desktop-windows-hyperv_1.txt").version
    platform = detect(info=None, version=version, host_os="windows", endpoint="tcp://10.0.0.5:2376")
    assert platform.id == "unknown"
    assert platform.detection[0].startswith("no detection rule matched")


def test_linux_engine_from_a_mac_without_vm_signs_is_unknown() -> None:
    platform = detect(info=info_of("docker_info_linux-native_1.txt"), host_os="darwin")
    assert platform.id == "unknown"


def test_host_os_inference_states_an_assumption() -> None:
    host_os, why = infer_host_os(parsed("docker_info_lima_1.txt"))
    assert host_os == "linux"
    assert "assuming linux" in why


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
