"""fio: the job lines crossdock runs and the parser of fio's JSON output.

The same arguments run natively and in containers (DESIGN 4: same tool, same
parameters). Every figure is converted once, here, to SI units: fio's ``bw_bytes`` is
already B/s, ``iops`` op/s, latencies come in ns and leave in s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: the file-name pattern metadata jobs share, so create, stat and delete see the same files
_META_FILES = "crossdock-meta.$filenum"
DATA_FILE = "crossdock.dat"


class FioError(Exception):
    """fio failed or printed something that is not its JSON report."""


@dataclass(frozen=True)
class Job:
    """One fio workload: the I/O pattern and which side of fio's report holds the figures."""

    rw: str
    bs: str
    side: str  # "read" or "write"
    fsync: bool = False

    @property
    def writes(self) -> bool:
        return self.side == "write"


#: workload name -> fio job (the data workloads; ``metadata`` is built separately)
JOBS: dict[str, Job] = {
    "seq-read": Job("read", "1m", "read"),
    "seq-write": Job("write", "1m", "write"),
    "rand-read": Job("randread", "4k", "read"),
    "rand-write": Job("randwrite", "4k", "write"),
    "fsync-write": Job("write", "4k", "write", fsync=True),
}


def data_args(
    workload: str, *, directory: str, size: int, duration: float, direct: bool
) -> list[str]:
    """fio arguments (without the executable) for a data workload in *directory*.

    Time-based over one file of *size* bytes, synchronous I/O (``psync``: available on
    every platform fio runs on), queue depth 1. Buffered writes end with an fsync so the
    figure includes getting the data to the device. The write buffer is filled with random
    bytes once and not scrambled before every write (``scramble_buffers=0``): fio's
    default rewrites part of each buffer inside its clock, which cost 1 MiB sequential
    writes about 15 % of their measured bandwidth on a 2-vCPU Linux host. The price: a
    store that deduplicates blocks (ZFS with ``dedup=on``, say) sees one block repeated.
    """
    job = JOBS[workload]
    args = [
        "--name=crossdock",
        f"--directory={directory}",
        f"--filename={DATA_FILE}",
        f"--size={size}",
        f"--rw={job.rw}",
        f"--bs={job.bs}",
        "--ioengine=psync",
        "--iodepth=1",
        "--numjobs=1",
        "--time_based",
        f"--runtime={max(1, round(duration * 1000))}ms",
        f"--direct={int(direct)}",
        "--invalidate=1",
        "--scramble_buffers=0",
        "--output-format=json",
    ]
    if job.fsync:
        args.append("--fsync=1")
    if job.writes and not direct:
        args.append("--end_fsync=1")
    return args


def metadata_args(*, directory: str, files: int) -> list[str]:
    """fio arguments creating, then stat-ing, then deleting *files* empty-ish files."""
    return [
        f"--directory={directory}",
        f"--nrfiles={files}",
        "--filesize=4k",
        "--openfiles=1",
        f"--filename_format={_META_FILES}",
        "--output-format=json",
        "--name=create",
        "--ioengine=filecreate",
        "--name=stat",
        "--ioengine=filestat",
        "--stonewall",
        "--name=delete",
        "--ioengine=filedelete",
        "--stonewall",
    ]


def probe_args(*, directory: str) -> list[str]:
    """A tiny direct-I/O write: does this filesystem accept ``direct=1``?"""
    return [
        "--name=probe",
        f"--directory={directory}",
        "--filename=crossdock-direct-probe",
        "--size=256k",
        "--bs=4k",
        "--rw=write",
        "--direct=1",
        "--unlink=1",
        "--output-format=json",
    ]


def parse(text: str) -> dict[str, Any]:
    """fio's JSON report from its stdout; text before the JSON (warnings some builds print)
    is skipped. Raises :class:`FioError` when there is no report or a job failed."""
    start = text.find("{")
    if start < 0:
        raise FioError(f"fio printed no JSON report: {text.strip()[:300]!r}")
    try:
        report, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError as e:
        raise FioError(
            f"fio's report is not valid JSON ({e}): {text[start : start + 200]!r}"
        ) from None
    if not isinstance(report, dict) or not isinstance(report.get("jobs"), list):
        raise FioError("fio's report has no jobs")
    for job in report["jobs"]:
        if job.get("error"):
            raise FioError(f"fio job {job.get('jobname')!r} failed with error {job['error']}")
    return report


def data_metrics(report: Mapping[str, Any], workload: str) -> dict[str, float]:
    """Throughput (B/s), IOPS (op/s) and completion-latency p50/p99 (s) of a data workload;
    for ``fsync-write`` also the fsync latency p50/p99 (s). A latency fio did not report is
    left out."""
    job = report["jobs"][0]
    side = job[JOBS[workload].side]
    values = {"bandwidth": float(side["bw_bytes"]), "iops": float(side["iops"])}
    values |= _percentiles(side.get("clat_ns", {}), "lat")
    if JOBS[workload].fsync:
        values |= _percentiles(job.get("sync", {}).get("lat_ns", {}), "fsync")
    return values


def metadata_metrics(report: Mapping[str, Any]) -> dict[str, float]:
    """Files created, stat-ed and deleted per second (fio reports these on its read side)."""
    names = {"create": "create_rate", "stat": "stat_rate", "delete": "delete_rate"}
    return {
        names[job["jobname"]]: float(job["read"]["iops"])
        for job in report["jobs"]
        if job.get("jobname") in names and job["read"]["total_ios"] > 0
    }


def version_line(text: str) -> str:
    """``fio-3.33`` from ``fio --version`` output."""
    return text.strip().splitlines()[0].strip() if text.strip() else "unknown"


def _percentiles(lat: Mapping[str, Any], prefix: str) -> dict[str, float]:
    table = lat.get("percentile") or {}
    found = {}
    for pct, key in (("50.000000", "p50"), ("99.000000", "p99")):
        if pct in table:
            found[f"{prefix}_{key}"] = float(table[pct]) * 1e-9
    return found
