"""The userland-proxy setting the network workload records when no published port shows
it: read from the engine's own dockerd process (its ``--userland-proxy`` flag, else its
daemon.json, else the engine default).

The dockerd is real as far as the code can tell: a process named ``dockerd`` in /proc
with the flags, working directory and environment under test (a sleeping Python whose
argv[0] is ``dockerd``), listening (by its flags) on a socket path of its own so that it
is told apart from the engine's dockerd. Its daemon.json is a real file in a temporary
directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import docker
import pytest

from bench.environment import engine
from bench.environment.dockerd import configured_userland_proxy, engine_dockerd, userland_proxy

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/cmdline").exists(), reason="dockerd processes are found in /proc"
)

#: a program that stays up, whatever flags follow it
IDLE = ["-c", "import time; time.sleep(120)"]

StandIn = Callable[..., engine.Engine]


def engine_at(endpoint: str) -> engine.Engine:
    """An engine record for *endpoint* (nothing is asked of it: no connection is made)."""
    client = docker.DockerClient(base_url=endpoint, version="1.41")
    return engine.Engine(client=client, target=engine.Target(None, endpoint))


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[StandIn]:
    """Start a stand-in dockerd with the given flags (plus ``-H`` on a socket path of its
    own unless *hosts* is False), working directory and environment; returns an engine
    record for the socket it listens on. Every stand-in is killed at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(
        *flags: str,
        cwd: Path = tmp_path,
        env: Mapping[str, str] | None = None,
        hosts: bool = True,
        endpoint: str | None = None,
    ) -> engine.Engine:
        endpoint = endpoint or f"unix://{tmp_path}/stand-in.sock"
        argv = ["dockerd", *IDLE, *flags, *(["-H", endpoint] if hosts else [])]
        proc = subprocess.Popen(argv, executable=sys.executable, cwd=cwd, env=dict(env or {}))
        started.append(proc)
        for _ in range(100):  # until /proc shows the argv (at once, in practice)
            if cmdline(proc.pid) == argv:
                break
            time.sleep(0.01)
        return engine_at(endpoint)

    yield start
    for proc in started:
        proc.kill()
        proc.wait(timeout=5)


def daemon_json(path: Path, document: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("document", "setting", "how"),
    [
        ({"userland-proxy": False}, "disabled", "daemon.json: userland-proxy=false"),
        ({"userland-proxy": True}, "enabled", "daemon.json: userland-proxy=true"),
        (
            {"debug": True},
            "enabled",
            "engine default: no --userland-proxy flag, no userland-proxy key in ",
        ),
        ({"userland-proxy": "no"}, "unknown", "userland-proxy='no' is not a boolean"),
        (["userland-proxy", False], "unknown", "daemon.json is not a JSON object"),
    ],
)
def test_the_setting_is_read_from_the_daemon_json_dockerd_names(
    stand_in: StandIn, tmp_path: Path, document: object, setting: str, how: str
) -> None:
    config = daemon_json(tmp_path / "etc" / "daemon.json", document)
    proxy = userland_proxy(stand_in("--config-file", str(config)), None)
    assert proxy["setting"] == setting
    assert how in proxy["how"]
    assert str(config) in proxy["how"]


def test_no_daemon_json_is_the_engine_default(stand_in: StandIn, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "daemon.json"
    proxy = userland_proxy(stand_in(f"--config-file={missing}"), None)
    assert proxy == {
        "setting": "enabled",
        "how": f"engine default: no --userland-proxy flag, no {missing}",
    }


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda p: p.mkdir(), "is unreadable here (Is a directory)"),
        (lambda p: p.write_text('{"userland-proxy": false', encoding="utf-8"), "is not UTF-8 JSON"),
        (lambda p: p.write_bytes(b'{"userland-proxy": "\xff"}'), "is not UTF-8 JSON"),
    ],
    ids=["a-directory", "truncated", "not-utf8"],
)
def test_an_unreadable_daemon_json_is_unknown_not_the_default(
    stand_in: StandIn, tmp_path: Path, make: Callable[[Path], object], why: str
) -> None:
    config = tmp_path / "daemon.json"
    make(config)
    proxy = userland_proxy(stand_in("--config-file", str(config)), None)
    assert proxy["setting"] == "unknown"
    assert f"{config} {why}" in proxy["how"]


