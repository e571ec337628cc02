"""Results files are shared publicly: the engine's and machine's identifiers, proxy
settings and the user in an endpoint never reach them in clear."""

from __future__ import annotations

import getpass
import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from bench import driver
from bench.environment import captures, engine
from bench.environment.privacy import (
    SET,
    hashed,
    scrubbed,
    shareable_endpoint,
    shareable_info,
)

FIXTURES = Path(__file__).parent / "fixtures" / "docker-info"


def test_a_real_docker_info_keeps_its_facts_and_loses_its_identifiers() -> None:
    info = captures.parse_capture(
        (FIXTURES / "docker_info_linux-native_1.txt").read_text(encoding="utf-8")
    ).info
    assert info is not None and info["Name"] and info["ID"]
    shared = shareable_info(info)
    assert shared["Name"] == hashed(info["Name"]) != info["Name"]
    assert shared["ID"] == hashed(info["ID"]) != info["ID"]
    # what the report and the platform rules read is kept
    for key in ("ServerVersion", "KernelVersion", "OperatingSystem", "OSType", "Driver"):
        assert shared[key] == info[key]


def test_proxies_and_swarm_peers_are_only_said_to_be_set() -> None:
    info: dict[str, Any] = {
        "HttpProxy": "http://alice:xxxxx@proxy.corp.example:3128",
        "HttpsProxy": "",
        "NoProxy": "*.corp.example",
        "Swarm": {"NodeID": "abc123", "NodeAddr": "192.168.1.20", "RemoteManagers": [{}]},
    }
    shared = shareable_info(info)
    assert shared["HttpProxy"] == shared["NoProxy"] == SET
    assert shared["HttpsProxy"] == ""
    assert shared["Swarm"]["NodeID"] == hashed("abc123")
    assert shared["Swarm"]["NodeAddr"] == hashed("192.168.1.20")
    assert shared["Swarm"]["RemoteManagers"] == SET
    assert "corp.example" not in json.dumps(shared)
    assert info["HttpProxy"].startswith("http://alice")  # the input is not changed


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("unix:///var/run/docker.sock", "unix:///var/run/docker.sock"),
        ("npipe:////./pipe/docker_engine", "npipe:////./pipe/docker_engine"),
        ("tcp://127.0.0.1:2375", "tcp://127.0.0.1:2375"),
        ("tcp://[::1]:2375", "tcp://[::1]:2375"),
        ("ssh://alice@my-laptop", f"ssh://host-{hashed('my-laptop')[7:]}"),
        ("ssh://alice@my-laptop:2222", f"ssh://host-{hashed('my-laptop')[7:]}:2222"),
        ("tcp://10.0.0.5:2376", f"tcp://host-{hashed('10.0.0.5')[7:]}:2376"),
        (None, None),
    ],
)
def test_endpoints_name_no_user_and_no_remote_machine(
    endpoint: str | None, expected: str | None
) -> None:
    assert shareable_endpoint(endpoint) == expected


def test_detection_reasons_are_scrubbed_of_the_same_identifiers() -> None:
    reason = "endpoint 'ssh://alice@my-laptop' is remote; Name 'build-box-7' is not a product"
    text = scrubbed(reason, {"Name": "build-box-7"}, "ssh://alice@my-laptop")
    assert "alice" not in text and "my-laptop" not in text and "build-box-7" not in text


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.engine
def test_a_real_results_file_names_neither_host_nor_engine_nor_user(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(
        'kind = "startup"\nrepetitions = 1\nwarmups = 0\n'
        '[matrix]\nruntime = ["native", "container"]\n',
        encoding="utf-8",
    )
    (run,) = driver.run(scenarios=[str(scenario)], out=tmp_path / "results", argv=["test"])
    text = run.path.read_text(encoding="utf-8")
    document = json.loads(text)
    strings = _strings(document)
    engine_id = live_engine.info["ID"]
    assert engine_id and engine_id not in text
    for secret in {socket.gethostname(), live_engine.info["Name"], getpass.getuser()}:
        # a short name ("vm", "root") is also an ordinary word: look for it as a whole value,
        # a path component or a user@ prefix, and anywhere once it is long enough
        whole = re.compile(rf"(^|[/@]){re.escape(secret)}($|[/@:])")
        assert not [s for s in strings if whole.search(s)], secret
        if len(secret) >= 5:
            assert secret not in text, secret
