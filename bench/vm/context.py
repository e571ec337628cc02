"""The docker context of the reference VM, written and removed as the docker CLI keeps
contexts: ``$DOCKER_CONFIG/contexts/meta/<sha256 of the name>/meta.json``."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from bench.vm.layout import CONTEXT, Layout


def _docker_config() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def _context_meta() -> Path:
    """The docker CLI's metadata folder of :data:`CONTEXT` (named by its name's SHA-256)."""
    digest = hashlib.sha256(CONTEXT.encode()).hexdigest()
    return _docker_config() / "contexts" / "meta" / digest


def create_context(lay: Layout) -> None:
    """The docker context for the forwarded socket, written as the docker CLI writes one
    (replacing one of that name).
    An empty ``config.json`` is written where there is none: without it the Docker SDK
    does not find contexts."""
    config = _docker_config() / "config.json"
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("{}\n", encoding="utf-8")
    meta = {
        "Name": CONTEXT,
        "Metadata": {"Description": "crossdock's reference VM (crossdock vm up)"},
        "Endpoints": {"docker": {"Host": f"unix://{lay.docker_sock}", "SkipTLSVerify": False}},
    }
    _context_meta().mkdir(parents=True, exist_ok=True)
    (_context_meta() / "meta.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")


def remove_context(lay: Layout) -> bool:
    """Remove the context if it is this VM's (its endpoint is *lay*'s socket)."""
    try:
        meta = json.loads((_context_meta() / "meta.json").read_text(encoding="utf-8"))
        host = meta["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if host != f"unix://{lay.docker_sock}":
        return False
    shutil.rmtree(_context_meta())
    return True
