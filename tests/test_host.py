"""Host facts and host path logic, with the shapes macOS, Windows and WSL hosts print."""

from __future__ import annotations

import pytest

from bench.environment import host
from bench.provision import places


@pytest.mark.parametrize(
    ("proc_version", "expected"),
    [
        (
            "Linux version 5.15.146.1-microsoft-standard-WSL2 (root@65c757a075e2) (gcc (GCC) 11.2.0)",
            2,
        ),
        (
            "Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0 (GCC) )",
            1,
        ),
        ("Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)", None),
        (None, None),
    ],
)
def test_wsl_version_from_proc_version(proc_version: str | None, expected: int | None) -> None:
    assert host.wsl_version(proc_version) == expected


# `mount` on macOS 14 (Apple silicon), as printed
MACOS_MOUNT = """/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)
devfs on /dev (devfs, local, nobrowse)
/dev/disk3s6 on /System/Volumes/VM (apfs, local, noexec, journaled, noatime, nobrowse)
/dev/disk3s5 on /System/Volumes/Data (apfs, local, journaled, nobrowse, protect, root data)
map auto_home on /System/Volumes/Data/home (autofs, automounted, nobrowse)
/dev/disk5s1 on /Volumes/My Disk (exfat, local, nodev, nosuid, noowners)
"""


def test_macos_mount_table_gives_the_filesystem_of_a_home_directory() -> None:
    table = places.macos_mount_table(MACOS_MOUNT)
    # /Users lives on the Data volume (firmlinked); the resolved path is what is asked
    assert places.fs_type_at(table, "/System/Volumes/Data/Users/al/.cache/crossdock") == "apfs"
    assert places.fs_type_at(table, "/Volumes/My Disk/work") == "exfat"
    assert places.fs_type_at(table, "/private/tmp") == "apfs"


def test_a_windows_drive_is_only_offered_inside_wsl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "in_wsl", lambda: False)
    problem = places.windows_drive_problem()
    assert problem is not None and "WSL2" in problem
