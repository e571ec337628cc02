"""One engine's part of a run: its results file and the cleanup scope of what it makes.

A :class:`Session` is opened with its results file written at once (``partial``) and
rewritten atomically after every step (:meth:`Session.store`). :func:`running` is the
cleanup scope: each session's :func:`run_context` for the block, then every object
labelled with the run id and the scratch directory removed, however the block ends; the
files are marked ``complete`` when it ends normally, ``partial`` when it raises. The driver
and ``crossdock validate`` both measure inside sessions.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import results
from bench.environment import engine, host
from bench.environment.engine import Engine
from bench.environment.platform import Platform
from bench.environment.records import (
    finish_document,
    new_document,
    new_run_id,
    platform_record,
)
from bench.errors import (
    EngineLostError,
    NoEngineError,
    ProvisionError,
    ResultsWriteError,
    UnusableEngineError,
    first_line,
)
from bench.provision import places
from bench.provision.context import EventLog, RunContext, work_root


@dataclass
class Session:
    """One engine's part of a run: its engine (or why there is none), results document and
    file. ``document`` is always what the file holds."""

    eng: Engine | NoEngineError
    document: results.RunDocument
    path: Path

    @property
    def live(self) -> Engine | None:
        return self.eng if isinstance(self.eng, Engine) else None

    @property
    def run_id(self) -> str:
        return str(self.document.run["id"])

    def store(self, document: results.RunDocument) -> None:
        """Keep *document* as this session's, on disk first (atomically); raises
        :class:`ResultsWriteError` saying how to finish the run when it cannot be written."""
        try:
            results.write_atomic(self.path, document)
        except OSError as e:
            raise ResultsWriteError(
                f"cannot write {self.path}: {e.strerror or e}. The file keeps its last "
                "complete version (every scenario finished before this one); free space or "
                f"choose another --out, then finish with: crossdock run --resume {self.path}"
            ) from None
        self.document = document

    def add(self, measured: Sequence[results.Result]) -> None:
        """Store *measured* after the results stored so far."""
        self.store(replace(self.document, results=self.document.results + tuple(measured)))

    def probe_file_sharing(self, ctx: RunContext) -> None:
        """Store ``platform.file_sharing`` as a probe on *ctx* finds it, unless a probe already
        found it (a resumed run)."""
        known = self.document.platform
        if known.get("file_sharing") is not None:
            return
        probed = with_file_sharing(_platform(known), ctx)
        self.store(replace(self.document, platform={**known, **probed.to_json()}))


def open_session(
    *,
    eng: Engine | NoEngineError,
    context: str | None,
    out: Path,
    argv: Sequence[str],
    run_extra: Mapping[str, Any] | None = None,
) -> Session:
    """A new session on *eng* whose results file, under *out*, is written at once
    (``partial``); its ``run`` record holds *run_extra* besides the usual keys."""
    run_id = new_run_id()
    document = new_document(run_id=run_id, eng=eng, context=context, argv=argv, run_extra=run_extra)
    path = results.result_path(out, str(document.platform["id"]), run_id)
    session = Session(eng, document, path)
    session.store(document)
    return session


@contextmanager
def running(sessions: Sequence[Session]) -> Iterator[list[RunContext]]:
    """Each session's :func:`run_context`, in order, for measuring in the block.

    When the block raises, each file is marked ``partial`` with its end time (a file that
    cannot be written keeps its last version), everything is cleaned up and the error goes
    on; when it ends normally, everything is cleaned up and each file marked ``complete``.
    """
    with contextlib.ExitStack() as stack:
        try:
            yield [stack.enter_context(run_context(s.run_id, s.live)) for s in sessions]
        except BaseException:
            for session in sessions:
                with contextlib.suppress(ResultsWriteError):
                    session.store(finish_document(session.document, complete=False))
            raise
    for session in sessions:
        session.store(finish_document(session.document, complete=True))


@contextmanager
def run_context(run_id: str, eng: Engine | None) -> Iterator[RunContext]:
    """The run's context with a fresh scratch directory; on leaving (however) removes every
    object labelled with the run id and the scratch directory, and closes *eng*. Raises
    :class:`ProvisionError` when no scratch directory can be made."""
    try:
        workdir = _new_workdir(run_id)
    except ProvisionError:
        if eng is not None:
            eng.close()
        raise
    ctx = RunContext(run_id=run_id, engine=eng, labels=engine.labels(run_id), workdir=workdir)
    try:
        if eng is not None:
            eng.remove_orphans()
            ctx.events = EventLog(eng, run_id)
        yield ctx
    finally:
        if ctx.events is not None:
            ctx.events.close()
        for undo in reversed(ctx.cleanups):
            with contextlib.suppress(Exception):
                undo()
        if eng is not None:
            # an engine that went away cannot be cleaned now; the next run removes the
            # leftovers (their owner process is gone by then)
            with contextlib.suppress(Exception):
                eng.cleanup(run_id)
            eng.close()
        shutil.rmtree(workdir, ignore_errors=True)


#: marks a scratch directory with the machine and process that own it
_OWNER = ".crossdock-owner"


def scratch_root() -> Path:
    """The directory runs keep their scratch directories in (:func:`work_root`), made if
    needed and tried; :class:`ProvisionError` says when nothing can be made there. Checking
    it first lets a run fail before it writes anything."""
    root = work_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        Path(tempfile.mkdtemp(prefix=".trial-", dir=root)).rmdir()
    except OSError as e:
        raise ProvisionError(_no_scratch(root, e)) from None
    return root


def _new_workdir(run_id: str) -> Path:
    """A scratch directory of this run, owned by this process (after removing those of
    this machine's runs whose process is gone)."""
    root = work_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        _sweep_scratch(root)
        workdir = Path(tempfile.mkdtemp(prefix=f"{run_id}-", dir=root))
        (workdir / _OWNER).write_text(f"{host.host_id()} {os.getpid()}\n", encoding="utf-8")
    except OSError as e:
        raise ProvisionError(_no_scratch(root, e)) from None
    return workdir


def _no_scratch(root: Path, error: OSError) -> str:
    return (
        f"cannot make a scratch directory in {root}: {error.strerror or error}. Point "
        "CROSSDOCK_WORKDIR at a writable directory on a local disk (the native file I/O "
        "baseline is measured there)"
    )


def _sweep_scratch(root: Path) -> None:
    """Remove scratch directories of runs of this machine whose process is gone."""
    for owner in root.glob(f"*/{_OWNER}"):
        try:
            machine, pid = owner.read_text(encoding="utf-8").split()
        except (OSError, ValueError):
            continue
        if machine == host.host_id() and pid.isdigit() and not host.alive(int(pid)):
            shutil.rmtree(owner.parent, ignore_errors=True)


# --- what the engine is ------------------------------------------------------------------------


def with_file_sharing(record: Platform, ctx: RunContext) -> Platform:
    """*record* with ``file_sharing`` probed on *ctx*'s engine (DESIGN 3.3); a probe that
    fails says why in ``detection`` instead of guessing. Unchanged without an engine;
    raises :class:`EngineLostError` when the engine stopped answering."""
    if ctx.engine is None:
        return record
    try:
        fs_type, reason = places.probe_file_sharing(ctx)
    except Exception as e:  # noqa: BLE001 - a failed probe is recorded, not fatal
        check_engine(ctx)
        fs_type, reason = None, _probe_failed(e)
    return record.with_file_sharing(fs_type, reason)


def probed_platform(eng: Engine) -> Platform:
    """*eng*'s platform record with its file sharing probed, in a cleanup scope of its own
    (*eng* is closed after). Without a scratch directory to bind-mount, the record says so."""
    record = platform_record(eng)
    try:
        with run_context(new_run_id(), eng) as ctx:
            return with_file_sharing(record, ctx)
    except ProvisionError as e:
        return record.with_file_sharing(None, _probe_failed(e))


def _probe_failed(error: Exception) -> str:
    return f"file-sharing probe failed: {first_line(error, 500)}"


def _platform(record: Mapping[str, Any]) -> Platform:
    """A results document's ``platform`` record as a :class:`Platform`."""
    return Platform(
        id=str(record["id"]),
        family=str(record["family"]),
        host_os=str(record["host_os"]),
        vm=record["vm"],
        file_sharing=record["file_sharing"],
        detection=tuple(record["detection"]),
    )


def check_engine(ctx: RunContext) -> None:
    """Raise :class:`EngineLostError` when *ctx*'s engine stopped answering: after a
    failure, it tells a lost engine (which ends the run) from a failed measurement."""
    if ctx.engine is not None and not ctx.engine.ping():
        raise EngineLostError(
            f"the engine at {ctx.engine.target.endpoint} stopped answering; the results "
            "measured so far are kept. Restart the engine and run again."
        )


def no_engine_reason(eng: Engine | NoEngineError) -> str | None:
    """Why variants that need an engine are skipped in a session on *eng* (None: they run)."""
    if isinstance(eng, UnusableEngineError):
        return f"no usable engine: {first_line(eng, None)}"
    if isinstance(eng, NoEngineError):
        virtualization = host.hypervisor_problem()
        prefix = f"{virtualization}; " if virtualization else ""
        return f"{prefix}no engine: {first_line(eng, None)}"
    return None
