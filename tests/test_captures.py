"""bench.environment.captures: real `docker info` / `docker version` captures read into API-shaped dicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


# --- captures as they are pasted --------------------------------------------------------------


def _body(name: str) -> str:
    """A fixture without its `# source:` line."""
    return (FIXTURES / name).read_text(encoding="utf-8").split("\n", 1)[1]


def _indented(text: str, prefix: str) -> str:
    return "".join(prefix + line + "\n" for line in text.splitlines())


@pytest.mark.parametrize(
    "name",
    [
        "docker_info_colima_1.txt",
        "docker_version_podman-linux_1.txt",
        "docker_info_desktop-legacy-moby-swarm_1.txt",
        "docker_version_json_desktop-mac-intel_1.txt",
        "docker_version_info_linux-combined_1.txt",
    ],
)
@pytest.mark.parametrize(
    "paste",
    [
        lambda text: _indented(text, "    "),  # a markdown list item's code block
        lambda text: _indented(text, "\t"),  # an rst code-block
        lambda text: _indented(text, "> "),  # a quoted reply
        lambda text: _indented(text, "> > "),  # a reply to a reply
        lambda text: "```console\n" + text + "```\n",
        lambda text: _indented("```\n" + text + "```", "  "),
    ],
    ids=["indent", "tab", "quote", "quote2", "fence", "indented-fence"],
)
def test_a_paste_reads_as_the_output_it_holds(name: str, paste: Any) -> None:
    plain = parse_capture(_body(name))
    assert plain.info is not None or plain.version is not None
    assert parse_capture(paste(_body(name))) == plain


def test_indented_and_tabbed_fixtures_read_like_plain_ones() -> None:
    spaces = capture("docker_info_desktop-mac-indented_1.txt").info
    tabs = capture("docker_info_desktop-windows-hyperv-tabbed_1.txt").info
    assert spaces is not None and tabs is not None
    assert (spaces["OperatingSystem"], spaces["KernelVersion"], spaces["NCPU"]) == (
        "Docker for Mac",
        "4.9.125-linuxkit",
        2,
    )
    assert (tabs["OperatingSystem"], tabs["Name"], tabs["Labels"]) == (
        "Docker for Windows",
        "linuxkit-00155db22605",
        [],
    )


def test_version_then_old_style_info_in_one_paste_keeps_both() -> None:
    parsed = capture("docker_version_info_linux-combined_1.txt")
    assert parsed.version is not None and parsed.info is not None
    assert (parsed.version["Version"], parsed.version["Os"]) == ("18.06.3-ce", "linux")
    assert [c["Name"] for c in parsed.version["Components"]] == ["Engine"]
    assert {k: parsed.info[k] for k in ("OperatingSystem", "KernelVersion", "NCPU")} == {
        "OperatingSystem": "Debian GNU/Linux 10 (buster)",
        "KernelVersion": "4.19.0-9-cloud-amd64",
        "NCPU": 4,
    }
    assert parsed.client["Os"] == "linux"


# `docker version` of a 1.12 client (https://github.com/moby/moby/issues/24451): no Engine
# component, the engine's fields sit directly under "Server:".
OLD_VERSION = """Client:
 Version:      1.12.0-rc3
 API version:  1.24
 Go version:   go1.6.2
 Git commit:   91e29e8
 Built:        Sat Jul  2 00:09:24 2016
 OS/Arch:      darwin/amd64
 Experimental: true

Server:
 Version:      1.12.0-rc3
 API version:  1.24
 Go version:   go1.6.2
 Git commit:   876f3a7
 Built:        Tue Jul  5 02:20:13 2016
 OS/Arch:      linux/amd64
 Experimental: true
