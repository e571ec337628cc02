"""Containers the harness creates: each with the labels of the run it belongs to, and
removed whatever happens.

:func:`run` is the whole life of a short container: create, start, wait for its exit,
read what it printed, remove. Its steps are here one by one for the callers that act or
time between them: :func:`create` (and :func:`timed_create`), :func:`wait_exit`,
:func:`remove`; :func:`exec_run` runs a command in a running container. Every container
starts from a :class:`Spec`, which cannot be made without the run's labels: the run's
cleanup finds what an interrupted run left behind by them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import docker.errors
import requests.exceptions

from bench import signals
from bench.errors import SampleError
from bench.provision.processes import Output, decoded


@dataclass(frozen=True)
class Spec:
    """A container to create: its image and command, the labels of the run
    (``RunContext.labels``), its ``host_config`` (from the API's ``create_host_config``),
    the ports it exposes (for publishing) and its entrypoint when not the image's."""

    image: str
    command: Sequence[str]
    labels: Mapping[str, str]
    host_config: Mapping[str, Any]
    ports: Sequence[int] | None = None
    entrypoint: Sequence[str] | None = None

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of the API's ``create_container``."""
        return {
            "image": self.image,
            "command": list(self.command),
            "labels": dict(self.labels),
            "host_config": dict(self.host_config),
            "ports": list(self.ports) if self.ports is not None else None,
            "entrypoint": list(self.entrypoint) if self.entrypoint is not None else None,
        }


def create(api: Any, spec: Spec) -> str:
    """Create the container *spec* describes (not started); its id."""
    return timed_create(api, spec)[0]


def timed_create(api: Any, spec: Spec) -> tuple[str, int, int]:
    """Create the container *spec* describes; its id, and :func:`time.perf_counter_ns`
    read right before and right after the engine's create call.

    Interrupts are held until the call returns: an interrupted create finishes
    server-side, unseen by the run's cleanup. The clock is read inside the hold, so only
    the call lies between the two readings.
    """
    arguments = spec.arguments()
    with signals.deferred():
        began = time.perf_counter_ns()
        cid = api.create_container(**arguments)["Id"]
        ended = time.perf_counter_ns()
    return str(cid), began, ended


def wait_exit(api: Any, cid: str, timeout: float) -> int:
    """Wait for container *cid* to exit; its exit status. When it has not exited within
    *timeout* seconds it is removed and :class:`SampleError` raised."""
    try:
        return int(api.wait(cid, timeout=timeout)["StatusCode"])
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        remove(api, cid)
        raise SampleError(f"container did not exit within the {timeout:g} s timeout") from None


def remove(api: Any, cid: str) -> None:
    """Remove container *cid* and its anonymous volumes, running or not, if it exists."""
    with contextlib.suppress(docker.errors.NotFound):
        api.remove_container(cid, v=True, force=True)


def run(api: Any, spec: Spec, *, timeout: float) -> Output:
    """Run the container *spec* describes to its exit and say what it printed; it is
    removed in every case, and when it has not exited within *timeout* seconds
    :class:`SampleError` is raised (:func:`wait_exit`)."""
    cid = create(api, spec)
    try:
        api.start(cid)
        code = wait_exit(api, cid, timeout)
        stdout = decoded(api.logs(cid, stdout=True, stderr=False))
        return Output(code, stdout, decoded(api.logs(cid, stdout=False, stderr=True)))
    finally:
        remove(api, cid)


def exec_run(api: Any, cid: str, argv: Sequence[str]) -> Output:
    """Run *argv* inside running container *cid* to completion and say what it printed.

    Nothing ends an exec from outside: a command that may hang carries its own limit
    (busybox ``timeout``), or ends when its container is removed.
    """
    exec_id = api.exec_create(cid, list(argv), stdout=True, stderr=True)["Id"]
    stdout, stderr = api.exec_start(exec_id, demux=True)
    code = api.exec_inspect(exec_id)["ExitCode"]
    return Output(int(code or 0), decoded(stdout), decoded(stderr))
