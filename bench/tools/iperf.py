"""iperf3 ``-J`` output: parsing one client run into SI figures.

Contract of :func:`parse`: it takes the client's whole standard output as text and
returns an :class:`IperfRun`, or raises :class:`IperfError` saying why there is no
figure. It tolerates what real builds print around the document (a warning line before
the JSON, trailing text after it); a document with an ``"error"`` key is a failed run,
even when it holds the intervals measured before the failure.

Roles, not hosts: iperf3 reports ``sum_sent`` from the sending side and
``sum_received`` from the receiving side whichever end is the client, and
``cpu_utilization_percent`` as ``host_*`` (this client) and ``remote_*`` (the server).
With ``-R`` the server sends, so the sender's CPU is ``remote_total``. Omitted seconds
(``-O``) are not in the end sums: iperf3 resets its counters when they end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class IperfError(ValueError):
    """The output holds no measurement: iperf3 failed, or printed something unparsable."""


@dataclass(frozen=True)
class Connection:
    """One TCP connection as the client saw it (its address and the server's)."""

    local_host: str
    local_port: int
    remote_host: str
    remote_port: int

    def to_json(self) -> dict[str, str | int]:
        return {
            "local": f"{self.local_host}:{self.local_port}",
            "remote": f"{self.remote_host}:{self.remote_port}",
        }


@dataclass(frozen=True)
class IperfRun:
    """One iperf3 TCP client run, in SI units.

    ``received_bps`` is the receiver's figure (bit/s over the measured seconds);
    ``retransmits`` is ``None`` where the sender's platform does not report them (iperf3
    leaves the key out); CPU figures are % of one CPU (process CPU time / wall time).
    """

    version: str
    reverse: bool
    streams: int
    duration_s: float
    omit_s: float
    received_bps: float
    sent_bps: float
    retransmits: int | None
    client_cpu: float
    server_cpu: float
    connections: tuple[Connection, ...]

    @property
    def sender_cpu(self) -> float:
        """CPU % of the sending process (the server with ``-R``)."""
        return self.server_cpu if self.reverse else self.client_cpu

    @property
    def receiver_cpu(self) -> float:
        """CPU % of the receiving process (the client with ``-R``)."""
        return self.client_cpu if self.reverse else self.server_cpu


def parse(text: str) -> IperfRun:
    """The run in *text* (an iperf3 client's ``-J`` standard output); see module docstring."""
    document = extract_json(text)
    if document.get("error"):
        raise IperfError(f"iperf3 failed: {document['error']}")
    try:
        return _run(document)
    except (KeyError, TypeError, ValueError) as e:
        raise IperfError(f"iperf3 JSON lacks an expected field: {e!r}") from None


def extract_json(text: str) -> dict[str, Any]:
    """The first JSON object of *text* that starts a line; raises :class:`IperfError`
    quoting the first line when there is none (e.g. a parameter error, printed as text)."""
    decoder = json.JSONDecoder()
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("{"):
            start = offset + len(line) - len(line.lstrip())
            try:
                value, _ = decoder.raw_decode(text, start)
            except json.JSONDecodeError as e:
                raise IperfError(f"iperf3 printed malformed JSON: {e}") from None
            if isinstance(value, dict):
                return value
        offset += len(line)
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    raise IperfError(f"iperf3 printed no JSON: {first[:300] or '(no output)'}")


def _run(document: dict[str, Any]) -> IperfRun:
    start = document["start"]
    test = start["test_start"]
    end = document["end"]
    sent, received = end["sum_sent"], end["sum_received"]
    cpu = end["cpu_utilization_percent"]
    retransmits = sent.get("retransmits")
    return IperfRun(
        version=str(start.get("version", "unknown")),
        reverse=bool(test["reverse"]),
        streams=int(test["num_streams"]),
        duration_s=float(test["duration"]),
        omit_s=float(test["omit"]),
        received_bps=float(received["bits_per_second"]),
        sent_bps=float(sent["bits_per_second"]),
        retransmits=int(retransmits) if retransmits is not None else None,
        client_cpu=float(cpu["host_total"]),
        server_cpu=float(cpu["remote_total"]),
        connections=tuple(
            Connection(
                str(c["local_host"]),
                int(c["local_port"]),
                str(c["remote_host"]),
                int(c["remote_port"]),
            )
            for c in start.get("connected", [])
        ),
    )
