"""bench.validation: the verdict and its rounds projection, the loop that adds rounds
within a time budget (a fake clock), and the references read from real outputs of
iperf2, hyperfine and the engine's event stream; the direct I/O loop and iperf2 run for
real."""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bench.analysis.stats import Ratio
from bench.results import Result
from bench.validation import MIN_ROUNDS, Comparison, compare, ioloop, judge, paired_ratio, unsettled
from bench.validation.references import (
    EventSpans,
    direct_io_bandwidth,
    hyperfine_seconds,
    iperf2_bitrate,
    parse_iperf2_server,
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


def test_compare_takes_the_median_of_per_round_ratios_and_judges_it() -> None:
    rng = np.random.default_rng(5)
    reference = list(rng.lognormal(np.log(0.2), 0.02, 40))
    same = list(rng.lognormal(np.log(0.2), 0.02, 40))
    slower = list(rng.lognormal(np.log(0.3), 0.02, 40))
    kept = compare(
        "x", numerator=("a", same), denominator=("b", reference), unit="s",
        direction="lower", band=1.05, catches="method",
    )  # fmt: skip
    assert kept.verdict == "pass" and kept.n == 40 and 0.97 < kept.ratio < 1.03 and kept.paired
    ratios = sorted(a / b for a, b in zip(same, reference, strict=True))
    assert kept.ratio == (ratios[19] + ratios[20]) / 2
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


def test_pairing_by_round_removes_drift_both_sides_share() -> None:
    """The machine slows and speeds up across rounds by up to 2x; both methods of a
    round see the same speed. Paired, the 1 % noise of each method is all that is left;
    unpaired (sets of unequal length), the drift swamps a 5 % band."""
    rng = np.random.default_rng(11)
    drift = rng.lognormal(0.0, 0.25, 40)
    harness = list(drift * rng.lognormal(np.log(0.2), 0.01, 40))
    reference = list(drift * rng.lognormal(np.log(0.2), 0.01, 40))
    paired = compare(
        "p", numerator=("a", harness), denominator=("b", reference), unit="s",
        direction="lower", band=1.05, catches="plumbing",
    )  # fmt: skip
    assert paired.paired and paired.verdict == "pass"
    unpaired = compare(
        "u", numerator=("a", harness), denominator=("b", reference[:-1]), unit="s",
        direction="lower", band=1.05, catches="plumbing",
    )  # fmt: skip
    assert not unpaired.paired and unpaired.verdict == "inconclusive"


def test_a_paired_ratio_needs_pairs_of_positive_values() -> None:
    assert paired_ratio([], []) is None
    assert paired_ratio([1.0, 2.0], [1.0]) is None
    assert paired_ratio([1.0, 0.0], [1.0, 1.0]) is None
    few = paired_ratio([2.0] * (MIN_ROUNDS - 1), [1.0] * (MIN_ROUNDS - 1))
    assert few is not None and few.value == 2.0 and few.ci is None
    enough = paired_ratio([2.0, 4.0, 6.0, 3.0, 2.0, 2.0], [1.0, 2.0, 2.0, 1.0, 1.0, 1.0])
    assert enough is not None and enough.value == 2.0 and enough.ci == (2.0, 3.0)


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


class Counting:
    """A progress display that counts its steps and what its total grew by."""

    def __init__(self) -> None:
        self.steps = self.added = 0

    def begin(self, label: str, total: int) -> None: ...

    def step(self, description: str) -> None:
        self.steps += 1

    def more(self, count: int) -> None:
        self.added += count

    def note(self, text: str) -> None: ...


def test_the_progress_total_grows_by_the_rounds_each_pass_adds() -> None:
    clock = FakeClock()
    area = FakeArea("a", clock, cost=1.0, settles_after=11)
    shown = Counting()
    settle([(area, 3)], budget=100, clock=clock, progress=shown)
    assert area.rounds == 11 and shown.steps == 11
    assert shown.added == 11 - 3  # the first 3 are the caller's total; never past it


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


def test_the_direct_io_loop_wraps_round_its_file_for_the_time_asked(tmp_path: Path) -> None:
    target = tmp_path / "f.dat"
    written = direct_io_bandwidth(target, "write", size_mib=4, duration=0.2)
    assert target.stat().st_size == 4 << 20  # laid out once, then overwritten in place
    assert written.direct and written.seconds >= 0.2
    assert written.bytes % (1 << 20) == 0 and written.bytes > 4 << 20  # wrapped round
    read = direct_io_bandwidth(target, "read", size_mib=4, duration=0.1)
    assert read.direct and read.bandwidth == read.bytes / read.seconds
    assert target.stat().st_size == 4 << 20


def test_the_direct_io_loop_falls_back_to_buffered_io_where_direct_io_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every filesystem here takes O_DIRECT: a refusing one (as some FUSE and network
    filesystems are) is stood in for by an ``open`` that fails as the kernel does then."""
    real_open = os.open

    def refusing(path: object, flags: int, *args: object) -> int:
        if flags & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refusing)
    target = tmp_path / "f.dat"
    written = ioloop.run(target, "write", size_mib=2, duration=0.05)
    read = ioloop.run(target, "read", size_mib=2, duration=0.05)
    assert not written[2] and not read[2]
    assert written[0] >= 2 << 20 and read[0] >= 1 << 20
    monkeypatch.setattr(os, "open", real_open)
    with pytest.raises(FileNotFoundError):
        ioloop.run(tmp_path / "absent" / "f.dat", "read", size_mib=1, duration=0.05)
    with pytest.raises(subprocess.CalledProcessError):  # the same, from its own process
        direct_io_bandwidth(tmp_path / "absent" / "f.dat", "read", size_mib=1, duration=0.05)


def test_iperf2_server_reports_give_what_arrived_after_the_omitted_second() -> None:
    """A real iperf2 2.1.8 server report (``-y C -i 1``) of a 3 s run over 127.0.0.1."""
    report = (FIXTURES / "iperf2-server.csv").read_text()
    count, seconds = parse_iperf2_server(report, omit=1.0)
    whole = 12_969_312_316
    first = 3_769_368_636
    assert count == whole - first
    exact = 8 * whole / 34_580_383_499 - 8 * first / 30_154_949_088
    assert seconds == pytest.approx(exact, rel=1e-12) and 1.9 < seconds < 2.1
    count, seconds = parse_iperf2_server(report, omit=0.0)
    assert count == whole and seconds == pytest.approx(8 * whole / 34_580_383_499)
    with pytest.raises(ValueError, match="no iperf2 report"):
        parse_iperf2_server((FIXTURES / "iperf2-client.csv").read_text()[:10], omit=1.0)


@pytest.mark.skipif(shutil.which("iperf") is None, reason="iperf2 (iperf) not installed")
def test_iperf2_counts_what_arrives_over_loopback() -> None:
    bitrate = iperf2_bitrate(duration=1.0, omit=1.0)
    assert bitrate > 1e8  # loopback moves far more than 100 Mbit/s


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
