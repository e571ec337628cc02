"""The network workload end to end on the real engine: every path, both measures, the
timeout, cleanup; plus its scenario validation and its pure helpers.

No test asserts a throughput or latency figure: only that the figures exist and are
positive, that the recorded addresses obey the address rule, and that nothing is left
behind (no labelled object, no host iperf3 or busybox process).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import driver, results
from bench.cli import main
from bench.environment import engine
from bench.errors import SampleError
from bench.metrics import METRICS
from bench.workloads.network import PATHS, NetworkWorkload
from bench.workloads.network.addresses import check_address
from bench.workloads.network.programs import round_trips

engine_test = pytest.mark.engine

ALL_PATHS = '["native-loopback", "container-loopback", "bridge", "published-port", "to-host"]'

THROUGHPUT = f"""
kind = "network"
name = "net-throughput"
repetitions = 1
warmups = 0
timeout = 60
[params]
duration = 1
omit = 0
[matrix]
path = {ALL_PATHS}
include = [
    {{path = "native-loopback", direction = "reverse", streams = 2}},
    {{path = "bridge", direction = "reverse", streams = 2}},
]
"""

LATENCY = f"""
kind = "network"
name = "net-latency"
repetitions = 1
warmups = 0
timeout = 60
[params]
measure = "latency"
roundtrips = 50
[matrix]
path = {ALL_PATHS}
"""

#: host programs the workload starts; none may outlive a run
HOST_PROGRAMS = ("iperf3", "busybox")


def host_processes() -> set[int]:
    """Running (not zombie) iperf3/busybox processes that are ours or orphaned to init."""
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        state, ppid = text[text.rindex(")") + 2 :].split()[:2]
        if comm in HOST_PROGRAMS and state != "Z" and int(ppid) in (os.getpid(), 1):
            pids.add(int(stat.parent.name))
    return pids


@pytest.fixture
def no_host_processes() -> Iterator[None]:
    """Fail the test if it leaves an iperf3 or busybox process running on the host."""
    before = host_processes()
    yield
    left = host_processes() - before
    assert not left, f"host processes left running: {sorted(left)}"


def run_scenario(tmp_path: Path, text: str) -> results.RunDocument:
    scenario = tmp_path / "net.toml"
    scenario.write_text(text, encoding="utf-8")
    (run_file,) = driver.run(scenarios=[str(scenario)], out=tmp_path / "results", argv=["test"])
    return results.read(run_file.path)


def assert_allowed(address: str, subnets: list[str]) -> None:
    ip = ipaddress.ip_address(address)
    assert ip.is_loopback or any(ip in ipaddress.ip_network(s) for s in subnets), address


def bridge_subnets(live_engine: engine.Engine) -> list[str]:
    return [
        c["Subnet"]
        for n in live_engine.api.networks(filters={"driver": "bridge"})
        for c in (n.get("IPAM") or {}).get("Config") or []
        if "Subnet" in c
    ]


@engine_test
def test_every_path_measures_throughput_and_records_what_it_used(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None, no_host_processes: None
) -> None:
    doc = run_scenario(tmp_path, THROUGHPUT)
    # the engine's bridges, and the run's own (removed by now) as the results record it
    subnets = bridge_subnets(live_engine) + [
        s for r in doc.results for s in r.extra.get("bridge_network", {}).get("subnets", [])
    ]
    assert doc.run["status"] == "complete"
    assert len(doc.results) == 7
    by_path = {(r.variant["path"], r.variant["direction"]): r for r in doc.results}
    assert {p for p, _ in by_path} == set(PATHS)
    for r in doc.results:
        assert r.status == "ok", (r.variant, r.reason)
        assert r.kind == "network"
        assert r.tool is not None and r.tool["name"] == "iperf3"
        values = {m.name: m.samples for m in r.metrics}
        assert set(values) >= {"bitrate", "sender_cpu", "receiver_cpu"}
        assert set(values) <= {"bitrate", "sender_cpu", "receiver_cpu", "retransmits"}
        assert "retransmits" in values or "retransmits" in r.extra["absent"]
        for m in r.metrics:
            assert (m.unit, m.direction) == (METRICS[m.name].unit, METRICS[m.name].direction)
            assert len(m.samples) == 1
        assert values["bitrate"][0] > 0
        assert all(v[0] >= 0 for v in values.values())
        # the addresses used, planned and as iperf3 saw them, are loopback or engine bridges
        addresses = r.extra["addresses"]
        assert_allowed(addresses["which_is"], subnets)
        for conn in r.extra["iperf3_connections"]:
            assert_allowed(conn["remote"].rsplit(":", 1)[0], subnets)
        if r.variant["path"] != "native-loopback":
            assert r.extra["userland_proxy"]["setting"] in ("enabled", "disabled", "unknown")
            assert r.extra["userland_proxy"]["how"]
            assert r.extra["image"]["name"] == "tools"
    assert by_path["bridge", "reverse"].variant["streams"] == 2
    # a reverse result describes the reverse path: the server's end sends
    for path in ("bridge", "native-loopback"):
        forward, reverse = by_path[path, "forward"].extra, by_path[path, "reverse"].extra
        assert forward["path"] == PATHS[path].description
        assert reverse["path"] == PATHS[path].reverse and "sending" in reverse["path"]
    forward = by_path["published-port", "forward"].extra
    assert (forward["data_from"], forward["data_to"]) == ("host", "container")
    assert len(by_path["bridge", "reverse"].extra["iperf3_connections"]) == 2
    published = by_path["published-port", "forward"].extra["addresses"]
    assert published["client_connects_to"].startswith("127.0.0.1:")
    to_host = by_path["to-host", "forward"].extra
    assert to_host["addresses"]["client_connects_to"].startswith("host.docker.internal:")
    assert to_host["host_gateway"]["bind"] != "0.0.0.0"


@engine_test
def test_every_path_measures_latency(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None, no_host_processes: None
) -> None:
    doc = run_scenario(tmp_path, LATENCY)
    assert {r.variant["path"] for r in doc.results} == set(PATHS)
    for r in doc.results:
        assert r.status == "ok", (r.variant, r.reason)
        assert r.tool is not None and r.tool["name"] == "busybox"
        values = {m.name: m.samples[0] for m in r.metrics}
        assert set(values) == {"rtt_p50", "rtt_p99"}
        assert 0 < values["rtt_p50"] <= values["rtt_p99"]
        assert r.extra["latency_method"]
        assert r.extra["warm_round_trips"] >= 0


@engine_test
def test_a_client_still_running_at_the_timeout_is_killed_and_recorded_failed(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None, no_host_processes: None
) -> None:
    text = """
