"""``crossdock validate``: every area's validation in one run, stored as a results file."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench import driver, results
from bench.environment import engine, records
from bench.validation import Validation

#: area -> (module with ``run(ctx, *, rounds)``, default rounds)
AREAS: dict[str, tuple[str, int]] = {
    "startup": ("bench.validation.startup", 30),
    "fileio": ("bench.validation.fileio", 10),
    "network": ("bench.validation.network", 5),
}


def validate(
    *,
    areas: Sequence[str] = (),
    rounds: int | None = None,
    out: Path = Path("results"),
    context: str | None = None,
    argv: Sequence[str] = (),
    progress: driver.Progress | None = None,
) -> tuple[list[Validation], Path]:
    """Run the validations of *areas* (all by default) on one engine; returns them and the
    results file they were stored in (``run.purpose = "validate"``)."""
    chosen = list(areas) or list(AREAS)
    eng = engine.connect(context)
    run_id = records.new_run_id()
    document = records.new_document(
        run_id=run_id, eng=eng, context=context, argv=argv, run_extra={"purpose": "validate"}
    )
    path = results.result_path(out, str(document.platform["id"]), run_id)
    results.write_atomic(path, document)
    done: list[Validation] = []
    if progress:
        progress.begin(f"validate · {document.platform['id']}", len(chosen))
    with driver.run_context(run_id, eng) as ctx:
        try:
            for area in chosen:
                module, default_rounds = AREAS[area]
                validation = importlib.import_module(module).run(
                    ctx, rounds=rounds or default_rounds
                )
                done.append(validation)
                document = _with(document, validation)
                results.write_atomic(path, document)
                if progress:
                    progress.step(area)
        except BaseException:
            results.write_atomic(path, records.finish_document(document, complete=False))
            raise
    results.write_atomic(path, records.finish_document(document, complete=True))
    return done, path


def _with(document: results.RunDocument, validation: Validation) -> results.RunDocument:
    comparisons: list[dict[str, Any]] = list(document.run.get("validation", []))
    comparisons += [
        {**asdict(c), "area": validation.area, "passed": c.passed} for c in validation.comparisons
    ]
    return replace(
        document,
        run={**document.run, "validation": comparisons},
        results=document.results + tuple(validation.results),
    )
