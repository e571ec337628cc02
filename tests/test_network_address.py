"""The address rule of the network workload: loopback, the engine's bridges, and on a
local engine the private host-gateway a VM-backed engine uses to reach the host."""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace
from typing import Any

import pytest

from bench.environment import engine
from bench.errors import SampleError
from bench.workloads.network.addresses import check_address

#: GET /networks of a Docker Desktop for Mac engine, trimmed to what the rule reads
DESKTOP_NETWORKS = [
    {"Name": "bridge", "Driver": "bridge", "IPAM": {"Config": [{"Subnet": "172.17.0.0/16"}]}},
    {"Name": "host", "Driver": "host", "IPAM": {"Config": []}},
    {"Name": "none", "Driver": "null", "IPAM": {"Config": []}},
]
#: what host.docker.internal resolves to in a Docker Desktop container (host-gateway)
DESKTOP_HOST_GATEWAY = "192.168.65.254"


def fake_engine(endpoint: str) -> Any:
    return SimpleNamespace(
        api=SimpleNamespace(networks=lambda: DESKTOP_NETWORKS),
        target=SimpleNamespace(endpoint=endpoint),
    )


LOCAL = "unix:///Users/someone/.docker/run/docker.sock"


def test_a_local_engines_private_host_gateway_is_allowed_for_to_host_only() -> None:
    check_address(fake_engine(LOCAL), DESKTOP_HOST_GATEWAY, host_gateway=True)
    with pytest.raises(SampleError, match=r"refusing to use 192\.168\.65\.254"):
        check_address(fake_engine(LOCAL), DESKTOP_HOST_GATEWAY)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "0.0.0.0", "224.0.0.1", "2001:4860:4860::8888", "host.docker.internal"]
)
def test_public_unspecified_or_named_addresses_are_never_allowed(address: str) -> None:
    with pytest.raises(SampleError, match="refusing"):
        check_address(fake_engine(LOCAL), address, host_gateway=True)


def test_a_remote_engines_gateway_is_refused() -> None:
    with pytest.raises(SampleError, match="private host-gateway address of a local engine"):
        check_address(fake_engine("tcp://10.1.2.3:2376"), "10.1.2.1", host_gateway=True)


@pytest.mark.engine
def test_the_live_engines_bridge_gateway_is_allowed(live_engine: engine.Engine) -> None:
    config = live_engine.api.inspect_network("bridge")["IPAM"]["Config"][0]
    # a freshly started dockerd may record no Gateway for the default bridge: the daemon
    # then gives the bridge the subnet's first address
    gateway = config.get("Gateway") or str(next(ipaddress.ip_network(config["Subnet"]).hosts()))
    check_address(live_engine, gateway)
    check_address(live_engine, "127.0.0.1")
