"""What a workload gets to work with during a run: the engine, the run's labels, its
scratch directory, the images built so far, and the engine's event stream."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.environment.engine import LABEL_RUN, Engine
from bench.provision import images


@dataclass
class RunContext:
    """Shared state of one run on one engine (``engine`` is None with --allow-no-engine)."""

    run_id: str
    engine: Engine | None
    labels: Mapping[str, str]
    workdir: Path
    built: dict[str, images.BuiltImage] = field(default_factory=dict)
    events: EventLog | None = None
    #: undo actions for things made outside the engine and the scratch directory
    cleanups: list[Callable[[], object]] = field(default_factory=list)

    def image(self, name: str) -> images.BuiltImage:
        """The image *name*, built on first use in this run."""
        if name not in self.built:
            if self.engine is None:
                raise RuntimeError("no engine: cannot build images")
            self.built[name] = images.build(
                self.engine, name, run_id=self.run_id, labels=self.labels
            )
        return self.built[name]

    def require_engine(self) -> Engine:
        if self.engine is None:
            raise RuntimeError("this variant needs an engine")
        return self.engine

    def scratch(self, name: str) -> Path:
        """A directory under the run's scratch directory (created, removed with the run)."""
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def work_root() -> Path:
    """Where runs keep their scratch directories: ``CROSSDOCK_WORKDIR``, else the user's
    cache directory. Not the system temp directory, which is a tmpfs on some systems and
    would make the ``native`` file I/O baseline a memory figure."""
    configured = os.environ.get("CROSSDOCK_WORKDIR")
    if configured:
        return Path(configured)
    return cache_root() / "crossdock"


def cache_root() -> Path:
    """The user's cache directory: ``XDG_CACHE_HOME``, else ``~/.cache``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def alt_root() -> Path:
    """A second host folder beside the work directory, ``<work directory>-alt``: where an
    engine shares more than one folder (crossdock's reference VM shares this one through
    9p, the work directory through virtiofs), the ``bind-alt`` target measures the other."""
    base = work_root()
    return base.with_name(base.name + "-alt")


class EventLog:
    """The engine's container events for this run, collected by a background thread.

    Each event keeps the engine's own ``timeNano``: intervals between engine events are
    differences of engine timestamps only, never mixed with the host clock (DESIGN 4).
    """

    def __init__(self, engine: Engine, run_id: str) -> None:
        self._times: dict[str, dict[str, int]] = defaultdict(dict)
        self._cond = threading.Condition()
        self._stream: Any = engine.api.events(
            decode=True, filters={"type": "container", "label": f"{LABEL_RUN}={run_id}"}
        )
        self._thread = threading.Thread(target=self._pump, name="crossdock-events", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            for event in self._stream:
                cid = event.get("id") or event.get("Actor", {}).get("ID")
                action = str(event.get("Action") or event.get("status") or "")
                if cid and "timeNano" in event:
                    with self._cond:
                        self._times[cid].setdefault(action, int(event["timeNano"]))
                        self._cond.notify_all()
        except Exception:  # noqa: BLE001, S110 - the stream ends when closed; nothing to report
            pass

    def wait_for(self, container_id: str, action: str, timeout: float = 5.0) -> dict[str, int]:
        """The engine timestamps (ns) seen for *container_id* once *action* arrived, or what
        was seen when *timeout* ran out."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while action not in self._times.get(container_id, {}):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return dict(self._times.pop(container_id, {}))

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a dead stream is fine
            self._stream.close()
