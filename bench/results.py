"""Results files: the schema-v1 data model, atomic writing and validated reading.

One JSON document per run per engine at ``results/<platform-id>/<run-id>.json``
(DESIGN 3.2). The writer rewrites the whole document atomically (temporary file in the
same directory, fsync, rename) after every completed scenario, so a reader only ever
sees a complete, valid document, and an interrupted run keeps what it measured.

Schema change log (bump :data:`SCHEMA_VERSION` and add an up-converter to
:data:`UPCONVERTERS` for every change):

- 1: first version. Variant parameters a kind gained since, within version 1, are in
  :data:`ADDED_PARAMS` with the value results written before them had; :func:`from_json`
  fills them in, so old and new results of the same variant compare as the same.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.errors import ResultsError, ResultsWriteError
from bench.kinds import ADDED_PARAMS, KINDS
from bench.metrics import UNITS, Direction, metric
from bench.plan import Scalar

SCHEMA_VERSION = 1

Status = Literal["ok", "skipped", "failed"]
RunStatus = Literal["complete", "partial"]

STATUSES: tuple[str, ...] = ("ok", "skipped", "failed")
RUN_STATUSES: tuple[str, ...] = ("complete", "partial")

#: schema version -> function converting a document of that version to the next one.
UPCONVERTERS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

_RUN_KEYS = ("id", "started_at", "finished_at", "harness_version", "argv", "status")
_ENGINE_KEYS = (
    "server_version",
    "api_version",
    "operating_system",
    "kernel_version",
    "os_type",
    "architecture",
    "ncpu",
    "mem_total",
    "storage_driver",
    "userland_proxy",
    "raw_info",
)
_HOST_KEYS = ("os", "os_version", "arch", "cpu_model", "cpu_count", "memory_bytes", "hostname_hash")
_PLATFORM_KEYS = ("id", "family", "host_os", "vm", "file_sharing", "detection")


@dataclass(frozen=True)
class Metric:
    """Raw samples of one metric, one per repetition, in the metric's SI unit."""

    name: str
    unit: str
    direction: Direction
    samples: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"metric {self.name!r}: unknown unit {self.unit!r} (valid: {UNITS})")
        if self.direction not in ("lower", "higher"):
            raise ValueError(f"metric {self.name!r}: direction must be 'lower' or 'higher'")
        if not all(map(math.isfinite, self.samples)):
            raise ValueError(f"metric {self.name!r}: samples must be finite numbers")

    @classmethod
    def of(cls, name: str, samples: Iterable[float]) -> Metric:
        """*samples* of metric *name*, with the unit and direction of the metric table
        (:mod:`bench.metrics`); KeyError naming the valid metrics for an unknown *name*."""
        definition = metric(name)
        return cls(name, definition.unit, definition.direction, tuple(samples))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "direction": self.direction,
            "samples": list(self.samples),
        }


@dataclass(frozen=True)
class Result:
    """One scenario variant's outcome: its status, the reason when not ok, and its metrics."""

    scenario: str
    kind: str
    variant: Mapping[str, Scalar]
    status: Status
    reason: str | None = None
    metrics: tuple[Metric, ...] = ()
    tool: Mapping[str, str] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"result {self.scenario!r}: unknown kind {self.kind!r} (valid: {KINDS})"
            )
        if self.status not in STATUSES:
            raise ValueError(f"result {self.scenario!r}: unknown status {self.status!r}")
        if self.status != "ok" and not self.reason:
            raise ValueError(f"result {self.scenario!r}: status {self.status!r} needs a reason")

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "kind": self.kind,
            "variant": dict(self.variant),
            "status": self.status,
            "reason": self.reason,
            "metrics": [m.to_json() for m in self.metrics],
            "tool": dict(self.tool) if self.tool is not None else None,
            "extra": dict(self.extra),
        }


