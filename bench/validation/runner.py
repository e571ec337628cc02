"""``crossdock validate``: every area's validation in one run, stored as a results file."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench import results
from bench.driver import Progress
from bench.driver.boundary import Silent
from bench.driver.session import check_engine, open_session, running, scratch_root
from bench.environment import engine
from bench.errors import CrossdockError, ValidationError, first_line
from bench.provision.context import RunContext
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
    progress: Progress | None = None,
) -> tuple[list[Validation], Path]:
    """Run the validations of *areas* (all by default) on one engine; returns them and the
    results file they were stored in (``run.purpose = "validate"``).

    Raises :class:`NoEngineError` without an engine and :class:`ProvisionError` without a
    scratch directory (nothing is written then); :class:`ProvisionError` when an image or
    a place cannot be made and :class:`ValidationError` when an area cannot measure (the
    file keeps the areas done before, marked ``partial``)."""
    chosen = list(areas) or list(AREAS)
    report = progress or Silent()
    scratch_root()
    session = open_session(
        eng=engine.connect(context),
        context=context,
        out=out,
        argv=argv,
        run_extra={"purpose": "validate"},
    )
    done: list[Validation] = []
    report.begin(f"validate · {session.document.platform['id']}", len(chosen))
    with running([session]) as (ctx,):
        for area in chosen:
            validation = _validate(area, ctx, rounds)
            done.append(validation)
            session.store(_with(session.document, validation))
            report.step(area)
    return done, session.path


def _validate(area: str, ctx: RunContext, rounds: int | None) -> Validation:
    """One area's validation; a failure that is not already a crossdock error becomes a
    :class:`ValidationError` naming the area (or :class:`EngineLostError`)."""
    module, default_rounds = AREAS[area]
    try:
        validation: Validation = importlib.import_module(module).run(
            ctx, rounds=rounds or default_rounds
        )
    except CrossdockError:
        raise
    except Exception as e:  # the one failure boundary of validation: a message, no traceback
        check_engine(ctx)
        raise ValidationError(f"validating {area}: {first_line(e, 500)}") from e
    return validation


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
