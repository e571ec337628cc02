"""Results out to CSV: the tidy samples table of :func:`bench.analysis.frame.load_frame`
(:func:`export_csv`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bench.analysis.frame import PARAM_PREFIX
from bench.interop.exports import ExportInfo, load_strict, not_ok_note, writing


def export_csv(*, inputs: Sequence[Path], output: Path) -> ExportInfo:
    """Write the samples table of :func:`bench.analysis.frame.load_frame` for *inputs* to *output*
    as CSV: UTF-8, a header row with :data:`bench.analysis.frame.SAMPLE_COLUMNS` then one
    ``v_<param>`` column per variant parameter, one row per raw sample of every ``ok``
    result, ``\\n`` line ends, no index column. A parameter a variant lacks is empty,
    whole-number parameters are written without a fraction, booleans as ``True`` and
    ``False``; values are written to full precision (they read back equal).

    Raises :class:`BadInputError` for unreadable inputs, :class:`ResultsWriteError` when
    *output* cannot be written.
    """
    loaded = load_strict(inputs)
    with writing(output):
        _csv_table(loaded.samples).to_csv(
            output, index=False, encoding="utf-8", lineterminator="\n"
        )
    return ExportInfo(
        output=output,
        n_runs=len(loaded.documents),
        n_values=len(loaded.samples),
        skipped=not_ok_note(loaded),
    )


def _csv_table(samples: pd.DataFrame) -> pd.DataFrame:
    """*samples* with the ``v_`` columns in pandas' nullable types: a whole-number
    parameter that some variants lack is written ``4``, not the ``4.0`` of the float
    column a missing value turns it into."""
    params = [c for c in samples.columns if c.startswith(PARAM_PREFIX)]
    table = samples.copy()
    table[params] = samples[params].convert_dtypes()
    return table