def test_a_relative_config_file_is_read_from_dockerds_working_directory(
    stand_in: StandIn, tmp_path: Path
) -> None:
    daemon_json(tmp_path / "conf" / "daemon.json", {"userland-proxy": False})
    proxy = userland_proxy(stand_in("--config-file", "daemon.json", cwd=tmp_path / "conf"), None)
    assert proxy == {
        "setting": "disabled",
        "how": f"{tmp_path}/conf/daemon.json: userland-proxy=false",
    }


def test_a_rootless_dockerd_reads_its_daemon_json_and_socket_from_its_environment(
    stand_in: StandIn, tmp_path: Path
) -> None:
    config = daemon_json(tmp_path / "config" / "docker" / "daemon.json", {"userland-proxy": False})
    env = {
        "ROOTLESSKIT_STATE_DIR": str(tmp_path / "rootlesskit"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
    }
    eng = stand_in(env=env, hosts=False, endpoint=f"unix://{tmp_path}/run/docker.sock")
    assert userland_proxy(eng, None) == {
        "setting": "disabled",
        "how": f"{config}: userland-proxy=false",
    }


def test_daemon_json_hosts_say_which_dockerd_serves_the_engine(
    stand_in: StandIn, tmp_path: Path
) -> None:
    sock = f"unix://{tmp_path}/from-json.sock"
    config = daemon_json(tmp_path / "daemon.json", {"hosts": [sock], "userland-proxy": False})
    proxy = userland_proxy(stand_in("--config-file", str(config), hosts=False, endpoint=sock), None)
    assert proxy["setting"] == "disabled"


@pytest.mark.parametrize(
    ("flags", "setting"),
    [
        (["--userland-proxy=false"], "disabled"),
        (["--userland-proxy=0"], "disabled"),
        (["--userland-proxy=F"], "disabled"),
        (["--userland-proxy=true"], "enabled"),
        # a bare boolean flag is true; the next word is not its value
        (["--userland-proxy"], "enabled"),
        (["--userland-proxy=false", "--userland-proxy"], "enabled"),
    ],
)
def test_the_flag_is_read_as_dockerd_reads_it(
    stand_in: StandIn, tmp_path: Path, flags: list[str], setting: str
) -> None:
    config = daemon_json(tmp_path / "daemon.json", {})
    eng = stand_in(*flags, "--config-file", str(config))
    assert userland_proxy(eng, None)["setting"] == setting


@pytest.mark.engine
def test_the_engines_own_dockerd_is_read_not_another_one(
    live_engine: engine.Engine, stand_in: StandIn, tmp_path: Path
) -> None:
    config = daemon_json(tmp_path / "daemon.json", {"userland-proxy": False})
    stand_in("--config-file", str(config))
    found = engine_dockerd(live_engine)
    if isinstance(found, str):
        pytest.skip(f"the engine's dockerd is not visible here: {found}")
    assert found.argv[:3] != ("dockerd", *IDLE)
    assert str(config) not in userland_proxy(live_engine, None)["how"]
    assert configured_userland_proxy(found) == userland_proxy(live_engine, None)


def test_no_dockerd_on_the_endpoint_is_unknown_naming_those_seen(
    stand_in: StandIn, tmp_path: Path
) -> None:
    stand_in()
    elsewhere = f"unix://{tmp_path}/nobody.sock"
    proxy = userland_proxy(engine_at(elsewhere), None)
    assert proxy["setting"] == "unknown"
    assert proxy["how"].startswith(f"no visible dockerd listens on {elsewhere} (")
    assert f"unix://{tmp_path}/stand-in.sock" in proxy["how"]


def test_a_remote_engine_is_unknown() -> None:
    proxy = userland_proxy(engine_at("tcp://192.0.2.1:2376"), None)
    assert proxy["setting"] == "unknown"
    assert "no dockerd process is visible on this host" in proxy["how"]
