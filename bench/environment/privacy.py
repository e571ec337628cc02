"""What of the engine's own description may go into a results file, which people share.

``docker info`` names the daemon's machine (``Name``, equal to the host name on a Linux
host), gives the engine a stable identifier (``ID``, and a swarm node's ``NodeID`` and
addresses) and may carry proxy URLs; an endpoint like ``ssh://alice@laptop`` names a user
and a machine. These are kept as short hashes (the same value still compares equal
across a person's own runs) or as "set", never in clear. Home paths are written as ``~``
for the whole document by :func:`bench.results.write_atomic`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from bench.environment.host import hash_hostname

#: ``docker info`` keys whose value identifies a machine or an engine: kept hashed.
HASHED_INFO_KEYS = ("Name", "ID")
#: ``docker info`` ``Swarm`` keys that identify a node or its peers: kept hashed.
HASHED_SWARM_KEYS = ("NodeID", "NodeAddr")
#: ``docker info`` keys whose value may hold credentials or private host names.
SET_OR_EMPTY_KEYS = ("HttpProxy", "HttpsProxy", "NoProxy")
#: What a value that was present but is not shared reads as.
SET = "(set)"


def hashed(value: str) -> str:
    """*value* as results carry an identifying string: a short, stable hash."""
    return f"sha256:{hash_hostname(value)}"


def shareable_info(info: Mapping[str, Any]) -> dict[str, Any]:
    """``docker info`` (API JSON) with the engine's and machine's identifiers hashed and
    proxy settings reduced to whether they are set."""
    shared = dict(info)
    for key in HASHED_INFO_KEYS:
        if shared.get(key):
            shared[key] = hashed(str(shared[key]))
    for key in SET_OR_EMPTY_KEYS:
        if shared.get(key):
            shared[key] = SET
    swarm = shared.get("Swarm")
    if isinstance(swarm, Mapping):
        swarm = dict(swarm)
        for key in HASHED_SWARM_KEYS:
            if swarm.get(key):
                swarm[key] = hashed(str(swarm[key]))
        if swarm.get("RemoteManagers"):
            swarm["RemoteManagers"] = SET
        shared["Swarm"] = swarm
    return shared


_LOOPBACK = re.compile(r"^(localhost|127(?:\.\d{1,3}){3}|\[?::1\]?)$")


def shareable_endpoint(endpoint: str | None) -> str | None:
    """*endpoint* without a user name, and with a remote machine's name hashed:
    ``ssh://alice@laptop:22`` becomes ``ssh://host-…:22``; local sockets, pipes and
    loopback addresses are kept as they are (their home paths become ``~`` on writing)."""
    if not endpoint or "://" not in endpoint:
        return endpoint
    parts = urlsplit(endpoint)
    if parts.scheme in ("unix", "npipe") or parts.hostname is None:
        return endpoint
    if _LOOPBACK.match(parts.hostname):
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    else:
        host = f"host-{hash_hostname(parts.hostname)}"
    port = f":{parts.port}" if parts.port else ""
    rest = endpoint.split(parts.netloc, 1)[1]
    return f"{parts.scheme}://{host}{port}{rest}"


def scrubbed(text: str, info: Mapping[str, Any], endpoint: str | None) -> str:
    """*text* (a detection reason) with the engine's identifiers and the endpoint written
    as :func:`shareable_info` and :func:`shareable_endpoint` write them."""
    if endpoint:
        text = text.replace(endpoint, shareable_endpoint(endpoint) or "")
    for key in HASHED_INFO_KEYS:
        value = info.get(key)
        if isinstance(value, str) and len(value) > 2:
            text = text.replace(value, hashed(value))
    return text
