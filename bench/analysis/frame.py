"""The results frame: results files loaded into tidy pandas tables for analysis.

:func:`load_frame` turns any number of results files and folders into one
:class:`LoadedFrame`: the validated documents, a warning for every file that could not be
used, and, built when first asked for, a ``samples`` table with one row per raw sample and
an ``outcomes`` table with one row per result (so skipped and failed variants stay
visible with their reasons).
A bad file never stops the others from loading: results are gathered from other
people's machines, and one truncated upload must not hide the rest.

Variants are named by :func:`variant_label`, and shortened to what varies among them by
:func:`varying_labels` and :func:`short_labels`.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import results
from bench.errors import ResultsError
from bench.plan import Scalar
from bench.results import Result, RunDocument

#: Columns of :attr:`LoadedFrame.samples`, before the ``v_<param>`` columns.
SAMPLE_COLUMNS: tuple[str, ...] = (
    "run_id",
    "platform",
    "host_os",
    "scenario",
    "kind",
    "variant",
    "metric",
    "unit",
    "direction",
    "status",
    "value",
    "repetition",
)

#: Columns of :attr:`LoadedFrame.outcomes`, before the ``v_<param>`` columns.
OUTCOME_COLUMNS: tuple[str, ...] = (
    "run_id",
    "platform",
    "host_os",
    "scenario",
    "kind",
    "variant",
    "status",
    "reason",
)

#: Prefix of the columns holding one variant parameter each.
PARAM_PREFIX = "v_"


@dataclass(frozen=True)
class LoadedFrame:
    """Results loaded for analysis.

    ``documents``: the files that loaded, with their paths. ``warnings``: one line per
    file or run that was skipped, naming it and why. The tables are built from the
    documents when first asked for (a report of many runs needs neither):
    ``samples``, one row per raw sample of every ``ok`` result (:data:`SAMPLE_COLUMNS`,
    then ``v_<param>`` per variant parameter; ``repetition`` counts from 1);
    ``outcomes``, one row per result of any status (:data:`OUTCOME_COLUMNS`, then the
    ``v_`` columns), in file order.
    """

    documents: tuple[tuple[Path, RunDocument], ...]
    warnings: tuple[str, ...]

    @functools.cached_property
    def samples(self) -> pd.DataFrame:
        return samples_table(d for _, d in self.documents)

    @functools.cached_property
    def outcomes(self) -> pd.DataFrame:
        return _table(_outcome_rows(d for _, d in self.documents), OUTCOME_COLUMNS)

    @property
    def n_samples(self) -> int:
        """How many raw samples the ``ok`` results hold (the rows of ``samples``)."""
        return sum(
            len(m.samples) for _, r in ok_results(d for _, d in self.documents) for m in r.metrics
        )


def variant_label(variant: Mapping[str, Scalar]) -> str:
    """A stable, readable label of a variant: ``"mount=bind, network=bridge"``.

    Parameters are sorted by name, so the label does not depend on the order a writer
    stored them in; values are written as in the results file (``true``, ``1``,
    ``bind``). The empty variant is ``"default"``.
    """
    # a report meets the same few hundred variants in every run and labels each several
    # times: labels are kept by the dict's repr, which tells True from 1 and "1" from 1
    key = repr(variant) if type(variant) is dict else None
    found = _LABELS.get(key) if key is not None else None
    if found is not None:
        return found
    label = (
        ", ".join(f"{k}={_param_text(variant[k])}" for k in sorted(variant))
        if variant
        else "default"
    )
    if key is not None and len(_LABELS) < _LABELS_KEPT:
        _LABELS[key] = label
    return label


#: Labels :func:`variant_label` keeps, by the repr of the variant's dict.
_LABELS: dict[str, str] = {}
_LABELS_KEPT = 4096


def scenario_variants(
    documents: Iterable[RunDocument],
) -> dict[str, dict[str, Mapping[str, Scalar]]]:
    """Every scenario's variants across *documents*, whatever their status:
    scenario -> :func:`variant_label` -> parameters, in first-seen order."""
    variants: dict[str, dict[str, Mapping[str, Scalar]]] = {}
    for document in documents:
        for result in document.results:
            by_label = variants.setdefault(result.scenario, {})
            by_label.setdefault(variant_label(result.variant), result.variant)
    return variants


def varying_labels(
    variants: Mapping[str, Mapping[str, Scalar]],
) -> tuple[dict[str, str], str]:
    """Shorter labels for a set of variants (label -> parameters): each variant labelled by
    only the parameters whose values differ within the set, and the label of the
    parameters they all share (``""`` when none)."""
    params = list(variants.values())
    varying = varying_keys(params)
    shared = {k: v for k, v in params[0].items() if k not in varying}
    short = {
        label: variant_label({k: v for k, v in p.items() if k in varying})
        for label, p in variants.items()
    }
    return short, variant_label(shared) if shared else ""


def short_labels(
    documents: Iterable[RunDocument], *, exclude: str = ""
) -> dict[str, dict[str, str]]:
    """scenario -> :func:`variant_label` -> the label of only the parameters that vary
    within the scenario across *documents* (:func:`varying_labels`; a scenario's only
    variant is ``"default"``), leaving out the parameter *exclude*."""
    return {
        scenario: varying_labels(
            {label: {k: v for k, v in p.items() if k != exclude} for label, p in by_label.items()}
        )[0]
        for scenario, by_label in scenario_variants(documents).items()
    }


def varying_keys(variants: Sequence[Mapping[str, Scalar]]) -> set[str]:
    """The parameters whose values (or presence) differ among *variants*."""
    keys = {key for variant in variants for key in variant}
    return {k for k in keys if len({json.dumps(v.get(k)) for v in variants}) > 1}


def _param_text(value: Scalar) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def load_frame(paths: Sequence[Path]) -> LoadedFrame:
    """Load every results file in *paths* (files, or folders searched recursively for
    ``*.json``).

    Unreadable, corrupt, foreign and future-version files, missing paths, and a second
    file with an already-loaded run id are skipped with a warning naming them; they never
    raise. Files load in path order, so the same inputs give the same frame.
    """
    warnings: list[str] = []
    documents: list[tuple[Path, RunDocument]] = []
    seen_runs: dict[str, Path] = {}
    for path in _result_files(paths, warnings):
        try:
            document = results.read(path)
        except ResultsError as e:
            warnings.append(f"skipped {e}")
            continue
        run_id = str(document.run["id"])
        if run_id in seen_runs:
            first = seen_runs[run_id]
            warnings.append(f"skipped {path}: run {run_id!r} already loaded from {first}")
            continue
        seen_runs[run_id] = path
        documents.append((path, document))
    return LoadedFrame(documents=tuple(documents), warnings=tuple(warnings))


def _result_files(paths: Sequence[Path], warnings: list[str]) -> list[Path]:
    """The ``*.json`` files named by *paths*, each once, sorted within each folder."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            found.update(dict.fromkeys(p for p in sorted(path.rglob("*.json")) if p.is_file()))
        elif path.exists():
            found[path] = None
        else:
            warnings.append(f"skipped {path}: no such file or folder")
    return list(found)


