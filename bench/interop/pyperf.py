"""Results out to pyperf: a ``BenchmarkSuite`` JSON file that ``python -m pyperf stats``
and ``python -m pyperf compare_to`` read (:func:`export_pyperf`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyperf

from bench.analysis.frame import ok_results, variant_label
from bench.errors import BadInputError
from bench.interop.exports import ExportInfo, load_strict, not_ok_note, writing
from bench.metrics import METRICS, Direction
from bench.plan import Scalar
from bench.results import Metric, Result, RunDocument


@dataclass(frozen=True)
class PyperfUnit:
    """How the samples of one crossdock unit become pyperf values.

    pyperf knows three units (its ``unit`` metadata: ``second``, ``byte``, ``integer``)
    and reads every value as lower-is-better: ``compare_to`` calls a larger mean
    "slower". So only metrics whose *direction* fits are exported; rates, where higher is
    better, go as the time one stated unit of work takes (``work`` units at the stored
    rate: ``work / rate`` seconds), and the latency of one operation as the time of
    ``work`` operations at that latency (``work * latency``); ``meaning`` says what one
    exported value is. The unit of work is large enough for a value to be a time pyperf
    reads sensibly (its checks call a value under 1 ms unstable, and its "Total
    duration" adds values up).
    """

    pyperf_unit: str
    direction: Direction
    #: how many units of work one exported time is for; ``None``: the value as stored
    work: float | None
    meaning: str

    def value(self, sample: float) -> float:
        """The pyperf value of one stored *sample*."""
        if self.work is None:
            return sample
        return self.work / sample if self.direction == "higher" else self.work * sample


#: crossdock unit -> its pyperf mapping. Units absent here (``%``, ``1``: shares and
#: counts) have no lower-is-better pyperf reading and are left out.
PYPERF_UNITS: dict[str, PyperfUnit] = {
    "s": PyperfUnit("second", "lower", None, meaning="seconds"),
    "B/s": PyperfUnit("second", "higher", 2.0**30, meaning="seconds per GiB (2^30 B / B/s)"),
    "bit/s": PyperfUnit("second", "higher", 1e9, meaning="seconds per Gbit (10^9 bit / bit/s)"),
    "op/s": PyperfUnit(
        "second", "higher", 1e3, meaning="seconds per 1,000 operations (1,000 / op/s)"
    ),
    "B": PyperfUnit("byte", "lower", None, meaning="bytes"),
}

#: metrics that are the latency of one operation (an I/O, an fsync, a round trip): often
#: under a millisecond, so exported per 1,000 operations
PER_OPERATION = frozenset({"lat_p50", "lat_p99", "fsync_p50", "fsync_p99", "rtt_p50", "rtt_p99"})
PER_OPERATION_UNIT = PyperfUnit(
    "second",
    "lower",
    1e3,
    meaning="seconds per 1,000 operations at this latency (1,000 x the seconds of one)",
)
#: times of one interval that can be under a millisecond on a fast path (a phase of the
#: 100-file tree, a native process start): exported as the time of 1,000 of them, so on
#: every platform alike, whatever the measured values are
PER_THOUSAND_INTERVALS = frozenset(
    {"tree_unpack", "tree_walk", "tree_read", "tree_delete", "tree_total"}
)
PER_THOUSAND_UNIT = PyperfUnit(
    "second",
    "lower",
    1e3,
    meaning="seconds per 1,000 such intervals (1,000 x the seconds of the one measured)",
)


def pyperf_unit(measured: Metric, variant: Mapping[str, Scalar] | None = None) -> PyperfUnit | None:
    """The mapping *measured* (of a result with *variant*) is exported with, or ``None``
    for a unit pyperf cannot take. The rule depends on the metric and variant only, never
    on the values, so a benchmark has the same unit in every export."""
    if measured.unit == "s":
        if measured.name in PER_OPERATION:
            return PER_OPERATION_UNIT
        native_start = (variant or {}).get("runtime") == "native"
        if measured.name in PER_THOUSAND_INTERVALS or native_start:
            return PER_THOUSAND_UNIT
    return PYPERF_UNITS.get(measured.unit)


def benchmark_name(result: Result, measured: Metric) -> str:
    """The pyperf benchmark name of one metric of one result:
    ``scenario[variant label].metric``, e.g.
    ``"startup[mount=bind, network=bridge, runtime=container].end_to_end"``.

    The label is :func:`bench.analysis.frame.variant_label` (parameters sorted by name), the one the
    report and ``crossdock compare`` show, so the name is the same in every run of the
    scenario and ``pyperf compare_to`` pairs the benchmarks of two files by it.
    """
    return f"{result.scenario}[{variant_label(result.variant)}].{measured.name}"


def export_pyperf(*, inputs: Sequence[Path], output: Path) -> ExportInfo:
    """Write the ``ok`` results of *inputs* (results files or folders) as one pyperf
    ``BenchmarkSuite`` JSON file at *output* (``.json``, or ``.json.gz`` compressed).

    Contract, following pyperf's data model (pyperf docs, "API" and "JSON format"):

    - one pyperf ``Benchmark`` per (scenario, variant, metric), named by
      :func:`benchmark_name`;
    - one pyperf ``Run`` per crossdock sample, holding that one value. A pyperf run is
      one independent worker process; a crossdock sample is one independent repetition
      (a fresh container, a fresh fio job), so this keeps pyperf's "number of runs" true
      and lets ``pyperf stats`` estimate the processes needed from the spread between
      runs. ``stats`` and ``compare_to`` (mean, standard deviation, Student's t-test)
      pool the values of all runs, so they see exactly the crossdock samples;
    - values follow :func:`pyperf_unit`: times in seconds as they are, except the
      latency of one operation (:data:`PER_OPERATION`), exported per 1,000 operations,
      and the intervals that can be under 1 ms (the tree's phases, a native start),
      exported per 1,000 such intervals;
      rates (``B/s``, ``bit/s``, ``op/s``, higher is better) as the time of a stated unit
      of work, seconds per GiB, per Gbit or per 1,000 operations, so that lower is better
      as pyperf assumes; sizes in bytes as they are.
      Metrics in ``%`` or ``1``, with a direction the mapping does not expect, or with a
      sample of 0 or less (pyperf requires values > 0) are left out and listed in
      :attr:`ExportInfo.skipped`. (pyperf's "Total duration" sums the values, so for
      rates it is no wall time);
    - metadata: pyperf's ``name``, ``unit`` and ``date`` (the run's start) and
      ``description`` (from :data:`bench.metrics.METRICS`), and ``crossdock_platform``,
      ``crossdock_run_id``, ``crossdock_harness_version``, ``crossdock_scenario``,
      ``crossdock_variant``, ``crossdock_metric``, ``crossdock_unit`` (the stored unit),
      ``crossdock_direction`` and ``crossdock_values`` (what one value is).

    ``compare_to`` compares files, pairing benchmarks by name, so one file holds one
    platform: inputs from several platforms are refused with a :class:`BadInputError`
    naming them (export each platform to its own file, then ``pyperf compare_to
    linux.json mac.json``). Several runs of the same platform merge: their samples become
    more runs of the same benchmarks, as ``pyperf`` itself appends runs.

    Raises :class:`BadInputError` for unreadable inputs, mixed platforms, and inputs with
    nothing exportable; :class:`ResultsWriteError` when *output* cannot be written.
    """
    loaded = load_strict(inputs)
    _single_platform(loaded.documents)
    runs: dict[str, list[Any]] = {}
    left_out: Counter[str] = Counter()
    for document, result in ok_results(d for _, d in loaded.documents):
        for measured in result.metrics:
            reason = _pyperf_refusal(result, measured)
            if reason is not None:
                left_out[reason] += 1
                continue
            name = benchmark_name(result, measured)
            runs.setdefault(name, []).extend(_pyperf_runs(name, document, result, measured))
    skipped = (*not_ok_note(loaded), *(f"{r} ({n} series)" for r, n in left_out.items()))
    if not runs:
        raise BadInputError(f"nothing to export to pyperf: {'; '.join(skipped) or 'no samples'}")
    suite = pyperf.BenchmarkSuite([pyperf.Benchmark(r) for r in runs.values()])
    with writing(output):
        suite.dump(str(output), replace=True)
    return ExportInfo(
        output=output,
        n_runs=len(loaded.documents),
        n_values=sum(len(r) for r in runs.values()),
        benchmarks=tuple(runs),
        skipped=skipped,
    )


def _single_platform(documents: Sequence[tuple[Path, RunDocument]]) -> None:
    files: dict[str, list[str]] = {}
    for path, document in documents:
        files.setdefault(str(document.platform["id"]), []).append(str(path))
    if len(files) > 1:
        listed = "; ".join(f"{pid} ({', '.join(paths)})" for pid, paths in files.items())
        raise BadInputError(
            f"a pyperf file holds one platform, but these inputs mix {len(files)}: {listed}. "
            "pyperf compare_to pairs benchmarks by name across files: export each platform "
            "to its own file and compare the files"
        )


def _pyperf_refusal(result: Result, measured: Metric) -> str | None:
    """Why *measured* cannot be a pyperf benchmark, or None when it can."""
    mapping = pyperf_unit(measured, result.variant)
    if mapping is None:
        return (
            f"{measured.name} (unit {measured.unit!r}) left out: pyperf values are times "
            "or sizes, lower is better, and a share or a count is neither"
        )
    if measured.direction != mapping.direction:
        return (
            f"{measured.name} (unit {measured.unit!r}, {measured.direction} is better) left "
            f"out: exported {mapping.meaning}, pyperf would read it the wrong way round"
        )
    if not measured.samples or min(measured.samples) <= 0:
        return f"{measured.name} left out where a sample is 0 or less: pyperf values are > 0"
    return None


def _pyperf_runs(name: str, document: RunDocument, result: Result, measured: Metric) -> list[Any]:
    """One ``pyperf.Run`` per sample, with the metadata :func:`export_pyperf` lists."""
    mapping = pyperf_unit(measured, result.variant)
    assert mapping is not None  # refused before
    definition = METRICS.get(measured.name)
    metadata = _present(
        name=name,
        unit=mapping.pyperf_unit,
        date=_pyperf_date(document.run.get("started_at")),
        description=definition.description if definition else None,
        crossdock_platform=document.platform["id"],
        crossdock_run_id=document.run["id"],
        crossdock_harness_version=document.run["harness_version"],
        crossdock_scenario=result.scenario,
        crossdock_variant=variant_label(result.variant),
        crossdock_metric=measured.name,
        crossdock_unit=measured.unit,
        crossdock_direction=measured.direction,
        crossdock_values=mapping.meaning,
    )
    values = [mapping.value(s) for s in measured.samples]
    try:
        return [pyperf.Run([v], metadata=metadata, collect_metadata=False) for v in values]
    except ValueError as e:  # pyperf's metadata rules: no newlines, no empty values
        raise BadInputError(f"{name}: pyperf refused its metadata ({e})") from None


def _present(**metadata: Any) -> dict[str, str | int | float]:
    """*metadata* without empty values (pyperf rejects them), numbers kept, rest as text."""
    return {
        key: value if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
        for key, value in metadata.items()
        if value is not None and value != ""
    }


def _pyperf_date(started_at: Any) -> str | None:
    """A run's start as pyperf writes its ``date`` metadata, ``YYYY-MM-DD HH:MM:SS``
    without a zone (here UTC: pyperf compares the dates of all runs, and aware and naive
    times do not compare), or None when it is not an ISO 8601 time."""
    try:
        moment = datetime.fromisoformat(str(started_at))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ")
