"""Container startup: how long a container takes from create to gone, phase by phase.

Per repetition, through the low-level API only (no helper that pulls or streams logs):
``create``, ``start``, ``run_to_exit`` (wait), ``remove`` and ``end_to_end``, each a host
interval of :func:`time.perf_counter_ns`; the engine's own event timestamps give the
engine-side intervals; the whole ``docker run --rm`` CLI process is a separate metric,
the figure users feel. ``concurrency > 1`` starts N containers at once and reports
containers per second; where a scenario also starts the same variant at N > 1 (a sweep),
N = 1 is timed the same way (one container through the same thread pool), so every N of
the sweep is timed alike.
``runtime = "native"`` spawns the same busybox ``true`` the containers run on the host,
through the same host-process path (:func:`bench.provision.processes.run`: a pipe for each
output, timed from spawn to exit) that times ``docker run --rm``: the baseline every
container figure can be divided by. ``cache = "cold"`` drops the page
cache before each sample (:mod:`bench.provision.cache` says how, and what stays warm, per platform).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from bench.errors import SampleError
from bench.plan import ParamSpec, Scalar, Scenario, Variant
from bench.provision import cache, containers, processes
from bench.provision.context import RunContext
from bench.provision.processes import output_tail

#: the container port published by ``publish = true`` (bound to 127.0.0.1 only)
PUBLISHED_PORT = 8080
#: what every container runs: busybox's ``true`` applet (``/bin/true`` in both images is a
#: link to busybox)
COMMAND = ["true"]
#: the native baseline runs that applet of the host's busybox (busybox-static)
NATIVE_TOOL = "busybox"
#: how the native baseline and ``docker run --rm`` are spawned and timed
SPAWN = (
    "subprocess.Popen with stdout and stderr piped, timed from just before the spawn to "
    "just after the exit (pipes drained); the same path times docker run --rm"
)
#: what a native baseline without busybox on the host says about its command
NOT_BUSYBOX = (
    "busybox is not installed on the host (Debian/Ubuntu: apt-get install busybox-static): "
    "the host's own `true` ran, not the busybox applet the containers run"
)
_NS = 1e-9


class StartupWorkload:
    """The ``startup`` kind (see module docstring)."""

    kind = "startup"
    params: Mapping[str, ParamSpec] = {
        "runtime": ParamSpec(
            str, "container", ("container", "native"), help="native = host baseline"
        ),
        "image": ParamSpec(str, "busybox", ("busybox", "tools"), help="small or larger image"),
        "network": ParamSpec(str, "none", ("none", "bridge")),
        "publish": ParamSpec(bool, False, help="publish a port on 127.0.0.1 (needs bridge)"),
        "mount": ParamSpec(str, "none", ("none", "bind")),
        "concurrency": ParamSpec(int, 1, minimum=1, maximum=64, help="containers started at once"),
        "cli": ParamSpec(bool, True, help="also time `docker run --rm` as a whole process"),
        "cache": ParamSpec(str, "warm", cache.STATES, help="cold = page cache dropped first"),
    }
    metrics: tuple[str, ...] = (
        "create",
        "start",
        "run_to_exit",
        "remove",
        "end_to_end",
        "engine_create_to_start",
        "engine_start_to_die",
        "engine_die_to_destroy",
        "cli_run_rm",
        "throughput",
        "batch",
    )

    def check_variant(self, variant: Mapping[str, Scalar]) -> str | None:
        if variant["publish"] and variant["network"] == "none":
            return 'publish = true needs network = "bridge"'
        if variant["runtime"] == "native":
            container_only = {
                k: v for k, v in variant.items() if k not in ("runtime", "cli", "cache")
            }
            defaults = {k: s.default for k, s in self.params.items() if k in container_only}
            if container_only != defaults:
                changed = ", ".join(k for k in container_only if container_only[k] != defaults[k])
                return f'runtime = "native" runs on the host; {changed} do not apply'
        return None

    def needs_engine(self, variant: Variant) -> bool:
        return variant["runtime"] == "container"

    def __init__(self) -> None:
        #: cold variant -> how its cache is dropped, or why it cannot be
        self._cold: dict[Variant, cache.Method | str] = {}
        #: cache drops so far, and how many each warm variant has been re-warmed after
        self._drops = 0
        self._seen: dict[Variant, int] = {}
        #: container variants timed as a batch: N > 1, or any N of a concurrency sweep
        self._batched: set[Variant] = set()

    def prepare(self, ctx: RunContext, scenario: Scenario, variants: Sequence[Variant]) -> None:
        for image in sorted({str(v["image"]) for v in variants if self.needs_engine(v)}):
            ctx.image(image)
        # a sweep: the same container variant at several N; its N = 1 is timed as N > 1 are
        swept = {_but_concurrency(v) for v in variants if int(v["concurrency"]) > 1}
        self._batched = {
            v for v in variants if self.needs_engine(v) and _but_concurrency(v) in swept
        }
        tried: dict[cache.Method, str | None] = {}
        for variant in variants:
            if variant["cache"] == "cold":
                measured = str(variant["image"]) if self.needs_engine(variant) else None
                self._cold[variant] = cache.usable(ctx, measured, tried)
        self._drops += len(tried)  # the trial drops cool the warm variants too

    def finish(self, ctx: RunContext, scenario: Scenario) -> None:
        """Nothing to release: every sample removes its own containers."""
        self._cold.clear()
        self._seen.clear()
        self._batched.clear()

    def skip_reason(self, ctx: RunContext, variant: Variant) -> str | None:
        if variant["runtime"] == "native" and not any(map(shutil.which, (NATIVE_TOOL, *COMMAND))):
            return f"neither `{NATIVE_TOOL}` nor `{COMMAND[0]}` is on the host PATH"
        cold = self._cold.get(variant)
        return f"cold start not possible here: {cold}" if isinstance(cold, str) else None

    def sample(self, ctx: RunContext, scenario: Scenario, variant: Variant) -> dict[str, float]:
        """One repetition. A cold variant drops the cache first; a warm one that a cold
        variant's drop (interleaved before it) has cooled is re-warmed by one unrecorded
        run first, so "warm" stays warm beside cold variants."""
        if variant["cache"] == "cold":
            self._make_cold(ctx, variant)
        elif self._seen.get(variant, 0) != self._drops:
            self._measure(ctx, scenario, variant)
        self._seen[variant] = self._drops
        return self._measure(ctx, scenario, variant)

    def _measure(self, ctx: RunContext, scenario: Scenario, variant: Variant) -> dict[str, float]:
        if variant["runtime"] == "native":
            return {"end_to_end": _time_process(native_argv(), scenario.timeout)}
        if variant in self._batched:
            return self._batch(ctx, scenario, variant, int(variant["concurrency"]))
        values = self._phases(ctx, scenario, variant)
        values["throughput"] = 1.0 / values["end_to_end"]
        cli = ctx.require_engine().cli()
        if variant["cli"] and cli is not None:
            self._make_cold(ctx, variant)
            values["cli_run_rm"] = _time_process(
                [
                    *cli,
                    "run",
                    "--rm",
                    *self._cli_options(ctx, variant),
                    ctx.image(str(variant["image"])).tag,
                    *COMMAND,
                ],
                scenario.timeout,
            )
        return values

    def describe(
        self, ctx: RunContext, variant: Variant
    ) -> tuple[dict[str, str] | None, dict[str, object]]:
        method = self._cold.get(variant)
        state: dict[str, object] = {"cache": cache.WARM}
        if isinstance(method, cache.Method):
            state = {"cache": method.definition, "cache_method": method.name}
            if method.image is not None:
                state["cache_dropped_from"] = ctx.image(method.image).tag
        if variant["runtime"] == "native":
            argv = native_argv()
            if len(argv) == len(COMMAND):  # no busybox on this host
                state["command_note"] = NOT_BUSYBOX
                return {"name": COMMAND[0], "version": argv[0]}, {
                    "command": argv,
                    "spawn": SPAWN,
                    **state,
                }
            return {"name": NATIVE_TOOL, "version": busybox_version(argv[0])}, {
                "command": argv,
                "spawn": SPAWN,
                **state,
            }
        engine = ctx.require_engine()
        extra: dict[str, object] = {
            "command": COMMAND,
            "image": ctx.image(str(variant["image"])).to_json(),
            "published_address": f"127.0.0.1:<ephemeral>->{PUBLISHED_PORT}/tcp"
            if variant["publish"]
            else None,
            "engine_intervals": "differences of engine event timestamps (timeNano)",
            **state,
        }
        absent: dict[str, str] = {}
        if variant in self._batched:
            extra["timing"] = (
                "N containers created, started, run to exit and removed by N threads released "
                "at once; one host interval from the release to the last removal"
            )
            absent["phases"] = (
                "not measured per container when several start at once"
                if int(variant["concurrency"]) > 1
                else "N = 1 of a concurrency sweep is timed as a batch of one, like every N"
            )
        elif not variant["cli"]:
            absent["cli_run_rm"] = "disabled in the scenario (cli = false)"
        elif engine.cli() is None:
            absent["cli_run_rm"] = "no docker CLI on PATH"
        if absent:
            extra["absent"] = absent
        return {"name": "docker-engine-api", "version": str(engine.api.api_version)}, extra

    def _make_cold(self, ctx: RunContext, variant: Variant) -> None:
        method = self._cold.get(variant)  # only cold variants have one
        if isinstance(method, cache.Method):
            self._drops += 1
            cache.drop(ctx, method)

    # --- one container, phase by phase ---------------------------------------------------

    def _phases(self, ctx: RunContext, scenario: Scenario, variant: Variant) -> dict[str, float]:
        api = ctx.require_engine().api
        spec = self._spec(ctx, variant)
        # interrupts are held around the create; the clock is read inside that hold
        cid, t0, t1 = containers.timed_create(api, spec)
        try:
            api.start(cid)
            t2 = time.perf_counter_ns()
            status = containers.wait_exit(api, cid, scenario.timeout)
            t3 = time.perf_counter_ns()
        except BaseException:
            containers.remove(api, cid)
            raise
        # the measured removal is the plain one of an exited container (not forced)
        api.remove_container(cid, v=True)
        t4 = time.perf_counter_ns()
        if status != 0:
            raise SampleError(f"container exited with status {status}")
        values = {
            "create": (t1 - t0) * _NS,
            "start": (t2 - t1) * _NS,
            "run_to_exit": (t3 - t2) * _NS,
            "remove": (t4 - t3) * _NS,
            "end_to_end": (t4 - t0) * _NS,
        }
        if ctx.events is not None:
            values.update(engine_intervals(ctx.events.wait_for(cid, "destroy")))
        return values

    def _batch(
        self, ctx: RunContext, scenario: Scenario, variant: Variant, n: int
    ) -> dict[str, float]:
        api = ctx.require_engine().api
        # built once, before the clock starts; the workers create with them directly, as
        # containers.create's hold on interrupts does nothing off the main thread
        arguments = self._spec(ctx, variant).arguments()
        gate = threading.Barrier(n + 1)

        def one() -> int:
            gate.wait()
            cid = api.create_container(**arguments)["Id"]
            try:
                api.start(cid)
                return containers.wait_exit(api, cid, scenario.timeout)
            finally:
                containers.remove(api, cid)

        pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="crossdock-start")
        try:
            futures = [pool.submit(one) for _ in range(n)]
            gate.wait()
            t0 = time.perf_counter_ns()
            statuses = [f.result() for f in futures]
            t1 = time.perf_counter_ns()
        except BaseException:
            # an interrupt must not leave workers waiting at the gate forever: they leave
            # at once; those already running finish (and remove) their container
            gate.abort()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        failed = [s for s in statuses if s != 0]
        if failed:
            raise SampleError(f"{len(failed)} of {n} containers exited non-zero ({failed[0]})")
        return {"throughput": n / ((t1 - t0) * _NS), "batch": (t1 - t0) * _NS}

    def _spec(self, ctx: RunContext, variant: Variant) -> containers.Spec:
        api = ctx.require_engine().api
        publish = bool(variant["publish"])
        binds = (
            {str(ctx.scratch("startup-bind")): {"bind": "/data", "mode": "rw"}}
            if variant["mount"] == "bind"
            else None
        )
        host_config = api.create_host_config(
            network_mode=str(variant["network"]),
            port_bindings={PUBLISHED_PORT: ("127.0.0.1", None)} if publish else None,
            binds=binds,
        )
        return containers.Spec(
            ctx.image(str(variant["image"])).tag,
            COMMAND,
            ctx.labels,
            host_config,
            ports=[PUBLISHED_PORT] if publish else None,
        )

    def _cli_options(self, ctx: RunContext, variant: Variant) -> list[str]:
        options = ["--network", str(variant["network"])]
        for key, value in ctx.labels.items():
            options += ["--label", f"{key}={value}"]
        if variant["publish"]:
            options += ["--publish", f"127.0.0.1::{PUBLISHED_PORT}"]
        if variant["mount"] == "bind":
            options += ["--volume", f"{ctx.scratch('startup-bind')}:/data"]
        return options


def engine_intervals(times: Mapping[str, int]) -> dict[str, float]:
    """Engine-side intervals (s) from one container's event timestamps (ns, engine clock).

    Only differences of two engine timestamps; an interval whose events did not both
    arrive is left out.
    """
    pairs = {
        "engine_create_to_start": ("create", "start"),
        "engine_start_to_die": ("start", "die"),
        "engine_die_to_destroy": ("die", "destroy"),
    }
    return {
        name: (times[b] - times[a]) * _NS
        for name, (a, b) in pairs.items()
        if a in times and b in times and times[b] >= times[a]
    }


def _but_concurrency(variant: Variant) -> tuple[tuple[str, Scalar], ...]:
    """The variant's parameters other than ``concurrency``."""
    return tuple((k, v) for k, v in variant.params if k != "concurrency")


