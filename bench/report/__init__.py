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
each platform's runs (every loaded run, with a selector showing one run's headline
figures), the results that were skipped or failed, and each platform's environment.
The summary and the scenario sections show each platform once, from the runs chosen by a
:class:`~bench.report.selection.Selection` (default: its latest run).

Everything read from results files is escaped: Jinja2 autoescaping for the page, and
:func:`bench.report.figures.plot_text` for text that plotly draws (plotly reads a few
HTML tags in labels).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from bench.analysis import cells, invariants, stats
from bench.analysis.frame import LoadedFrame, load_frame
from bench.report import runs, sections, trends
from bench.report.figures import POINTS_LIMIT, platform_styles
from bench.report.selection import Selection, by_platform, select
from bench.version import __version__


@dataclass(frozen=True)
class ReportInfo:
    """What :func:`build_report` wrote: the page, how much it shows, and its warnings."""

    output: Path
    n_runs: int
    n_samples: int
    warnings: tuple[str, ...]


def build_report(
    *, inputs: Sequence[Path], output: Path, selection: Selection | None = None
) -> ReportInfo:
    """Build the HTML report of the results in *inputs* (files or folders) at *output*.

    The summary and the scenario sections show each platform from its runs chosen by
    *selection* (default: its latest run); every loaded run is listed per platform with
    its own headline figures. Unusable files are skipped and listed as warnings on the
    page and in the returned :class:`ReportInfo`; no results at all still gives a page
    that says so. Parent folders of *output* are created.
    """
    loaded = load_frame(inputs)
    page = _analyse(loaded, selection or Selection())
    warnings = _warnings(page)
    html = _render(page, warnings, inputs)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    return ReportInfo(
        output=output,
        n_runs=len(loaded.documents),
        n_samples=loaded.n_samples,
        warnings=tuple(warnings),
    )


def _analyse(loaded: LoadedFrame, selection: Selection) -> sections.Page:
    documents = [document for _, document in loaded.documents]
    chosen = select(documents, selection)
    selected = {str(d.run["id"]): d for s in chosen.values() for runs in s.values() for d in runs}
    return sections.Page(
        loaded=loaded,
        selection=selection,
        chosen=chosen,
        styles=platform_styles(list(by_platform(documents))),
        platform_of={str(d.run["id"]): str(d.platform["id"]) for d in documents},
        scenarios=sections.scenarios(list(selected.values())),
        cells=cells.analyse(documents, detail=set(selected)),
    )


def _warnings(page: sections.Page) -> list[str]:
    """The page's warnings: files that could not be used, and for the selected runs what
    the cells break of the advice rules and the invariants the runs break, worded per
    platform as the page shows them (a rule broken in several selected runs of a platform
    is one warning over all their series; an invariant, one line saying in how many)."""
    found = list(page.loaded.warnings)
    found.extend(
        cells.cell_warnings(
            page.selected_cells(),
            labels={s.name: s.short for s in page.scenarios},
            runs=page.platform_of,
            imported=cells.imported_runs(d for _, d in page.loaded.documents),
        )
    )
    for platform in page.chosen:
        documents = page.runs_of(platform)
        broken = Counter(w for d in documents for w in dict.fromkeys(invariants.check(d)))
        for warning, count in broken.items():
            runs = f" (in {count} of {len(documents)} runs)" if len(documents) > 1 else ""
            found.append(f"{platform}: {warning}{runs}")
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
        n_runs=len(page.loaded.documents),
        n_platforms=len(page.styles),
        selection=page.selection.describe(),
        series=list(page.styles.values()),
        areas=sections.summary(page) if has_results else [],
        trends=trends.section([d for _, d in page.loaded.documents]),
        sections=sections.scenario_sections(page) if has_results else [],
        platforms=runs.runs(page) if has_results else [],
        outcomes=runs.outcomes(page),
        environments=runs.environments(page),
        warnings=warnings,
        cv_warn=f"{stats.CV_WARN:.0%}",
        resamples=stats.RESAMPLES,
        points_limit=POINTS_LIMIT,
    )
