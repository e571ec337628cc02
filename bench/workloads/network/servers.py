"""Where the network workload's programs run: servers and clients on the host and in
labelled containers, each started, waited for and stopped within a repetition's
:class:`Deadline`.

A server is started for one repetition and stopped when the repetition's
:class:`contextlib.ExitStack` closes (a host process with its whole process group, a
container removed); it counts as started once it prints its program's ready line, not
after a sleep (:func:`await_ready`). A client runs to completion and comes back as an
:class:`~bench.provision.processes.Output`.
"""

from __future__ import annotations

import contextlib
import functools
import math
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from typing import IO

from bench.environment.engine import Engine
from bench.errors import SampleError
from bench.provision import containers, processes
from bench.provision.context import RunContext
from bench.provision.processes import Output, decoded, output_tail
from bench.workloads.network.addresses import LOOPBACK, check_address
from bench.workloads.network.programs import Program

#: the image every container of the workload runs
IMAGE = "tools"
#: how often a server's output is looked at while waiting for it to listen
POLL_S = 0.02


class Deadline:
    """The scenario's timeout for one repetition, counted from its start."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; raises :class:`SampleError` once none are."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise SampleError(f"not done within the scenario timeout of {self.seconds:g} s; killed")
        return left


# --- on the host ------------------------------------------------------------------------------


def host_server(
    stack: contextlib.ExitStack,
    program: Program,
    bind: str,
    deadline: Deadline,
    engine: Engine | None,
) -> int:
    """Start *program*'s server on the host at *bind* (a free port), stopped with its
    whole process group when *stack* closes; returns the port once it listens."""
    check_address(engine, bind)
    port = processes.free_port(bind)
    proc = processes.spawn(on_host(program.server(bind, port)), stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    lines: list[str] = []
    pump = threading.Thread(target=_collect, args=(proc.stdout, lines), daemon=True)
    pump.start()
    stack.callback(pump.join, 5)  # after stop: callbacks run last in, first out
    stack.callback(processes.stop, proc)
    await_ready(
        lambda: ("".join(lines), proc.poll() is None), program.ready, deadline, "the host server"
    )
    return port


def host_client(argv: list[str], deadline: Deadline) -> Output:
    """Run *argv* on the host to completion within *deadline*; on timeout its whole
    process group is killed and :class:`SampleError` raised."""
    try:
        return processes.run(on_host(argv), timeout=deadline.remaining())
    except subprocess.TimeoutExpired:
        raise SampleError(
            f"`{argv[0]}` not done within the scenario timeout of {deadline.seconds:g} s; killed"
        ) from None


def _collect(stream: IO[bytes], lines: list[str]) -> None:
    for line in stream:
        lines.append(decoded(line))


def on_host(argv: list[str]) -> list[str]:
    """*argv* with the tool's name replaced by its path on the host."""
    return [processes.which(argv[0]), *argv[1:]]


@functools.cache
def host_tool_version(tool: str) -> str:
    """The first line *tool* prints about its version on the host, or ``unknown``."""
    exe = shutil.which(tool)
    if exe is None:
        return "unknown (not installed)"
    argv = [exe, "--version"] if tool == "iperf3" else [exe]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = processes.run(argv, timeout=10)
        lines = str(out.stdout or out.stderr).strip().splitlines()
        if lines:
            return lines[0].strip()
    return "unknown"


# --- in containers ----------------------------------------------------------------------------


def container_server(
    ctx: RunContext,
    stack: contextlib.ExitStack,
    program: Program,
    deadline: Deadline,
    *,
    network: str,
    bind: str | None = None,
    publish: bool = False,
) -> str:
    """Start *program*'s server in a labelled container on *network* (its port published
    on 127.0.0.1 only when *publish*), removed when *stack* closes; returns its id once
    the server listens."""
    api = ctx.require_engine().api
    host_config = api.create_host_config(
        network_mode=network,
        port_bindings={program.port: (LOOPBACK, None)} if publish else None,
    )
    spec = containers.Spec(
        ctx.image(IMAGE).tag,
        program.server(bind, program.port),
        ctx.labels,
        host_config,
        ports=[program.port] if publish else None,
    )
    cid = containers.create(api, spec)
    stack.callback(containers.remove, api, cid)
    api.start(cid)

    def state() -> tuple[str, bool]:
        logs = decoded(api.logs(cid, stdout=True, stderr=True))
        return logs, api.inspect_container(cid)["State"]["Running"]

    await_ready(state, program.ready, deadline, "the server container")
    return cid


def container_client(
    ctx: RunContext,
    argv: list[str],
    deadline: Deadline,
    *,
    network: str | None,
    extra_hosts: Mapping[str, str] | None = None,
) -> Output:
    """Run *argv* in a new labelled container on *network* to completion; the container
    is removed in every case, and killed when *deadline* passes."""
    api = ctx.require_engine().api
    host_config = api.create_host_config(
        network_mode=network or "bridge", extra_hosts=dict(extra_hosts) if extra_hosts else None
    )
    spec = containers.Spec(ctx.image(IMAGE).tag, argv, ctx.labels, host_config)
    return containers.run(api, spec, timeout=deadline.remaining())


def exec_client(ctx: RunContext, cid: str, argv: list[str], deadline: Deadline) -> Output:
    """Run *argv* inside container *cid*, killed by busybox ``timeout`` inside it when
    *deadline* passes."""
    seconds = max(1, math.ceil(deadline.remaining()))
    api = ctx.require_engine().api
    output = containers.exec_run(api, cid, ["timeout", "-s", "KILL", str(seconds), *argv])
    if output.code == 128 + 9:
        raise SampleError(
            f"`{argv[0]}` not done within the scenario timeout of {deadline.seconds:g} s; killed"
        )
    return output


def container_address(ctx: RunContext, cid: str, network: str) -> str:
    """Container *cid*'s address on *network*."""
    networks = ctx.require_engine().api.inspect_container(cid)["NetworkSettings"]["Networks"]
    return str(networks[network]["IPAddress"])


def published_port(ctx: RunContext, cid: str, port: int) -> int:
    """The host port on 127.0.0.1 the engine published container *cid*'s *port* on."""
    bindings = ctx.require_engine().api.port(cid, port) or []
    for binding in bindings:
        if binding.get("HostIp") in (LOOPBACK, "") and binding.get("HostPort"):
            return int(binding["HostPort"])
    raise SampleError(f"the engine published no host port for {port}/tcp ({bindings!r})")


def await_ready(
    state: Callable[[], tuple[str, bool]], marker: str, deadline: Deadline, what: str
) -> None:
    """Poll *state* (output so far, still running) until *marker* is in the output;
    raises :class:`SampleError` when the server exits first or *deadline* passes."""
    while True:
        text, running = state()
        if marker in text:
            return
        if not running:
            raise SampleError(f"{what} exited before it listened{output_tail(text, prefix=': ')}")
        deadline.remaining()
        time.sleep(POLL_S)
