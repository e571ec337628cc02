"""What the engine costs the host: memory and CPU of its host-side processes.

Per repetition, a window of ``window`` seconds, with the engine ``idle`` (crossdock runs
nothing in it) or under ``churn`` (busybox ``true`` containers created, started, waited
for and removed back to back through the API, as fast as the engine allows). The engine's
processes on the host (:data:`bench.environment.hostside.PROCESSES`: dockerd, containerd
and the shims on Linux; the VM process and its helpers for a VM-backed engine; Docker
Desktop's, OrbStack's, colima's, Rancher Desktop's or Podman's on macOS and Windows) are
found and read every :data:`POLL_S` seconds with psutil:

- ``host_rss``: their resident memory, summed per poll; the largest sum of the window.
  Pages shared between them (the shims' common binary, guest memory a virtiofsd maps)
  count once per process.
- ``host_pss`` (Linux): their proportional set size, summed at the window's last poll:
  each shared page split between its sharers, so the sum is what they hold together.
  Read once per window (it costs a read of each process's ``smaps_rollup``); absent with
  the reason on macOS and Windows.
- ``host_cpu``: the CPU time they used in the window over its wall time (100 % is one
  core). A process born in the window counts from zero; one that ends in it counts up to
  its last poll, so processes that live less than a poll are missed (a lower bound).
- ``throughput`` (churn only): containers run to exit and removed per second meanwhile.

There is no native baseline: natively there is no engine. The figures compare engines
(``crossdock compare``, the report), idle against idle and churn against churn. A
metric that cannot be read (a process that refuses psutil) is absent with the names of
those that refused. The engine serves every client, so on a shared machine what others
run on it in the window counts too.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from statistics import median

from bench.environment import dockerd, hostside
from bench.environment.engine import Engine
from bench.environment.records import platform_record
from bench.errors import SampleError
from bench.plan import ParamSpec, Scalar, Scenario, Variant
from bench.provision import containers
from bench.provision.context import RunContext, work_root

#: seconds between two readings of the engine's processes
POLL_S = 0.25
_CHURN_COMMAND = ["true"]


class FootprintWorkload:
    """The ``footprint`` kind (see module docstring)."""

    kind = "footprint"
    params: Mapping[str, ParamSpec] = {
        "load": ParamSpec(
            str, "idle", ("idle", "churn"), help="idle, or containers run back to back"
        ),
        "window": ParamSpec(
            float, 5.0, minimum=1.0, maximum=600.0, help="seconds observed per sample"
        ),
    }
    metrics: tuple[str, ...] = ("host_rss", "host_pss", "host_cpu", "throughput")

    def __init__(self) -> None:
        self._poller: hostside.Poller | None = None
        self._why: str | None = None
        self._facts: dict[str, object] = {}
        self._absent: dict[Variant, dict[str, str]] = {}
        self._by_role: dict[Variant, dict[str, list[int]]] = {}
        #: variant -> role -> process name -> the (pid, start time) seen with that name
        self._seen: dict[Variant, dict[str, dict[str, set[tuple[int, float]]]]] = {}

    def check_variant(self, variant: Mapping[str, Scalar]) -> str | None:
        return None

    def needs_engine(self, variant: Variant) -> bool:
        return True

    def prepare(self, ctx: RunContext, scenario: Scenario, variants: Sequence[Variant]) -> None:
        self._why = None
        engine = ctx.require_engine()
        platform_id = platform_record(engine).id
        rules = hostside.rules_for(platform_id)
        self._facts = {"platform": platform_id, "poll_interval_s": POLL_S}
        if isinstance(rules, str):
            self._why = rules
            return
        where = _where(engine, rules)
        self._facts["rules"] = [_describe_rule(r) for r in rules]
        self._poller = hostside.Poller(rules, where)
        if not self._poller.processes():
            names = ", ".join(sorted({r.name for r in rules}))
            self._why = (
                f"no process of this {platform_id} engine found on the host (looked for {names})"
            )
            return
        if any(v["load"] == "churn" for v in variants):
            ctx.image("busybox")

    def finish(self, ctx: RunContext, scenario: Scenario) -> None:
        """Nothing to release: every churn container is removed as it ends."""
        self._poller = None

    def skip_reason(self, ctx: RunContext, variant: Variant) -> str | None:
        return self._why

    def sample(self, ctx: RunContext, scenario: Scenario, variant: Variant) -> dict[str, float]:
        poller = self._poller
        if poller is None:
            raise SampleError("the engine's processes were not looked for")
        window = float(variant["window"])
        polls: list[tuple[float, hostside.Reading]] = []
        failed: list[Exception] = []
        stop = threading.Event()

        def poll() -> None:
            try:
                while True:
                    polls.append((time.monotonic(), poller.read()))
                    if stop.wait(POLL_S):
                        polls.append((time.monotonic(), poller.read(pss=True)))
                        return
            except Exception as e:  # noqa: BLE001 - handed to the sampling thread below
                failed.append(e)

        started = time.time()
        thread = threading.Thread(target=poll, name="crossdock-footprint", daemon=True)
        thread.start()
        began = time.monotonic()
        try:
            ran = _churn(ctx, scenario, began + window) if variant["load"] == "churn" else 0
            time.sleep(max(0.0, began + window - time.monotonic()))
            elapsed = time.monotonic() - began
        finally:
            stop.set()
            thread.join()
        if failed:
            raise SampleError(f"reading the engine's processes failed: {failed[0]}")
        values, absent, by_role = summarise(polls, started)
        if variant["load"] == "churn":
            values["throughput"] = ran / elapsed
        self._absent.setdefault(variant, {}).update(absent)
        for role, rss in by_role.items():
            self._by_role.setdefault(variant, {}).setdefault(role, []).append(rss)
        seen = self._seen.setdefault(variant, {})
        for _, reading in polls:
            for key, role in reading.roles.items():
                seen.setdefault(role, {}).setdefault(reading.names[key], set()).add(key)
        return values

    def describe(
        self, ctx: RunContext, variant: Variant
    ) -> tuple[dict[str, str] | None, dict[str, object]]:
        extra: dict[str, object] = dict(self._facts)
        extra["load"] = (
            f"busybox {' '.join(_CHURN_COMMAND)} containers back to back (API, network none)"
            if variant["load"] == "churn"
            else "none from crossdock"
        )
        extra["processes"] = {
            role: {name: len(keys) for name, keys in sorted(names.items())}
            for role, names in self._seen.get(variant, {}).items()
        }
        by_role = self._by_role.get(variant, {})
        extra["rss_by_role_median"] = {r: median(v) for r, v in by_role.items() if v}
        if self._absent.get(variant):
            extra["absent"] = self._absent[variant]
        return {"name": "psutil", "version": _psutil_version()}, extra


def summarise(
    polls: Sequence[tuple[float, hostside.Reading]], started: float
) -> tuple[dict[str, float], dict[str, str], dict[str, int]]:
    """The window's ``host_rss`` and ``host_cpu`` from its *polls* ((monotonic time,
    reading) in order; *started* is the window's start on the epoch clock), what could
    not be measured and why, and the resident bytes per role at the poll of the peak."""
    absent: dict[str, str] = {}
    denied = {label: why for _, reading in polls for label, why in reading.denied.items()}
    if denied:
        named = "; ".join(f"{label}: {why}" for label, why in sorted(denied.items()))
        reason = (
            f"not every engine process could be read ({named}); "
            "run crossdock as root / administrator"
        )
        return {}, dict.fromkeys(("host_rss", "host_pss", "host_cpu"), reason), {}
    readings = [(t, r) for t, r in polls if r.rss]
    if not readings:
        reason = "no process of the engine was found during the window"
        return {}, dict.fromkeys(("host_rss", "host_pss", "host_cpu"), reason), {}
    peak = max(readings, key=lambda tr: sum(tr[1].rss.values()))[1]
    by_role: dict[str, int] = {}
    for key, rss in peak.rss.items():
        by_role[peak.roles[key]] = by_role.get(peak.roles[key], 0) + rss
    values = {"host_rss": float(sum(peak.rss.values()))}
    end = readings[-1][1]
    if end.pss_missing or not end.pss:
        absent["host_pss"] = end.pss_missing or "not read in this window"
    else:
        values["host_pss"] = float(sum(end.pss.values()))
    first: dict[tuple[int, float], float] = {}
    last: dict[tuple[int, float], float] = {}
    for index, (_, reading) in enumerate(readings):
        for key, cpu in reading.cpu.items():
            if key not in first:  # born in the window: all of its CPU time is the window's
                first[key] = cpu if index == 0 or key[1] < started else 0.0
            last[key] = cpu
    wall = readings[-1][0] - readings[0][0]
    if wall > 0:
        values["host_cpu"] = 100.0 * sum(last[k] - first[k] for k in last) / wall
    else:
        absent["host_cpu"] = "the window held a single reading"
    return values, absent, by_role


def _churn(ctx: RunContext, scenario: Scenario, deadline: float) -> int:
    """Run busybox ``true`` containers one after another until *deadline*; how many."""
    api = ctx.require_engine().api
    spec = containers.Spec(
        image=ctx.image("busybox").tag,
        command=_CHURN_COMMAND,
        labels=ctx.labels,
        host_config=api.create_host_config(network_mode="none"),
    )
    ran = 0
    while time.monotonic() < deadline:
        done = containers.run(api, spec, timeout=scenario.timeout)
        if done.code != 0:
            raise SampleError(f"a churn container exited with status {done.code}")
        ran += 1
    return ran


def _where(engine: Engine, rules: Sequence[hostside.Rule]) -> hostside.Where:
    """The placeholders' values for *engine*, and the dockerd serving it where a row asks."""
    port = re.search(r"^tcp://[^/]*:(\d+)", engine.target.endpoint)
    serving = None
    if any(r.serving for r in rules):
        found = dockerd.engine_dockerd(engine)
        serving = found.pid if isinstance(found, dockerd.Dockerd) else None
    return hostside.Where(
        workdir=str(work_root()),
        port=int(port.group(1)) if port else None,
        serving_pid=serving,
    )


def _describe_rule(rule: hostside.Rule) -> str:
    text = f"{rule.role}: {rule.name}"
    if rule.argv:
        text += f" with {rule.argv}"
    return text + (" serving the endpoint" if rule.serving else "")


def _psutil_version() -> str:
    import psutil

    return str(psutil.__version__)
