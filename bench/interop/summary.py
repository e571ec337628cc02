"""Results out to a JSON summary for dashboards (:func:`export_summary`): per run,
scenario, variant and metric the median with its interval, the sample count and the
ratio to native with its interval, from the same analysis the report shows
(:func:`bench.analysis.cells.analyse`).

The document (``format: "crossdock-summary"``, ``version`` :data:`SUMMARY_VERSION`)::

    {
      "format": "crossdock-summary", "version": 1, "generator": "crossdock 0.2.0",
      "confidence": 0.95, "resamples": 2000,
      "runs": [{"run_id", "platform", "started_at", "status", "engine_version"}, ...],
      "series": [
        {"platform", "run_id", "started_at", "scenario", "kind",
         "variant": {param: value}, "variant_label", "metric", "unit", "direction",
         "headline": bool, "n", "median", "ci": [low, high] | null, "outliers",
         "vs_native": null | {"native_variant_label", "native_median", "ratio",
                              "ci": [low, high] | null, "times_slower",
                              "times_slower_ci": [low, high] | null, "text",
                              "too_few_samples": bool}},
        ...],
      "not_measured": [{"platform", "run_id", "scenario", "variant_label", "status",
                        "reason"}, ...]
    }

Numbers are in the metric's SI unit. ``ratio`` is container median / native median of
the metric itself (a time or a rate), ``times_slower`` the same comparison made
direction-free (above 1: slower than native, below 1: faster; for a rate the reciprocal
of ``ratio``), and ``text`` its wording everywhere else in crossdock
(:func:`bench.analysis.stats.format_slowdown`). ``ci`` is null where there are too few
samples for an interval; ``vs_native`` is null for a native variant or one without a
native counterpart. Skipped and failed results have no series; they are listed in
``not_measured`` with their reasons.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.analysis import cells, stats
from bench.analysis.baseline import native_counterparts
from bench.analysis.frame import variant_label
from bench.interop.exports import ExportInfo, load_strict, not_ok_note, writing
from bench.results import Result, RunDocument
from bench.version import __version__

#: The summary document's format version; a change of meaning or a removed key bumps it.
SUMMARY_VERSION = 1


def export_summary(*, inputs: Sequence[Path], output: Path) -> ExportInfo:
    """Write the JSON summary (module docstring) of the results in *inputs* to *output*.

    Raises :class:`~bench.errors.BadInputError` for unreadable inputs,
    :class:`~bench.errors.ResultsWriteError` when *output* cannot be written.
    """
    loaded = load_strict(inputs)
    documents = [d for _, d in loaded.documents]
    analysed = cells.analyse(documents)
    runs = {str(d.run["id"]): d for d in documents}
    natives = native_counterparts(documents)
    results = {
        (str(d.run["id"]), r.scenario, variant_label(r.variant)): r
        for d in documents
        for r in d.results
    }
    document = {
        "format": "crossdock-summary",
        "version": SUMMARY_VERSION,
        "generator": f"crossdock {__version__}",
        "confidence": 0.95,
        "resamples": stats.RESAMPLES,
        "runs": [_run(d) for d in documents],
        "series": [
            _series(c, runs[c.run_id], results[(c.run_id, c.scenario, c.variant)], natives)
            for c in analysed
        ],
        "not_measured": [
            {
                "platform": str(d.platform["id"]),
                "run_id": str(d.run["id"]),
                "scenario": r.scenario,
                "variant_label": variant_label(r.variant),
                "status": r.status,
                "reason": r.reason,
            }
            for d in documents
            for r in d.results
            if r.status != "ok"
        ],
    }
    with writing(output):
        output.write_text(
            json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False) + "\n",
            encoding="utf-8",
        )
    return ExportInfo(
        output=output,
        n_runs=len(documents),
        n_values=loaded.n_samples,
        skipped=not_ok_note(loaded),
    )


def _run(document: RunDocument) -> dict[str, Any]:
    return {
        "run_id": str(document.run["id"]),
        "platform": str(document.platform["id"]),
        "started_at": document.run.get("started_at"),
        "status": document.run.get("status"),
        "engine_version": document.engine.get("server_version"),
    }


def _series(
    cell: cells.Cell,
    document: RunDocument,
    result: Result,
    natives: dict[tuple[str, str, str], str],
) -> dict[str, Any]:
    s = cell.summary
    return {
        "platform": str(document.platform["id"]),
        "run_id": cell.run_id,
        "started_at": document.run.get("started_at"),
        "scenario": cell.scenario,
        "kind": result.kind,
        "variant": dict(result.variant),
        "variant_label": cell.variant,
        "metric": cell.metric,
        "unit": cell.unit,
        "direction": cell.direction,
        "headline": cell.headline,
        "n": s.n,
        "median": s.median,
        "ci": None if s.ci_low is None or s.ci_high is None else [s.ci_low, s.ci_high],
        "outliers": cell.outliers,
        "vs_native": _versus(cell, natives.get((cell.run_id, cell.scenario, cell.variant))),
    }


def _versus(cell: cells.Cell, native: str | None) -> dict[str, Any] | None:
    versus = cell.vs_native
    if versus is None or versus.ratio is None or native is None:
        return None
    ratio = versus.ratio

    def slower(value: float) -> float:
        return value if cell.direction == "lower" else 1.0 / value

    ci = list(ratio.ci) if ratio.ci is not None else None
    return {
        "native_variant_label": native,
        "native_median": versus.base_median,
        "ratio": ratio.value,
        "ci": ci,
        "times_slower": slower(ratio.value),
        "times_slower_ci": None if ci is None else sorted(slower(b) for b in ci),
        "text": stats.format_slowdown(ratio, cell.direction),
        "too_few_samples": versus.sample_size.too_few,
    }
