"""Which runs the report summarises: per platform and scenario, the latest run that
measured it, the latest *N*, or every one since a date (:class:`Selection`,
:func:`select`).

The report loads every run it is given; a page of one column per run stops being
readable after a handful. So the summary and the scenario sections show each platform
once, from its selected runs, and every run's own headline figures stay reachable in the
page's per-platform run lists. The choice is made per scenario, so a run that measured
other things (a ``crossdock validate`` run, a ``quick`` run beside ``default`` ones) does
not hide the latest run of a scenario it did not measure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bench.results import RunDocument

#: When a run's ``started_at`` cannot be read: before every real date.
_UNDATED = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Selection:
    """Runs to summarise per platform: the *latest* N (``None``: all) of those started on
    or after *since* (``None``: any date). The default is each platform's latest run."""

    latest: int | None = 1
    since: date | None = None

    def __post_init__(self) -> None:
        if self.latest is not None and self.latest < 1:
            raise ValueError(f"latest must be at least 1, not {self.latest}")

    def describe(self) -> str:
        """The selection in words, as the page says it: "each platform's latest run of
        each scenario"."""
        if self.latest == 1:
            chosen = "each platform's latest run of each scenario"
        elif self.latest is None:
            chosen = "every run of each platform"
        else:
            chosen = f"each platform's latest {self.latest} runs of each scenario"
        return chosen if self.since is None else f"{chosen} started since {self.since.isoformat()}"


def started(document: RunDocument) -> datetime:
    """When *document*'s run started (UTC; a run without a readable time sorts first)."""
    try:
        moment = datetime.fromisoformat(str(document.run.get("started_at")))
    except ValueError:
        return _UNDATED
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def by_platform(documents: Sequence[RunDocument]) -> dict[str, list[RunDocument]]:
    """*documents* per platform id, platforms in first-seen order, each platform's runs
    oldest first (by start time, then run id)."""
    platforms: dict[str, list[RunDocument]] = {}
    for document in documents:
        platforms.setdefault(str(document.platform["id"]), []).append(document)
    for runs in platforms.values():
        runs.sort(key=lambda d: (started(d), str(d.run["id"])))
    return platforms


def select(
    documents: Sequence[RunDocument], selection: Selection
) -> dict[str, dict[str, list[RunDocument]]]:
    """Per platform, per scenario (first seen first), the selected runs that hold a result
    of it, oldest first; a platform or scenario with none is left out."""
    chosen: dict[str, dict[str, list[RunDocument]]] = {}
    for platform, every in by_platform(documents).items():
        since = selection.since
        runs = every if since is None else [d for d in every if started(d).date() >= since]
        scenarios: dict[str, list[RunDocument]] = {}
        for document in runs:
            for name in dict.fromkeys(r.scenario for r in document.results):
                scenarios.setdefault(name, []).append(document)
        picked = {
            name: found if selection.latest is None else found[-selection.latest :]
            for name, found in scenarios.items()
        }
        if picked:
            chosen[platform] = picked
    return chosen
