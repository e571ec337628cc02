"""The HTML comparison report: one self-contained page built from results files.

:func:`build_report` reads results (:func:`bench.analysis.frame.load_frame`), analyses
every metric series (:mod:`bench.analysis.cells`), lays the page's sections out as
template data (:mod:`bench.report.sections`, with the figures of
:mod:`bench.report.figures`) and renders ``templates/report.html.j2`` with plotly.js
inlined once, so the page works offline and can be published as a single file.

The page, top to bottom: when a platform has several runs of a suite, its history
(regression calls between consecutive runs, trend charts: :mod:`bench.report.trends`);
a summary (per area, each platform's container figures as a
ratio to its own native baseline, as heatmaps and a table), warnings, one section per
scenario (box plots of the raw samples with a table of medians and intervals under each),
the results that were skipped or failed, and each run's environment.

Everything read from results files is escaped: Jinja2 autoescaping for the page, and
:func:`bench.report.figures.plot_text` for text that plotly draws (plotly reads a few
HTML tags in labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from bench.analysis import cells, invariants, stats
from bench.analysis.frame import LoadedFrame, load_frame
from bench.report import sections, trends
from bench.report.figures import run_styles
from bench.version import __version__


@dataclass(frozen=True)
class ReportInfo:
    """What :func:`build_report` wrote: the page, how much it shows, and its warnings."""

    output: Path
    n_runs: int
    n_samples: int
    warnings: tuple[str, ...]


def build_report(*, inputs: Sequence[Path], output: Path) -> ReportInfo:
    """Build the HTML report of the results in *inputs* (files or folders) at *output*.

    Unusable files are skipped and listed as warnings on the page and in the returned
    :class:`ReportInfo`; no results at all still gives a page that says so. Parent
    folders of *output* are created.
    """
    loaded = load_frame(inputs)
    page = _analyse(loaded)
    warnings = _warnings(page)
    html = _render(page, warnings, inputs)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    return ReportInfo(
        output=output,
        n_runs=len(loaded.documents),
        n_samples=len(loaded.samples),
        warnings=tuple(warnings),
    )


def _analyse(loaded: LoadedFrame) -> sections.Page:
    documents = [document for _, document in loaded.documents]
    return sections.Page(
        loaded=loaded,
        runs=run_styles(documents),
        scenarios=sections.scenarios(documents),
        cells=cells.analyse(documents, loaded.samples),
    )


def _warnings(page: sections.Page) -> list[str]:
    """The page's warnings: files that could not be used, what the cells break of the
    advice rules, and the invariants each run breaks."""
    found = list(page.loaded.warnings)
    found.extend(
        cells.cell_warnings(
            page.cells,
            labels={s.name: s.short for s in page.scenarios},
            runs={run_id: style.label for run_id, style in page.runs.items()},
            imported=cells.imported_runs(d for _, d in page.loaded.documents),
        )
    )
    for path, document in page.loaded.documents:
        found.extend(f"{path.name}: {w}" for w in invariants.check(document))
    return found


def _render(page: sections.Page, warnings: Sequence[str], inputs: Sequence[Path]) -> str:
    environment = Environment(
        loader=PackageLoader("bench.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = environment.get_template("report.html.j2")
    has_results = bool(page.loaded.documents)
    return template.render(
        version=__version__,
        inputs=[str(p) for p in inputs],
        has_results=has_results,
        plotly_js=Markup(get_plotlyjs()) if has_results else None,  # noqa: S704 -- plotly's own code
        series=list(page.runs.values()),
        areas=sections.summary(page) if has_results else [],
        trends=trends.section([d for _, d in page.loaded.documents]),
        sections=sections.scenario_sections(page) if has_results else [],
        outcomes=sections.outcomes(page),
        environments=sections.environments(page),
        warnings=warnings,
        cv_warn=f"{stats.CV_WARN:.0%}",
        resamples=stats.RESAMPLES,
    )
