"""What the exports share: the record of what one wrote (:class:`ExportInfo`), strict
loading of their inputs, and writing their output.

Exports are strict where the report is lenient: every file named must load, because an
exported file travels without the warnings, and a comparison that silently lost an input
would pass for a whole one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.analysis.frame import LoadedFrame, load_frame
from bench.errors import BadInputError, ResultsWriteError


@dataclass(frozen=True)
class ExportInfo:
    """What an export wrote: the file, how many runs (results files) and sample values it
    holds, the pyperf benchmark names in file order (empty for CSV), and one line per kind
    of data left out, saying what and why."""

    output: Path
    n_runs: int
    n_values: int
    benchmarks: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


def load_strict(inputs: Sequence[Path]) -> LoadedFrame:
    """:func:`load_frame`, except that a file it would skip is an error here."""
    if not inputs:
        raise BadInputError("nothing to export: name results files or folders")
    loaded = load_frame(inputs)
    if loaded.warnings:
        raise BadInputError("cannot export every input: " + "; ".join(loaded.warnings))
    if not loaded.documents:
        raise BadInputError(f"no results files in {', '.join(str(p) for p in inputs)}")
    return loaded


def not_ok_note(loaded: LoadedFrame) -> tuple[str, ...]:
    """The note an export makes of the results it has no samples of, if any."""
    not_ok = int((loaded.outcomes["status"] != "ok").sum())
    if not not_ok:
        return ()
    return (f"{not_ok} skipped or failed results have no samples; the report lists why",)


@contextmanager
def writing(output: Path) -> Iterator[None]:
    """Create *output*'s folder; a failure to write becomes a :class:`ResultsWriteError`."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        yield
    except OSError as e:
        raise ResultsWriteError(f"{output}: cannot write ({e.strerror})") from None
