"""bench.validation: the verdict and its rounds projection, the loop that adds rounds
within a time budget (a fake clock), and the references read from real outputs of dd,
hyperfine and the engine's event stream; dd and the socket loop run for real."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bench.analysis.stats import Ratio
from bench.results import Result
from bench.validation import MIN_ROUNDS, Comparison, compare, judge, unsettled
from bench.validation.references import (
    EventSpans,
    dd_bandwidth,
    hyperfine_seconds,
    parse_dd,
    refused_direct,
    socket_bitrate,
)
from bench.validation.runner import settle

FIXTURES = Path(__file__).parent / "fixtures" / "validation"


def ratio(value: float, low: float, high: float) -> Ratio:
    return Ratio(value=value, ci=(low, high), confidence=0.95)


# --- the verdict ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "verdict"),
    [
        ((0.97, 1.00, 1.04), "pass"),  # wholly inside [1/1.05, 1.05]
        ((0.953, 1.0, 1.049), "pass"),
        ((1.10, 1.12, 1.20), "fail"),  # wholly above
        ((0.80, 0.85, 0.94), "fail"),  # wholly below 1/1.05 = 0.952
        ((0.96, 1.02, 1.08), "inconclusive"),  # reaches past the upper edge
        ((0.90, 0.99, 1.01), "inconclusive"),  # reaches past the lower edge
        ((0.80, 1.00, 1.25), "inconclusive"),  # past both
        ((1.00, 1.10, 1.20), "inconclusive"),  # outside on its median, not wholly
    ],
)
def test_a_verdict_needs_the_whole_interval_on_one_side_of_the_band(
    interval: tuple[float, float, float], verdict: str
) -> None:
    low, value, high = interval
    assert judge(ratio(value, low, high), 1.05, n=30).verdict == verdict


def test_without_a_band_the_ratio_is_reported_and_without_an_interval_nothing_is_judged() -> None:
    assert judge(ratio(1.0, 0.99, 1.01), None, n=30).verdict == "reported"
    alone = judge(Ratio(value=1.0, ci=None, confidence=0.95), 1.05, n=1)
    assert alone.verdict == "inconclusive" and alone.more_rounds == MIN_ROUNDS - 1
    assert judge(None, 1.05, n=0).verdict == "inconclusive"


def test_fewer_rounds_than_a_95_percent_median_interval_needs_are_never_judged() -> None:
    few = judge(ratio(1.0, 0.999, 1.001), 1.05, n=MIN_ROUNDS - 1)
    assert few.verdict == "inconclusive" and few.more_rounds == 1
    assert judge(ratio(1.0, 0.999, 1.001), 1.05, n=MIN_ROUNDS).verdict == "pass"
    assert judge(ratio(2.0, 1.9, 2.1), 1.05, n=2).verdict == "inconclusive"


@pytest.mark.parametrize(
    ("interval", "settles_as"),
    [
        ((0.96, 1.02, 1.08), "pass"),
        ((0.85, 0.97, 1.03), "pass"),
        ((1.00, 1.12, 1.30), "fail"),
        ((0.70, 0.90, 0.97), "fail"),
    ],
)
def test_the_projected_rounds_settle_an_interval_that_shrinks_as_one_over_root_n(
    interval: tuple[float, float, float], settles_as: str
) -> None:
    """The projection's own model: after ``more_rounds``, the log half-widths scaled by
    ``sqrt(n / n')`` give the verdict; one round fewer does not (up to rounding)."""
    low, value, high = interval
    n = 30
    more = judge(ratio(value, low, high), 1.05, n=n).more_rounds
    assert more is not None and more > 0

    def scaled(rounds: int) -> str:
        k = math.sqrt(n / rounds)
        lo = value * math.exp((math.log(low) - math.log(value)) * k)
        hi = value * math.exp((math.log(high) - math.log(value)) * k)
        return judge(ratio(value, lo, hi), 1.05, n=rounds).verdict

    assert scaled(n + more) == settles_as
    assert scaled(n + more - 2) == "inconclusive"


def test_a_median_on_the_band_edge_cannot_be_projected() -> None:
    assert judge(ratio(1.05, 1.0, 1.1), 1.05, n=30).more_rounds is None


def test_compare_takes_the_ratio_of_medians_and_judges_it() -> None:
    rng = np.random.default_rng(5)
    reference = list(rng.lognormal(np.log(0.2), 0.02, 40))
    same = list(rng.lognormal(np.log(0.2), 0.02, 40))
    slower = list(rng.lognormal(np.log(0.3), 0.02, 40))
    kept = compare(
        "x", numerator=("a", same), denominator=("b", reference), unit="s",
        direction="lower", band=1.05, catches="method",
    )  # fmt: skip
    assert kept.verdict == "pass" and kept.n == 40 and 0.97 < kept.ratio < 1.03
    assert kept.ci_low is not None and kept.ci_low < kept.ratio < (kept.ci_high or 0)
    off = compare(
        "y", numerator=("a", slower), denominator=("b", reference), unit="s",
        direction="lower", band=1.05, catches="plumbing",
    )  # fmt: skip
    assert off.verdict == "fail" and 1.4 < off.ratio < 1.6
    shown = compare(
        "z", numerator=("a", slower), denominator=("b", reference), unit="s",
        direction="lower", band=None, catches="plumbing",
    )  # fmt: skip
    assert shown.verdict == "reported" and shown.catches == "reported"
    with pytest.raises(ValueError, match="unknown catches"):
        compare(
            "w", numerator=("a", same), denominator=("b", same), unit="s",
            direction="lower", band=1.05, catches="everything",
        )  # fmt: skip


# --- adding rounds within a budget ------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeArea:
    """An area whose comparison settles after *settles_after* rounds; each round costs
    *cost* seconds on the fake clock."""

    def __init__(self, name: str, clock: FakeClock, cost: float, settles_after: int) -> None:
        self.name, self.rounds = name, 0
        self._clock, self._cost, self._settles_after = clock, cost, settles_after
        self.log: list[str] = []

    def round(self) -> None:
        self._clock.now += self._cost
        self.rounds += 1
        self.log.append(f"{self.name}{self.rounds}")

    def comparisons(self) -> list[Comparison]:
        settled = self.rounds >= self._settles_after
        return [
            Comparison(
                name=self.name, catches="method", numerator="a", denominator="b", unit="s",
                direction="lower", median_numerator=1.0, median_denominator=1.0, ratio=1.0,
                ci_low=None, ci_high=None, n=self.rounds, band=1.05,
                verdict="pass" if settled else "inconclusive",
                more_rounds=None if settled else self._settles_after - self.rounds,
            )
        ]  # fmt: skip

    def results(self) -> list[Result]:
        return []


def test_first_rounds_are_interleaved_across_areas_then_rounds_are_added_until_conclusive() -> None:
    clock = FakeClock()
    a = FakeArea("a", clock, cost=1.0, settles_after=7)
    b = FakeArea("b", clock, cost=1.0, settles_after=2)
    order: list[str] = []
    a.log = b.log = order
    stores: list[int] = []
    done = settle([(a, 3), (b, 2)], budget=100, clock=clock, after_pass=lambda: stores.append(1))
    assert order[:5] == ["a1", "b1", "a2", "b2", "a3"]
    assert a.rounds == 7 and b.rounds == 2  # b was settled by its first rounds
    assert done.stop == "every comparison is conclusive" and done.seconds == 9.0
    assert not unsettled(a.comparisons()) and len(stores) >= 2


def test_no_round_starts_once_the_budget_has_run_out() -> None:
    clock = FakeClock()
    slow = FakeArea("slow", clock, cost=10.0, settles_after=1000)
    done = settle([(slow, 3)], budget=45, clock=clock)
    # the first 3 rounds always run (30 s); then rounds start at 30 and 40 s, not at 50
    assert slow.rounds == 5 and clock.now == 50.0
    assert done.stop == "the time budget of 45 s ended"


def test_a_budget_of_zero_measures_only_the_first_rounds() -> None:
    clock = FakeClock()
    area = FakeArea("a", clock, cost=1.0, settles_after=1000)
    settle([(area, 4)], budget=0, clock=clock)
    assert area.rounds == 4


# --- the references -----------------------------------------------------------------------


def test_dd_summary_lines_as_gnu_dd_prints_them() -> None:
    written = parse_dd((FIXTURES / "dd-write-direct.txt").read_text())
    assert written == (16_777_216, 0.0480771)
    assert parse_dd((FIXTURES / "dd-read-direct.txt").read_text()) == (16_777_216, 0.0500864)
    assert parse_dd((FIXTURES / "dd-nocache.txt").read_text()) == (0, 3.1299e-05)
    missing = (FIXTURES / "dd-missing.txt").read_text()
    with pytest.raises(ValueError, match="no dd summary"):
        parse_dd(missing)
    assert not refused_direct(missing)
    assert refused_direct("dd: failed to open 'crossdock-dd.dat': Invalid argument\n")


@pytest.mark.skipif(shutil.which("dd") is None, reason="dd not installed")
def test_dd_moves_the_file_with_direct_io_and_says_so(tmp_path: Path) -> None:
    target = tmp_path / "f.dat"
    written = dd_bandwidth(target, "write", size_mib=4)
    assert target.stat().st_size == 4 << 20
    assert written.bytes == 4 << 20 and written.seconds > 0 and written.direct
    read = dd_bandwidth(target, "read", size_mib=4)
    assert read.bytes == 4 << 20 and read.bandwidth == read.bytes / read.seconds


def test_dd_falls_back_to_buffered_io_where_direct_io_is_refused(tmp_path: Path) -> None:
    """A filesystem that refuses O_DIRECT cannot be had here: a dd in front of the real
    one refuses the direct flags with the message GNU dd prints then."""
    real = shutil.which("dd")
    if real is None:
        pytest.skip("dd not installed")
    shim = tmp_path / "dd"
    shim.write_text(
        "#!/bin/sh\n"
        'case "$*" in *direct*) echo "dd: failed to open \'x\': Invalid argument" >&2; exit 1;; esac\n'
        f'exec {real} "$@"\n'
    )
    shim.chmod(0o755)
    target = tmp_path / "f.dat"
    written = dd_bandwidth(target, "write", size_mib=2, dd=str(shim))
    read = dd_bandwidth(target, "read", size_mib=2, dd=str(shim))
    assert not written.direct and not read.direct
    assert written.bytes == read.bytes == 2 << 20
    with pytest.raises(subprocess.CalledProcessError):
        dd_bandwidth(tmp_path / "absent" / "f.dat", "read", size_mib=1)


def test_hyperfine_export_gives_the_runs_time() -> None:
    assert hyperfine_seconds((FIXTURES / "hyperfine-true.json").read_text()) == 0.024612602


class _Api:
    def __init__(self, events: list[dict[str, object]]) -> None:
        self.events_seen = events

    def events(self, **_: object) -> list[dict[str, object]]:
        return self.events_seen


def test_the_engine_span_is_create_to_destroy_of_the_next_container_on_the_engine_clock() -> None:
    events = json.loads((FIXTURES / "docker-events-create-to-destroy.json").read_text())
    spans = EventSpans(_Api([]), {"io.crossdock.run": "x"})
    mark = spans.mark()
    for event in events:
        spans.add(event)
    nanos = {e["Action"]: e["timeNano"] for e in events}
    assert spans.span_after(mark) == (nanos["destroy"] - nanos["create"]) * 1e-9
    assert spans.mark() == mark + 1
    with pytest.raises(TimeoutError):
        spans.span_after(spans.mark(), timeout=0.05)


def test_the_socket_loop_counts_what_arrives_over_loopback() -> None:
    bitrate = socket_bitrate(duration=0.3, omit=0.1)
    assert bitrate > 1e8  # loopback moves far more than 100 Mbit/s
