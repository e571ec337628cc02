"""The rule that keeps the network workload's traffic on this machine (DESIGN 4).

Every address a server binds or a client targets passes :func:`check_address` first:
loopback, or inside one of the engine's own bridge networks (:func:`engine_bridge_subnets`);
for the address ``host.docker.internal`` stands for, also a private gateway of a local
engine.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from typing import Any

from bench.environment.engine import Engine, engine_is_local
from bench.errors import SampleError

LOOPBACK = "127.0.0.1"


def check_address(engine: Engine | None, address: str, *, host_gateway: bool = False) -> None:
    """Raise :class:`SampleError` unless *address* is loopback or inside one of the
    engine's own bridge networks: no traffic ever leaves this machine (DESIGN 4).

    With *host_gateway* (the address ``host.docker.internal`` resolves to in a container
    of a local engine), a private address outside the bridges is allowed too: the
    gateway a VM-backed engine (Docker Desktop: 192.168.65.254) keeps on its own virtual
    network to reach the host, which forwards to the host's loopback."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise SampleError(f"refusing to use {address!r}: not an IP address") from None
    if ip.is_loopback:
        return
    subnets = engine_bridge_subnets(engine) if engine is not None else []
    if any(ip in ipaddress.ip_network(s) for s in subnets):
        return
    if host_gateway and engine is not None and engine_is_local(engine) and _private(ip):
        return
    allowed = "loopback, the engine's bridge networks" + (
        " and a private host-gateway address of a local engine" if host_gateway else ""
    )
    raise SampleError(
        f"refusing to use {address}: only {allowed} ({', '.join(subnets) or 'none'}) "
        "may be targeted"
    )


def is_local_address(address: str) -> bool:
    """Whether *address* belongs to this host (a socket can bind it)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((address, 0))
    except OSError:
        return False
    return True


def _private(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A private or link-local address that is not also routable on the internet."""
    return (ip.is_private or ip.is_link_local) and not (
        ip.is_global or ip.is_multicast or ip.is_unspecified
    )


def engine_bridge_subnets(engine: Engine) -> list[str]:
    """The subnets of every bridge-driver network of the engine."""
    return [s for n in engine.api.networks() if n.get("Driver") == "bridge" for s in subnets_of(n)]


def subnets_of(network: Mapping[str, Any]) -> list[str]:
    """The subnets of one network as the engine describes it (``IPAM.Config``)."""
    configs = (network.get("IPAM") or {}).get("Config") or []
    return [str(c["Subnet"]) for c in configs if c.get("Subnet")]