def native_argv() -> list[str]:
    """The native baseline's command line: busybox's ``true`` applet on the host, or the
    host's own ``true`` where busybox is not installed (:data:`NOT_BUSYBOX`)."""
    if shutil.which(NATIVE_TOOL) is None:
        return [processes.which(COMMAND[0])]
    return [processes.which(NATIVE_TOOL), *COMMAND]


def busybox_version(path: str) -> str:
    """The first line busybox prints about itself (``BusyBox v1.35.0 ...``), else *path*."""
    try:
        done = processes.run([path, "--help"], timeout=10, session=False)
    except (OSError, subprocess.TimeoutExpired):
        return path
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0] if first else path


def _time_process(argv: list[str], timeout: float) -> float:
    """Seconds from spawn to exit of *argv* (host clock); raises SampleError on failure."""
    try:
        # spawned as subprocess.run spawns: in the harness's process group, nothing added
        done = processes.run(argv, timeout=timeout, session=False)
    except subprocess.TimeoutExpired:
        raise SampleError(f"`{' '.join(argv)}` did not finish within {timeout:g} s") from None
    if done.code != 0:
        raise SampleError(f"`{' '.join(argv)}` exited with {done.code}: {output_tail(done.stderr)}")
    assert done.elapsed is not None
    return done.elapsed