def _identity(document: RunDocument, result: Result) -> dict[str, Any]:
    """The columns shared by a result's sample rows and its outcome row."""
    return {
        "run_id": str(document.run["id"]),
        "platform": str(document.platform["id"]),
        "host_os": str(document.platform["host_os"]),
        "scenario": result.scenario,
        "kind": result.kind,
        "variant": variant_label(result.variant),
        **{f"{PARAM_PREFIX}{key}": value for key, value in result.variant.items()},
    }


def ok_results(documents: Iterable[RunDocument]) -> Iterator[tuple[RunDocument, Result]]:
    """Every ``ok`` result of *documents* with its document, in file order: the results
    that have samples (:attr:`LoadedFrame.samples` holds their rows)."""
    for document in documents:
        for result in document.results:
            if result.status == "ok":
                yield document, result


def _sample_blocks(
    documents: Iterable[RunDocument],
) -> tuple[list[dict[str, Any]], list[tuple[float, ...]]]:
    """One row per metric of every ``ok`` result that has samples (its identity, metric,
    unit, direction and status), and that metric's samples."""
    blocks: list[dict[str, Any]] = []
    samples: list[tuple[float, ...]] = []
    for document, result in ok_results(documents):
        identity = _identity(document, result)
        for metric in result.metrics:
            if not metric.samples:
                continue
            blocks.append(
                {
                    **identity,
                    "metric": metric.name,
                    "unit": metric.unit,
                    "direction": metric.direction,
                    "status": result.status,
                }
            )
            samples.append(metric.samples)
    return blocks, samples


def samples_table(documents: Iterable[RunDocument]) -> pd.DataFrame:
    """:attr:`LoadedFrame.samples` of *documents*: a table of one row per metric
    (:func:`_sample_blocks`), each row repeated once per sample, with the values and
    repetition numbers beside.

    Built by columns: the same table as one row dict per sample through
    ``DataFrame.from_records`` (the columns' types are inferred from the same values),
    without a million dicts at a time.
    """
    blocks, samples = _sample_blocks(documents)
    if not blocks:
        return _table(iter(()), SAMPLE_COLUMNS)
    sizes = np.fromiter((len(s) for s in samples), dtype=np.intp, count=len(samples))
    starts = np.cumsum(sizes) - sizes
    frame = pd.DataFrame.from_records(blocks).take(np.repeat(np.arange(len(blocks)), sizes))
    frame = frame.reset_index(drop=True)
    frame["value"] = np.fromiter(itertools.chain.from_iterable(samples), dtype=np.float64)
    frame["repetition"] = np.arange(len(frame)) - np.repeat(starts, sizes) + 1
    return _ordered(frame, SAMPLE_COLUMNS)


def _outcome_rows(documents: Iterable[RunDocument]) -> Iterator[dict[str, Any]]:
    for document in documents:
        for result in document.results:
            yield {
                **_identity(document, result),
                "status": result.status,
                "reason": result.reason,
            }


def _table(rows: Iterator[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """A frame of *rows* with *columns* first, then the ``v_`` columns sorted by name.

    An empty input still gives a frame with *columns*, so callers need no special case.
    """
    return _ordered(pd.DataFrame.from_records(list(rows)), columns)


def _ordered(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """*frame* with *columns* first, then its ``v_`` columns sorted by name."""
    params = sorted(c for c in frame.columns if c.startswith(PARAM_PREFIX))
    return frame.reindex(columns=[*columns, *params])
