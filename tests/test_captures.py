"""bench.environment.captures: real `docker info` / `docker version` captures read into API-shaped dicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.environment.captures import Capture, parse_bytes, parse_capture

FIXTURES = Path(__file__).parent / "fixtures" / "docker-info"


def capture(name: str) -> Capture:
    return parse_capture((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.txt")), ids=lambda p: p.name)
def test_every_fixture_yields_info_or_version(path: Path) -> None:
    parsed = parse_capture(path.read_text(encoding="utf-8"))
    assert parsed.info is not None or parsed.version is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7.667GiB", round(7.667 * 2**30)),
        ("1.91GiB", round(1.91 * 2**30)),
        ("991.7 MiB", round(991.7 * 2**20)),
        ("3.999 GiB", round(3.999 * 2**30)),
        ("23.47GiB", round(23.47 * 2**30)),
        ("512B", 512),
        ("2KiB", 2048),
        ("1TiB", 2**40),
    ],
)
def test_memory_sizes_convert_to_bytes(text: str, expected: int) -> None:
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "7.6GB", "lots", "GiB", "-1GiB"])
def test_memory_size_that_is_not_one_raises(text: str) -> None:
    with pytest.raises(ValueError, match="expected a number and a unit"):
        parse_bytes(text)


def test_info_text_maps_cli_labels_to_api_keys() -> None:
    parsed = capture("docker_info_colima_1.txt")
    assert parsed.info is not None
    assert {
        k: parsed.info[k]
        for k in (
            "ServerVersion",
            "OperatingSystem",
            "OSType",
            "KernelVersion",
            "Architecture",
            "NCPU",
            "MemTotal",
            "Name",
            "Driver",
            "CgroupDriver",
            "DockerRootDir",
            "SecurityOptions",
        )
    } == {
        "ServerVersion": "26.1.1",
        "OperatingSystem": "Ubuntu 24.04 LTS",
        "OSType": "linux",
        "KernelVersion": "6.8.0-31-generic",
        "Architecture": "aarch64",
        "NCPU": 2,
        "MemTotal": round(1.91 * 2**30),
        "Name": "colima",
        "Driver": "overlay2",
        "CgroupDriver": "cgroupfs",
        "DockerRootDir": "/var/lib/docker",
        "SecurityOptions": ["name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns"],
    }
    assert parsed.version is None


def test_info_text_client_section_gives_context_and_plugin_paths() -> None:
    client = capture("docker_info_colima_1.txt").client
    assert client["Context"] == "colima"
    assert client["Version"] == "27.3.1"
    assert client["Plugins"][0] == {
        "Name": "buildx",
        "Version": "v0.17.1",
        "Path": "/Users/cffnpwr/.docker/cli-plugins/docker-buildx",
    }


def test_info_text_labels_and_proxy() -> None:
    info = capture("docker_info_desktop-linux_1.txt").info
    assert info is not None
    assert info["Labels"] == [
        "com.docker.desktop.address=unix:///home/dzmitriy/.docker/desktop/docker-cli.sock"
    ]
    assert info["HttpProxy"] == "http.docker.internal:3128"
    assert info["MemTotal"] == round(3.658 * 2**30)


def test_info_text_empty_labels_is_an_empty_list() -> None:
    info = capture("docker_info_desktop-windows-hyperv_1.txt").info
    assert info is not None
    assert info["Labels"] == []


def test_info_text_trailing_spaces_are_ignored() -> None:
    parsed = capture("docker_info_desktop-mac-arm64_1.txt")
    assert parsed.info is not None
    assert parsed.info["NCPU"] == 10
    assert parsed.client["Context"] == "desktop-linux"


def test_windows_info_with_spaced_memory_and_drive_root() -> None:
    info = capture("docker_info_windows-containers_1.txt").info
    assert info is not None
    assert info["OSType"] == "windows"
    assert info["MemTotal"] == round(3.999 * 2**30)
    assert info["DockerRootDir"] == "C:\\ProgramData\\docker"


def test_partial_info_without_section_header() -> None:
    info = capture("docker_info_lima_1.txt").info
    assert info is not None
    assert info["Name"] == "lima-docker"
    assert info["DockerRootDir"] == "/home/mir0.linux/.local/share/docker"
    assert "OperatingSystem" not in info


def test_partial_info_with_elisions() -> None:
    info = capture("docker_info_rancher-desktop-windows_1.txt").info
    assert info == {
        "KernelVersion": "6.6.87.2-microsoft-standard-WSL2",
        "OperatingSystem": "Rancher Desktop WSL Distribution",
        "OSType": "linux",
        "Architecture": "x86_64",
        "NCPU": 6,
        "MemTotal": round(23.47 * 2**30),
    }


def test_version_text_server_engine_and_client() -> None:
    parsed = capture("docker_version_desktop-mac-arm64_1.txt")
    assert parsed.info is None
    assert parsed.version is not None
    assert parsed.version["Platform"] == {"Name": "Docker Desktop 4.33.0 (160616)"}
    assert {
        k: parsed.version[k] for k in ("Version", "ApiVersion", "MinAPIVersion", "Os", "Arch")
    } == {
        "Version": "27.1.1",
        "ApiVersion": "1.46",
        "MinAPIVersion": "1.24",
        "Os": "linux",
        "Arch": "arm64",
    }
    assert [c["Name"] for c in parsed.version["Components"]] == [
        "Engine",
        "containerd",
        "runc",
        "docker-init",
    ]
    assert {k: parsed.client[k] for k in ("Os", "Arch", "Context", "ApiVersion")} == {
        "Os": "darwin",
        "Arch": "arm64",
        "Context": "desktop-linux",
        "ApiVersion": "1.46",
    }


def test_version_text_non_semver_engine_version_is_kept() -> None:
    version = capture("docker_version_desktop-windows_1.txt").version
    assert version is not None
    assert version["Version"] == "master"


def test_version_text_podman_components() -> None:
    version = capture("docker_version_podman-linux_1.txt").version
    assert version is not None
    assert version["Platform"]["Name"] == "linux/amd64/ubuntu-22.04"
    podman = next(c for c in version["Components"] if c["Name"] == "Podman Engine")
    assert podman["Version"] == "4.5.1"
    assert podman["Details"]["KernelVersion"] == "5.15.0-1041-azure"
    assert (version["Version"], version["ApiVersion"], version["Os"]) == ("4.5.1", "1.41", "linux")


def test_version_json_splits_client_and_server() -> None:
    parsed = capture("docker_version_json_desktop-mac-intel_1.txt")
    assert parsed.info is None
    assert parsed.version is not None
    assert parsed.version["Platform"]["Name"] == "Docker Desktop 4.7.1 (77678)"
    assert parsed.version["KernelVersion"] == "5.10.104-linuxkit"
    assert (parsed.client["Os"], parsed.client["Arch"]) == ("darwin", "amd64")


def test_info_json_is_taken_as_is() -> None:
    path = FIXTURES / "docker_info_json_desktop-mac-intel_2.txt"
    body = path.read_text(encoding="utf-8").split("\n", 1)[1]
    parsed = parse_capture(path.read_text(encoding="utf-8"))
    assert parsed.info == json.loads(body)
    assert parsed.client == {"Debug": False, "Plugins": [], "Warnings": None}


def test_api_too_old_stub_parses_its_truncated_error_body() -> None:
    info = capture("docker_info_desktop-windows-api-too-old-stub_1.txt").info
    assert info is not None
    assert (info["OperatingSystem"], info["ServerVersion"], info["NCPU"]) == ("", "", 0)
    assert info["Labels"] == [r"com.docker.desktop.address=npipe://\\.\pipe\docker_cli"]


def test_truncated_json_keeps_its_complete_members() -> None:
    parsed = parse_capture('{"OperatingSystem": "x", "Labels": ["a", "b')
    assert parsed.info == {"OperatingSystem": "x", "Labels": ["a"]}


def test_truncated_json_respects_escaped_quotes() -> None:
    parsed = parse_capture(r'{"OperatingSystem": "a\", b", "Name": "n", "Labels": ["x')
    assert parsed.info == {"OperatingSystem": 'a", b', "Name": "n"}


def test_only_leading_hash_lines_are_comments() -> None:
    parsed = parse_capture("# source: x\n#\nServer:\n Name: a#b\n Kernel Version: 6.1\n")
    assert parsed.info == {"Name": "a#b", "KernelVersion": "6.1"}


def test_unconvertible_value_is_left_out() -> None:
    parsed = parse_capture("Server:\n CPUs: XX\n Total Memory: [masked]\n Name: box\n")
    assert parsed.info == {"Name": "box"}


@pytest.mark.parametrize("text", ["", "# only a comment\n", "hello world\n", "[1, 2]", '{"a": 1}'])
def test_unrecognised_input_gives_an_empty_capture(text: str) -> None:
    assert parse_capture(text) == Capture(info=None, version=None, client={})
