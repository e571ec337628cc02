"""The report's sections about runs, as template data: :func:`runs` (every loaded run of
each platform, newest first, with a selector that shows one run's headline figures),
:func:`outcomes` (what the selected runs skipped or failed, with their reasons) and
:func:`environments` (each platform's latest selected run's records).

A run's headline figures are written into the page once, as text made here (the one
ratio wording of :func:`bench.analysis.stats.format_slowdown`), and shown by a few lines
of script that only copy that text into a table; the page stays one file that works
offline, and a thousand runs cost a few kilobytes each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from bench.analysis.cells import Cell, grouped
from bench.analysis.frame import variant_label
from bench.metrics import format_value
from bench.report.sections import Page, Table, ratio_text
from bench.report.selection import started
from bench.results import RunDocument

#: Environment fields stored as numbers in a unit, shown in human units.
FIELD_UNITS: dict[str, str] = {"mem_total": "B", "memory_bytes": "B"}

_UNSET = "\N{EN DASH}"


def runs(page: Page) -> list[dict[str, Any]]:
    """Per platform: a table of its loaded runs (newest first) and the data of its run
    selector: the headline cells of each run as text, by run id."""
    selected = page.selected
    by_run = grouped((c for c in page.cells if c.headline), lambda c: c.run_id)
    platforms = []
    for number, (platform, documents) in enumerate(_platform_runs(page).items()):
        newest_first = documents[::-1]
        rows = tuple(_run_row(d, str(d.run["id"]) in selected) for d in newest_first)
        detail = _detail({str(d.run["id"]): by_run.get(str(d.run["id"]), []) for d in newest_first})
        platforms.append(
            {
                "id": f"runs-{number}",
                "platform": platform,
                "count": len(documents),
                "table": Table(
                    ("started", "run", "status", "engine", "ok / skipped / failed", "in summary"),
                    rows,
                    tuple("selected" if r[-1] == "yes" else "" for r in rows),
                    nowrap_from=0,
                ),
                "choices": [(str(d.run["id"]), _run_label(d)) for d in newest_first],
                "detail": _script_json(detail),
            }
        )
    return platforms


def _platform_runs(page: Page) -> dict[str, list[RunDocument]]:
    """Every loaded run per platform, oldest first, platforms in the page's order."""
    found: dict[str, list[RunDocument]] = {platform: [] for platform in page.styles}
    for _, document in page.loaded.documents:
        found.setdefault(str(document.platform["id"]), []).append(document)
    for documents in found.values():
        documents.sort(key=lambda d: (started(d), str(d.run["id"])))
    return {platform: documents for platform, documents in found.items() if documents}


def _run_label(document: RunDocument) -> str:
    return f"{document.run.get('started_at') or '?'} \N{EM DASH} {document.run['id']}"


def _run_row(document: RunDocument, selected: bool) -> tuple[str, ...]:
    statuses = [r.status for r in document.results]
    counts = " / ".join(str(statuses.count(s)) for s in ("ok", "skipped", "failed"))
    return (
        str(document.run.get("started_at") or _UNSET),
        str(document.run["id"]),
        str(document.run.get("status") or _UNSET),
        str(document.engine.get("server_version") or _UNSET),
        counts,
        "yes" if selected else "no",
    )


def _detail(by_run: Mapping[str, Sequence[Cell]]) -> dict[str, Any]:
    """The selector's data: ``rows``, each headline row's scenario, variant and metric
    once; ``runs``, per run id its rows as ``[row, median, ratio to native]`` (text)."""
    rows: dict[tuple[str, str, str], int] = {}
    runs: dict[str, list[list[Any]]] = {}
    for run_id, cells in by_run.items():
        runs[run_id] = [
            [
                rows.setdefault((c.scenario, c.variant, c.metric), len(rows)),
                format_value(c.summary.median, c.unit),
                ratio_text(c),
            ]
            for c in cells
        ]
    return {"rows": [list(key) for key in rows], "runs": runs}


def _script_json(data: Any) -> Markup:
    """*data* as JSON safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` that
    could end it or open another (written as JSON escapes, read back the same)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 -- escaped for a script element just above


def outcomes(page: Page) -> Table:
    """Results that the selected runs skipped or failed, with their reasons: one row per
    platform, scenario, variant, status and reason, with how many runs it happened in."""
    counts: dict[tuple[str, ...], int] = {}
    for platform, by_scenario in page.chosen.items():
        for scenario, documents in by_scenario.items():
            for document in documents:
                for r in document.results:
                    if r.scenario == scenario and r.status != "ok":
                        key = (
                            platform,
                            scenario,
                            variant_label(r.variant),
                            r.status,
                            str(r.reason),
                        )
                        counts[key] = counts.get(key, 0) + 1
    rows = tuple(
        (*key[:4], f"{n} of {len(page.chosen[key[0]][key[1]])}", key[4])
        for key, n in counts.items()
    )
    return Table(
        ("platform", "scenario", "variant", "status", "runs", "reason"),
        rows,
        tuple(row[3] for row in rows),
    )


def environments(page: Page) -> list[dict[str, Any]]:
    """Each platform's latest selected run's record: platform and its detection reasons,
    engine, host, tools."""
    paths = {str(d.run["id"]): path for path, d in page.loaded.documents}
    found = []
    for platform in page.chosen:
        documents = page.runs_of(platform)
        document = documents[-1]
        found.append(
            {
                "label": platform,
                "runs": len(documents),
                "path": str(paths[str(document.run["id"])]),
                "run": _fields(document.run),
                "platform": _fields(document.platform, omit=("detection",)),
                "detection": [str(r) for r in document.platform.get("detection") or ()],
                "engine": _fields(document.engine, omit=("raw_info",)),
                "host": _fields(document.host),
                "tools": sorted(
                    {
                        f"{t.get('name', '?')} {t.get('version', '?')}"
                        for r in document.results
                        if (t := r.tool)
                    }
                ),
            }
        )
    return found


def _fields(record: Mapping[str, Any], omit: Sequence[str] = ()) -> list[tuple[str, str]]:
    """A record's fields as text, sizes in human units (:data:`FIELD_UNITS`)."""
    return [
        (str(key), _field_text(value, FIELD_UNITS.get(str(key))))
        for key, value in record.items()
        if key not in omit
    ]


def _field_text(value: Any, unit: str | None = None) -> str:
    """A field of a results file as text: numbers in *unit* when given, lists and objects
    as compact JSON."""
    if value is None or value == "":
        return _UNSET
    if isinstance(value, str):
        return value
    if unit is not None and isinstance(value, int | float) and not isinstance(value, bool):
        return format_value(value, unit)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