@dataclass(frozen=True)
class RunDocument:
    """A whole results file. ``host``, ``engine`` and ``platform`` are open records whose
    required keys are checked; ``results`` are validated :class:`Result` objects."""

    run: Mapping[str, Any]
    host: Mapping[str, Any]
    engine: Mapping[str, Any]
    platform: Mapping[str, Any]
    results: tuple[Result, ...] = ()

    def __post_init__(self) -> None:
        for section, keys in (
            ("run", _RUN_KEYS),
            ("host", _HOST_KEYS),
            ("engine", _ENGINE_KEYS),
            ("platform", _PLATFORM_KEYS),
        ):
            missing = [k for k in keys if k not in getattr(self, section)]
            if missing:
                raise ValueError(f"section {section!r} lacks {', '.join(missing)}")
        if self.run["status"] not in RUN_STATUSES:
            raise ValueError(f"run.status must be one of {RUN_STATUSES}")

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "run": dict(self.run),
            "host": dict(self.host),
            "engine": dict(self.engine),
            "platform": dict(self.platform),
            "results": [r.to_json() for r in self.results],
        }


def result_path(out: Path, platform_id: str, run_id: str) -> Path:
    """Where a run's file lives: ``<out>/<platform-id>/<run-id>.json``."""
    return out / platform_id / f"{run_id}.json"


def write_atomic(path: Path, document: RunDocument) -> None:
    """Write *document* to *path* so that *path* is always either the old or the new file.

    The text is rendered before any file is touched, so a serialisation error writes
    nothing; a failing disk leaves the previous version and no temporary file behind.
    """
    text = json.dumps(redact_home(document.to_json()), indent=1, allow_nan=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, document: Any) -> None:
    """Write a JSON *document* that is not a results file (a comparison, the calls of a
    history) to *path*, its folder created; a failure to write raises
    :class:`ResultsWriteError` naming the path."""
    text = json.dumps(document, indent=1, allow_nan=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise ResultsWriteError(f"{path}: cannot write ({e.strerror or e})") from None


def redact_home(value: Any, home: str | None = None) -> Any:
    """*value* with the user's home directory written as ``~`` in every string: results
    files are shared, and a home path names its user."""
    home = home if home is not None else str(Path.home())
    if isinstance(value, str):
        if len(home) <= 1:
            return value
        # the home directory as a whole path component only: /root, not /rootfs
        return re.sub(re.escape(home) + r"(?![\w.-])", "~", value)
    if isinstance(value, dict):
        return {k: redact_home(v, home) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_home(v, home) for v in value]
    return value


def read(path: Path) -> RunDocument:
    """Load and validate a results file, up-converting older schema versions.

    Raises :class:`ResultsError` naming the file and the problem for unreadable, truncated,
    foreign or future-version files.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ResultsError(f"{path}: cannot read ({e.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ResultsError(f"{path}: not valid JSON ({e}); truncated or corrupt?") from None
    return from_json(data, source=str(path))


def from_json(data: Any, *, source: str = "<document>") -> RunDocument:
    """Validate a decoded results document (see :func:`read`)."""
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ResultsError(f"{source}: not a crossdock results file (no schema_version)")
    version = data["schema_version"]
    if not isinstance(version, int) or version < 1:
        raise ResultsError(f"{source}: invalid schema_version {version!r}")
    if version > SCHEMA_VERSION:
        raise ResultsError(
            f"{source}: schema version {version} is newer than this crossdock understands "
            f"({SCHEMA_VERSION}); upgrade crossdock to read it"
        )
    while version < SCHEMA_VERSION:
        data = UPCONVERTERS[version](data)
        version += 1
    try:
        return RunDocument(
            run=_section(data, "run"),
            host=_section(data, "host"),
            engine=_section(data, "engine"),
            platform=_section(data, "platform"),
            results=tuple(_result(r) for r in _list(data, "results")),
        )
    except (ValueError, TypeError, KeyError) as e:
        raise ResultsError(f"{source}: invalid results file: {e}") from None


def _section(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"section {key!r} missing or not an object")
    return value


def _list(data: Mapping[str, Any], key: str) -> Sequence[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ValueError(f"{key!r} missing or not a list")
    return value


def _result(data: Any) -> Result:
    if not isinstance(data, dict):
        raise ValueError("a result is not an object")
    return Result(
        scenario=str(data["scenario"]),
        kind=str(data["kind"]),
        variant={**ADDED_PARAMS.get(str(data["kind"]), {}), **data["variant"]},
        status=data["status"],
        reason=data.get("reason"),
        metrics=tuple(
            Metric(
                name=str(m["name"]),
                unit=str(m["unit"]),
                direction=m["direction"],
                samples=tuple(map(float, m["samples"])),
            )
            for m in _list(data, "metrics")
        ),
        tool=data.get("tool"),
        extra=dict(data.get("extra") or {}),
    )
