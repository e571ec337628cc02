"""Results files shaped like real runs of a shipped suite, for the performance suite.

Real runs have many metric series with few samples each (the ``quick`` suite: about 280
series of 2 or 3 samples; ``default``: about 240 series of 10 or 30), where the files of
:mod:`perf.synthetic` have few series with many samples; the report's cost follows the
series. :func:`document` builds one run of a suite from two real sources:

- the suite's plan (:func:`bench.scenarios.resolve`): its scenarios, every variant they
  expand to, and the sample count each scenario takes in that suite;
- a real results file (:data:`TEMPLATE`, a ``quick`` run on this project's Linux engine):
  which metrics each kind of variant records, with their units, directions and typical
  values, which variants a platform skips, and the run's environment records.

Each planned variant takes the metrics of the template result of its kind and scenario
family whose parameters match it best (a skip stays a skip); every metric gets the
suite's sample count, log-normal around the template's median times the platform's
slowdown (:data:`perf.synthetic.PLATFORMS`, container variants only). Files cycle through
the platforms and are dated a day apart, newest last; each says it is synthetic
(``host.os_version``, run ids ``realshape-<suite>-NNNNN``).
"""

from __future__ import annotations

import functools
import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench import scenarios
from bench.kinds import is_native
from bench.plan import Scalar
from bench.results import Metric, Result, RunDocument, read, redact_home, result_path
from perf.synthetic import PLATFORMS, SYNTHETIC, PlatformShape
from perf.synthetic import document as synthetic_document

#: The real run the shapes come from: ``crossdock run --suite quick`` on this project's
#: Linux engine (Docker Engine 20.10, overlay2), as written.
TEMPLATE = Path(__file__).resolve().parent / "fixtures" / "quick-linux-native.json"

#: Which slowdown of a platform applies to a kind's container variants.
_SLOWDOWN = {"startup": "startup", "fileio": "sharing", "network": "network"}

#: The newest file's start; file *i* of *n* started ``n - 1 - i`` days before.
_NEWEST = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@functools.cache
def template() -> RunDocument:
    """The real run the shapes come from (:data:`TEMPLATE`)."""
    return read(TEMPLATE)


def _family(name: str) -> str:
    """A scenario's family: its name before a suite-specific suffix (``fileio-quick`` and
    ``fileio`` are one family)."""
    return name.removesuffix("-quick")


def _match(kind: str, scenario: str, variant: Mapping[str, Scalar]) -> Result | None:
    """The template result that *variant* of *scenario* looks most like: same kind, the
    same scenario family first, then the most parameters equal; ``None`` for a kind the
    template has no result of (``command``, only in ``full``)."""

    def score(result: Result) -> tuple[bool, int]:
        same = sum(result.variant.get(k) == v for k, v in variant.items())
        return (_family(result.scenario) == _family(scenario), same)

    candidates = [r for r in template().results if r.kind == kind]
    return max(candidates, key=score, default=None)


def _metric(rng: np.random.Generator, model: Metric, factor: float, n: int) -> Metric:
    centre = statistics.median(model.samples) * (
        factor if model.direction == "lower" else 1 / factor
    )
    samples = tuple(float(x) for x in centre * rng.lognormal(0.0, 0.08, n))
    return replace(model, samples=samples)


def plan_results(suite: str, platform: PlatformShape, rng: np.random.Generator) -> list[Result]:
    """One run of *suite* on *platform*: every planned variant, in plan order."""
    out = []
    for scenario in scenarios.resolve([], suite=suite):
        factor = float(getattr(platform, _SLOWDOWN.get(scenario.kind, "startup")))
        for planned in scenario.variants:
            variant = planned.as_dict()
            model = _match(scenario.kind, scenario.name, variant)
            if model is None:
                continue
            slower = 1.0 if is_native(scenario.kind, variant) else factor
            metrics = tuple(
                _metric(rng, m, slower, scenario.repetitions) for m in model.metrics if m.samples
            )
            out.append(
                replace(
                    model,
                    scenario=scenario.name,
                    variant=variant,
                    metrics=metrics if model.status == "ok" else (),
                    extra={**model.extra, "repetitions": scenario.repetitions},
                )
            )
    return out


def document(suite: str, index: int, count: int) -> RunDocument:
    """File *index* of *count* of *suite*: platform ``PLATFORMS[index % 5]``, seeded with
    *index*, started ``count - 1 - index`` days before the newest."""
    platform = PLATFORMS[index % len(PLATFORMS)]
    results = plan_results(suite, platform, np.random.default_rng(index))
    base = synthetic_document(index, results=results)
    started = _NEWEST - timedelta(days=count - 1 - index)
    run = {
        **base.run,
        "id": f"realshape-{suite}-{index:05d}",
        "started_at": started.isoformat().replace("+00:00", "Z"),
        "finished_at": (started + timedelta(minutes=15)).isoformat().replace("+00:00", "Z"),
        "argv": ["python", "-m", "perf.realshape", suite],
    }
    real = template()
    engine = {**real.engine, **{k: v for k, v in base.engine.items() if k != "raw_info"}}
    return replace(base, run=run, engine=engine, host={**base.host, "os_version": SYNTHETIC})


def write_corpus(
    root: Path, suite: str, count: int, *, start: int = 0, total: int | None = None
) -> list[Path]:
    """Write files *start* .. *count* - 1 of a corpus of *total* (default *count*) files of
    *suite* under *root*; their paths. Written as :func:`bench.results.write_atomic`
    renders them, without its fsync (a corpus is scratch data)."""
    written = []
    for index in range(start, count):
        doc = document(suite, index, total or count)
        path = result_path(root, str(doc.platform["id"]), str(doc.run["id"]))
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(redact_home(doc.to_json()), indent=1, allow_nan=False) + "\n"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


class RealCorpus:
    """Real-shaped files of *suite* under *root*, written on first use and kept, in one
    folder per size step (as :class:`perf.synthetic.Corpus`): the first *n* files are a
    list of folders, and the newest file is the last of the largest size."""

    def __init__(self, root: Path, suite: str, sizes: Sequence[int] = (10, 100, 1000)) -> None:
        self.root = root
        self.suite = suite
        self.sizes = tuple(sizes)
        self._written = 0

    def folders(self, n: int) -> list[Path]:
        """The folders holding files ``0 .. n-1`` (*n* one of :attr:`sizes`)."""
        if n not in self.sizes:
            raise ValueError(f"corpus size {n} is not a step (valid: {self.sizes})")
        steps = list(zip((0, *self.sizes), self.sizes, strict=False))[: self.sizes.index(n) + 1]
        for start, end in steps:
            if end > self._written:
                folder = self._folder(start, end)
                write_corpus(
                    folder, self.suite, end, start=max(start, self._written), total=self.sizes[-1]
                )
        self._written = max(self._written, n)
        return [self._folder(start, end) for start, end in steps]

    def _folder(self, start: int, end: int) -> Path:
        return self.root / f"{self.suite}-{start:05d}-{end - 1:05d}"


def shape(doc: RunDocument) -> tuple[int, int]:
    """(metric series, samples) of *doc*."""
    series = [len(m.samples) for r in doc.results for m in r.metrics if m.samples]
    return len(series), sum(series)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m perf.realshape SUITE COUNT DIR``: write a corpus, print its shape."""
    import sys

    suite, count, root = (argv if argv is not None else sys.argv[1:])[:3]
    paths = write_corpus(Path(root), suite, int(count))
    series, samples = shape(read(paths[0]))
    print(f"{len(paths)} files of suite {suite}; one file: {series} series, {samples} samples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
