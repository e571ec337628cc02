"""bench.tools.iperf on real iperf3 -J captures (tests/fixtures/iperf3, see its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.tools import iperf

CAPTURES = Path(__file__).parent / "fixtures" / "iperf3"


def text(name: str) -> str:
    return (CAPTURES / name).read_text(encoding="utf-8")


def raw(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text(name))
    return data


@pytest.mark.parametrize(
    ("name", "reverse", "streams"),
    [
        ("forward.json", False, 1),
        ("reverse.json", True, 1),
        ("parallel.json", False, 4),
        ("reverse-parallel.json", True, 4),
    ],
)
def test_a_run_gives_the_receivers_bitrate_and_the_roles_cpu(
    name: str, reverse: bool, streams: int
) -> None:
    run = iperf.parse(text(name))
    end = raw(name)["end"]
    cpu = end["cpu_utilization_percent"]
    assert (run.reverse, run.streams) == (reverse, streams)
    assert (run.duration_s, run.omit_s) == (2.0, 1.0)
    assert run.version == "iperf 3.12"
    # the receiving side's figure, in bit/s as iperf3 reports it (no unit conversion)
    assert run.received_bps == end["sum_received"]["bits_per_second"]
    assert run.sent_bps == end["sum_sent"]["bits_per_second"]
    assert run.retransmits == end["sum_sent"]["retransmits"]
    # with -R the server sends: its CPU is the sender's
    sender, receiver = ("remote_total", "host_total") if reverse else ("host_total", "remote_total")
    assert run.sender_cpu == cpu[sender]
    assert run.receiver_cpu == cpu[receiver]
    assert len(run.connections) == streams
    assert all(c.remote_host == "127.0.0.1" and c.remote_port == 5302 for c in run.connections)


def test_parallel_streams_are_summed_by_iperf3() -> None:
    run = iperf.parse(text("parallel.json"))
    per_stream = [s["receiver"]["bits_per_second"] for s in raw("parallel.json")["end"]["streams"]]
    assert run.received_bps == pytest.approx(sum(per_stream), rel=1e-3)


def test_connections_render_as_addresses() -> None:
    (conn,) = iperf.parse(text("forward.json")).connections
    assert conn.to_json() == {"local": "127.0.0.1:50224", "remote": "127.0.0.1:5302"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("failed-connect.json", "iperf3 failed: unable to connect to server: Connection refused"),
        # intervals were measured before the failure, but the run is still a failure
        ("server-killed.json", "iperf3 failed: unable to write to stream socket"),
        ("parameter-error.txt", "iperf3 printed no JSON: iperf3: parameter error - block size"),
    ],
)
def test_a_failed_run_raises_with_iperf3s_reason(name: str, message: str) -> None:
    with pytest.raises(iperf.IperfError, match=message.replace("(", r"\(")):
        iperf.parse(text(name))


def test_a_line_before_the_json_and_text_after_it_are_tolerated() -> None:
    # the capture is real; the surrounding lines stand for what some builds print
    noisy = "iperf3: warning: something the build says first\n" + text("forward.json")
    noisy += "\ntrailing text\n"
    assert iperf.parse(noisy) == iperf.parse(text("forward.json"))


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("", r"no JSON: \(no output\)"),
        ("\n  \n", r"no JSON: \(no output\)"),
        (text("forward.json")[:500], "malformed JSON"),
    ],
)
def test_unusable_output_raises(output: str, message: str) -> None:
    with pytest.raises(iperf.IperfError, match=message):
        iperf.parse(output)


def test_a_sender_without_retransmit_counts_gives_none_not_zero() -> None:
    # a real capture with the key removed, as iperf3 leaves it out off Linux
    document = raw("forward.json")
    del document["end"]["sum_sent"]["retransmits"]
    assert iperf.parse(json.dumps(document)).retransmits is None


def test_a_document_missing_a_section_raises() -> None:
    document = raw("forward.json")
    del document["end"]["cpu_utilization_percent"]
    with pytest.raises(iperf.IperfError, match="lacks an expected field"):
        iperf.parse(json.dumps(document))
