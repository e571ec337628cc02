"""Which runs the report summarises: per platform, its latest run, its latest *N*, or
every run since a date (:class:`Selection`, :func:`select`).

The report loads every run it is given; a page of one column per run stops being
readable after a handful. So the summary and the scenario sections show each platform
once, from its selected runs, and every run's own headline figures stay reachable in the
page's per-platform run lists.
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
        """The selection in words, as the page says it: "the latest run of each platform"."""
        if self.latest == 1:
            chosen = "the latest run of each platform"
        elif self.latest is None:
            chosen = "every run of each platform"
        else:
            chosen = f"the latest {self.latest} runs of each platform"
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
) -> dict[str, list[RunDocument]]:
    """Each platform's selected runs, oldest first; a platform with none is left out."""
    chosen = {}
    for platform, runs in by_platform(documents).items():
        if selection.since is not None:
            runs = [d for d in runs if started(d).date() >= selection.since]
        if selection.latest is not None:
            runs = runs[-selection.latest :]
        if runs:
            chosen[platform] = runs
    return chosen
