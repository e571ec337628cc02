"""The records of a results document that describe where it was measured.

A run's ``run``, ``host``, ``engine`` and ``platform`` sections (DESIGN 3.2), read from
the engine and the host at run time: :func:`new_document` starts a document with them,
:func:`finish_document` closes it.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bench import results
from bench.environment import host, platform
from bench.environment.engine import Engine
from bench.environment.privacy import scrubbed, shareable_endpoint, shareable_info
from bench.errors import NoEngineError, UnusableEngineError, first_line
from bench.version import __version__


def new_document(
    *,
    run_id: str,
    eng: Engine | NoEngineError,
    context: str | None,
    argv: Sequence[str],
    run_extra: Mapping[str, Any] | None = None,
) -> results.RunDocument:
    """A new, still ``partial`` results document: run, host, engine and platform records."""
    live = eng.engine if isinstance(eng, UnusableEngineError) else eng
    return results.RunDocument(
        run={
            "id": run_id,
            "started_at": now(),
            "finished_at": None,
            "harness_version": __version__,
            "argv": list(argv),
            "status": "partial",
            "context": context,
            **(run_extra or {}),
        },
        host=host.facts(),
        engine=engine_record(live if isinstance(live, Engine) else None),
        platform=_shareable(platform_record(eng).to_json(), live),
    )


def _shareable(record: dict[str, Any], eng: object) -> dict[str, Any]:
    """A platform record whose detection reasons name no machine, engine or user."""
    if not isinstance(eng, Engine):
        return record
    reasons = [scrubbed(r, eng.info, eng.target.endpoint) for r in record["detection"]]
    return {**record, "detection": reasons}


def finish_document(document: results.RunDocument, *, complete: bool) -> results.RunDocument:
    """*document* with its end time set, and marked ``complete`` when *complete*."""
    run = {**document.run, "finished_at": now()}
    if complete:
        run["status"] = "complete"
    return replace(document, run=run)


def new_run_id() -> str:
    """A sortable, unique run id: UTC start time and random suffix."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def now() -> str:
    """The current UTC time as results files record it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def engine_record(eng: Engine | None) -> dict[str, Any]:
    """The ``engine`` section: what is in effect, read from the engine at run time."""
    info = eng.info if eng else {}
    version = eng.version if eng else {}
    return {
        "server_version": info.get("ServerVersion"),
        "api_version": version.get("ApiVersion"),
        "operating_system": info.get("OperatingSystem"),
        "kernel_version": info.get("KernelVersion"),
        "os_type": info.get("OSType"),
        "architecture": info.get("Architecture"),
        "ncpu": info.get("NCPU"),
        "mem_total": info.get("MemTotal"),
        "storage_driver": info.get("Driver"),
        "cgroup_driver": info.get("CgroupDriver"),
        "cgroup_version": info.get("CgroupVersion"),
        # not exposed by the engine API; the network workload probes it where it matters
        "userland_proxy": None,
        "context": eng.target.context if eng else None,
        "endpoint": shareable_endpoint(eng.target.endpoint) if eng else None,
        "cli_version": _cli_version(eng) if eng else None,
        "raw_info": shareable_info(info),
        "raw_version": version,
    }


def _cli_version(eng: Engine) -> str | None:
    cli = eng.cli()
    if cli is None:
        return None
    try:
        out = subprocess.run(
            [*cli, "version", "--format", "{{.Client.Version}}"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def platform_record(eng: Engine | NoEngineError) -> platform.Platform:
    """What platform this engine is, and how we know (DESIGN 3.3)."""
    if isinstance(eng, UnusableEngineError) and isinstance(eng.engine, Engine):
        return platform_record(eng.engine)
    if isinstance(eng, NoEngineError):
        return platform.Platform(
            id="unknown",
            family="unknown",
            host_os=host.host_os(),
            vm=None,
            file_sharing=None,
            detection=tuple(
                reason
                for reason in (
                    host.hypervisor_problem(),
                    f"no engine answered: {first_line(eng, None)}",
                )
                if reason
            ),
        )
    return platform.detect(
        info=eng.info,
        version=eng.version,
        host_os=host.host_os(),
        wsl=host.in_wsl(),
        context=eng.target.context,
        endpoint=eng.target.endpoint,
    )
