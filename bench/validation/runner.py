"""``crossdock validate``: every area's validation in one run, rounds added until every
comparison is conclusive or the time budget ends, stored as a results file."""

from __future__ import annotations

import contextlib
import importlib
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench import results
from bench.driver import Progress
from bench.driver.boundary import Silent
from bench.driver.session import check_engine, open_session, running, scratch_root
from bench.environment import engine
from bench.errors import CrossdockError, ValidationError, first_line
from bench.provision.context import RunContext
from bench.validation import Area, Validation, unsettled

#: area -> (module with ``opened(ctx)``, rounds measured before any is judged)
AREAS: dict[str, tuple[str, int]] = {
    "startup": ("bench.validation.startup", 30),
    "fileio": ("bench.validation.fileio", 10),
    "network": ("bench.validation.network", 5),
}
#: seconds from the first round after which no further round is started
DEFAULT_BUDGET_S = 1800.0
#: an area that is still inconclusive gets at most this share of its first rounds per pass
_BATCH_SHARE = 3


@dataclass(frozen=True)
class Settled:
    """How the rounds ended: ``stop`` says why; ``seconds`` is the time they took."""

    stop: str
    seconds: float


def settle(
    areas: Sequence[tuple[Area, int]],
    *,
    budget: float,
    clock: Callable[[], float] = time.monotonic,
    progress: Progress | None = None,
    after_pass: Callable[[], None] = lambda: None,
) -> Settled:
    """Measure each area's first rounds (its ``int``), interleaved across areas round by
    round; then, while any comparison is inconclusive and *budget* seconds (counted on
    *clock* from the first round) have not run out, pass over the inconclusive areas,
    giving each a batch of rounds: its projected need, at most a third of its first
    rounds, at least one. A round once started is finished; no round starts after the
    budget ends. *after_pass* is called after the first rounds and after every pass (to
    store what was measured)."""
    report = progress or Silent()
    start = clock()
    for index in range(max((n for _, n in areas), default=0)):
        for area, first in areas:
            if index < first:
                area.round()
                report.step(f"{area.name} round {index + 1}")
    after_pass()
    while True:
        pending = [(a, first) for a, first in areas if unsettled(a.comparisons())]
        if not pending:
            return Settled("every comparison is conclusive", clock() - start)
        batches = [(area, _batch(area, first)) for area, first in pending]
        report.more(sum(n for _, n in batches))  # the progress total grows by this pass
        for area, batch in batches:
            for _ in range(batch):
                if clock() - start >= budget:
                    after_pass()
                    return Settled(f"the time budget of {budget:g} s ended", clock() - start)
                area.round()
                report.step(f"{area.name}: one more round")
        after_pass()


def _batch(area: Area, first: int) -> int:
    """Rounds to add to *area* in one pass (see :func:`settle`)."""
    projected = [c.more_rounds for c in area.comparisons() if c.verdict == "inconclusive"]
    known = [p for p in projected if p is not None]
    cap = max(1, math.ceil(first / _BATCH_SHARE))
    return max(1, min(max(known, default=cap), cap))


def validate(
    *,
    areas: Sequence[str] = (),
    rounds: int | None = None,
    budget: float | None = None,
    out: Path = Path("results"),
    context: str | None = None,
    argv: Sequence[str] = (),
    progress: Progress | None = None,
) -> tuple[list[Validation], Path]:
    """Run the validations of *areas* (all by default) on one engine, *rounds* first rounds
    per area (else each area's default), then more until every comparison is conclusive
    or *budget* seconds (default :data:`DEFAULT_BUDGET_S`) have passed (:func:`settle`);
    returns them and the results file they were stored in (``run.purpose = "validate"``;
    ``run.validation`` holds each comparison with its verdict, ``run.validation_rounds``
    how the rounds ended).

    An area whose reference tool is missing on the host is returned with no comparisons.
    Raises :class:`NoEngineError` without an engine and :class:`ProvisionError` without a
    scratch directory (nothing is written then); :class:`ProvisionError` when an image or
    a place cannot be made and :class:`ValidationError` when an area cannot measure (the
    file keeps what was stored before, marked ``partial``)."""
    chosen = list(dict.fromkeys(areas)) or list(AREAS)
    budget = DEFAULT_BUDGET_S if budget is None else budget
    report = progress or Silent()
    scratch_root()
    session = open_session(
        eng=engine.connect(context), context=context, out=out, argv=argv,
        run_extra={"purpose": "validate"},
    )  # fmt: skip
    base = session.document
    first = {name: rounds or AREAS[name][1] for name in chosen}
    report.begin(f"validate · {base.platform['id']}", sum(first.values()))
    with running([session]) as (ctx,), _opened(chosen, ctx) as opened:
        measured = [(area, first[name]) for name, area in opened.items() if area is not None]

        def store(settled: Settled | None = None) -> None:
            session.store(_document(base, _validations(chosen, opened), settled, budget))

        try:
            settled = settle(measured, budget=budget, progress=report, after_pass=store)
        except CrossdockError:
            raise
        except Exception as e:  # the one failure boundary of validation: a message, no traceback
            check_engine(ctx)
            raise ValidationError(f"validating: {first_line(e, 500)}") from e
        store(settled)
        return _validations(chosen, opened), session.path


@contextlib.contextmanager
def _opened(chosen: Sequence[str], ctx: RunContext) -> Iterator[dict[str, Area | None]]:
    """Each chosen area opened (``None``: its reference tool is missing), all closed at the
    end; an area that cannot open becomes a :class:`ValidationError` naming it."""
    with contextlib.ExitStack() as stack:
        opened: dict[str, Area | None] = {}
        for name in chosen:
            try:
                opened[name] = stack.enter_context(
                    importlib.import_module(AREAS[name][0]).opened(ctx)
                )
            except CrossdockError:
                raise
            except Exception as e:
                check_engine(ctx)
                raise ValidationError(f"validating {name}: {first_line(e, 500)}") from e
        yield opened


def _validations(chosen: Sequence[str], opened: Mapping[str, Area | None]) -> list[Validation]:
    found = []
    for name in chosen:
        area = opened[name]
        if area is None:
            found.append(Validation(name, ()))
        else:
            found.append(Validation(name, area.comparisons(), area.results(), area.rounds))
    return found


def _document(
    base: results.RunDocument,
    validations: Sequence[Validation],
    settled: Settled | None,
    budget: float,
) -> results.RunDocument:
    comparisons: list[dict[str, Any]] = [
        {**asdict(c), "area": v.area, "rounds": v.rounds}
        for v in validations
        for c in v.comparisons
    ]
    rounds: dict[str, Any] = {"budget_s": budget}
    if settled is not None:
        rounds |= {"stop": settled.stop, "seconds": round(settled.seconds, 1)}
    return replace(
        base,
        run={**base.run, "validation": comparisons, "validation_rounds": rounds},
        results=base.results + tuple(r for v in validations for r in v.results),
    )