kind = "network"
name = "net-too-slow"
repetitions = 1
warmups = 0
timeout = 3
[params]
duration = 30
omit = 0
[matrix]
path = ["native-loopback", "container-loopback", "bridge", "published-port", "to-host"]
"""
    doc = run_scenario(tmp_path, text)
    for r in doc.results:
        assert r.status == "failed", r.variant
        assert "timeout" in (r.reason or ""), r.reason
        assert not r.metrics


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'path = "bridg"',
            "unknown value 'bridg' (valid: native-loopback, container-loopback, bridge, "
            "published-port, to-host)",
        ),
        ('direction = "sideways"', "unknown value 'sideways' (valid: forward, reverse)"),
        ('measure = "jitter"', "unknown value 'jitter' (valid: throughput, latency)"),
        ("streams = 0", "below the minimum 1"),
    ],
)
def test_bad_parameters_exit_2_naming_the_valid_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(f'kind = "network"\n[params]\n{line}\n', encoding="utf-8")
    assert main(["run", str(scenario), "--out", str(tmp_path / "results")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert message in err
    assert not (tmp_path / "results").exists()


def test_latency_variants_refuse_throughput_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(
        'kind = "network"\n[params]\nmeasure = "latency"\nstreams = 4\n', encoding="utf-8"
    )
    assert main(["run", str(scenario), "--out", str(tmp_path / "results")]) == 2
    assert 'measure = "latency" does not use streams' in capsys.readouterr().err


def test_every_param_default_is_one_of_its_choices() -> None:
    for name, spec in NetworkWorkload.params.items():
        assert spec.check(name, spec.default) is None, name


def test_round_trips_are_read_from_the_clients_time_pairs() -> None:
    text = "100.000010 100.000035\n100.000040 100.000052\nnc: connection reset\n"
    assert round_trips(text) == pytest.approx([25e-6, 12e-6], abs=1e-9)


def test_a_shell_without_epochrealtime_is_named() -> None:
    with pytest.raises(SampleError, match="EPOCHREALTIME"):
        round_trips(" \n \n")


def test_the_address_rule_allows_loopback_only_without_an_engine() -> None:
    check_address(None, "127.0.0.1")
    for address in ("192.0.2.1", "0.0.0.0", "host.docker.internal"):
        with pytest.raises(SampleError, match="refusing"):
            check_address(None, address)


@pytest.mark.parametrize("name", sorted(PATHS))
def test_a_reverse_run_names_the_server_as_the_sender(name: str, tmp_path: Path) -> None:
    from bench.plan import Variant
    from bench.provision.context import RunContext

    workload = NetworkWorkload()
    defaults = {k: spec.default for k, spec in workload.params.items()}
    ctx = RunContext("t", None, {}, tmp_path)  # no engine: the description alone
    described = {}
    for direction in ("forward", "reverse"):
        variant = Variant(tuple((defaults | {"path": name, "direction": direction}).items()))
        described[direction] = workload.describe(ctx, variant)[1]
    forward, reverse = described["forward"], described["reverse"]
    assert forward["path"] == PATHS[name].description
    assert reverse["path"] == PATHS[name].reverse != forward["path"]
    assert (reverse["data_from"], reverse["data_to"]) == (forward["data_to"], forward["data_from"])
    assert forward["data_from"] == PATHS[name].client.removeprefix("server-")