"""


def test_old_client_version_has_the_engine_fields_under_server() -> None:
    parsed = parse_capture(OLD_VERSION)
    assert parsed.info is None
    assert parsed.version is not None
    assert (parsed.version["Version"], parsed.version["ApiVersion"], parsed.version["Os"]) == (
        "1.12.0-rc3",
        "1.24",
        "linux",
    )
    assert parsed.client["Os"] == "darwin"


def test_a_paste_that_lost_its_client_line_keeps_the_client_fields() -> None:
    parsed = capture("docker_version_desktop-mac-lost-header_1.txt")
    assert (parsed.client["Version"], parsed.client["Os"]) == ("19.03.8", "darwin")
    assert parsed.version is not None
    assert parsed.version["Platform"]["Name"] == "Docker Engine - Community"
    assert parsed.info is None


def test_warnings_after_info_do_not_hide_it() -> None:
    info = capture("docker_info_linux-vm-qemu_1.txt").info
    assert info is not None
    assert (info["KernelVersion"], info["Name"]) == ("6.1.0-57-amd64", "vmspike-docker")
    # and the reverse order: an old-style info whose WARNING lines come first
    warned = parse_capture("WARNING: No swap limit support\n" + _body("docker_info_lima_1.txt"))
    assert warned.info == capture("docker_info_lima_1.txt").info


def test_podman_multiline_runtime_version_stays_in_its_component() -> None:
    version = capture("docker_version_podman-linux_1.txt").version
    assert version is not None
    assert [c["Name"] for c in version["Components"]] == [
        "Podman Engine",
        "Conmon",
        "OCI Runtime (crun)",
        "Engine",
    ]
    assert capture("docker_version_podman-linux_1.txt").info is None


def test_a_python_dict_printed_by_docker_py_is_read() -> None:
    parsed = capture("docker_version_podman-machine-pyrepr_1.txt")
    assert parsed.version is not None
    assert parsed.version["Platform"] == {"Name": "linux/arm64/fedora-41"}
    assert parsed.version["Components"][0]["Name"] == "Podman Engine"
    assert parsed.version["KernelVersion"] == "6.12.9-200.fc41.aarch64"


def test_json_inside_log_lines_is_read() -> None:
    version = capture("docker_version_json_wire-log_1.txt").version
    assert version is not None
    assert (version["KernelVersion"], version["Arch"]) == ("5.15.68-0-virt", "arm64")


@pytest.mark.parametrize(
    ("cut_at", "has"),
    [
        ('"Name": "Engine",', "Components"),  # inside the component list
        ('"ApiVersion": "1.41",\n  "MinAPIVersion"', "Version"),  # after the top Version
        ('"KernelVersion": "5.10.104-lin', "GitCommit"),  # inside the last string
    ],
)
def test_a_truncated_version_document_keeps_what_was_read(cut_at: str, has: str) -> None:
    # /version as the API answers it (the Server part of `docker version -f json`), cut off
    server = json.loads(_body("docker_version_json_desktop-mac-intel_1.txt"))["Server"]
    text = json.dumps(server, indent=2)
    parsed = parse_capture(text[: text.rindex(cut_at) + len(cut_at)])
    assert parsed.version is not None
    assert parsed.version["Platform"]["Name"] == "Docker Desktop 4.7.1 (77678)"
    assert has in parsed.version


def test_a_version_then_an_info_document_are_both_read() -> None:
    text = '{"Platform": {"Name": "Docker Desktop 4.34.2"}, "Version": "27.2.0"}\n{"OperatingSystem": "Docker Desktop", "NCPU": 8}'
    parsed = parse_capture(text)
    assert parsed.version == {"Platform": {"Name": "Docker Desktop 4.34.2"}, "Version": "27.2.0"}
    assert parsed.info == {"OperatingSystem": "Docker Desktop", "NCPU": 8}


def test_json_truncated_after_a_complete_member_keeps_it() -> None:
    assert parse_capture('{"OperatingSystem": "x", "NCPU": 4').info == {
        "OperatingSystem": "x",
        "NCPU": 4,
    }
