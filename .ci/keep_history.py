#!/usr/bin/env python3
"""Keep the history the CI matrix publishes: add results files to a history folder and
drop the runs that started more than --weeks weeks ago (docs/ci.md, "History").

    python .ci/keep_history.py [--weeks 52] HISTORY [RESULTS ...]

HISTORY is laid out as results/ is (<platform-id>/<run-id>.json); RESULTS are files or
folders searched for *.json (a CI run's downloaded artifacts). With no RESULTS it only
prunes. Unreadable files are named and skipped; the exit code is 0 unless HISTORY is not
a folder.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench.regressions import KEEP_WEEKS, keep


def main() -> int:
    parser = argparse.ArgumentParser(prog="keep_history", description=__doc__.split("\n\n")[0])
    parser.add_argument("history", type=Path, metavar="HISTORY")
    parser.add_argument("sources", type=Path, nargs="*", metavar="RESULTS")
    parser.add_argument("--weeks", type=int, default=KEEP_WEEKS, metavar="N")
    args = parser.parse_args()
    args.history.mkdir(parents=True, exist_ok=True)
    done = keep(into=args.history, sources=args.sources, now=datetime.now(UTC), weeks=args.weeks)
    for note in done.skipped:
        print(f"skipped {note}", file=sys.stderr)
    kept = sum(1 for _ in args.history.rglob("*.json"))
    print(
        f"{len(done.added)} runs added, {len(done.dropped)} older than {args.weeks} weeks "
        f"dropped, {kept} kept in {args.history}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
