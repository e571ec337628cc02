"""Invariants on a Linux-native engine: bind vs native, container vs native loopback."""

from __future__ import annotations

from factories import make_document, result

from bench import results
from bench.analysis import invariants


def doc(platform: str, bind_factor: float, loop_factor: float) -> results.RunDocument:
    def samples(value: float) -> tuple[float, ...]:
        return (value, value * 1.01, value * 0.99)

    rows = [
        result(
            "fileio", "fileio", {"target": t, "workload": w},
            {"bandwidth": ("B/s", "higher", samples(1e9 * (bind_factor if t == "bind" else 1)))},
        )
        for t in ("native", "bind")
        for w in ("seq-read", "rand-read")
    ] + [
        result(
            "network", "network", {"path": p, "direction": "forward"},
            {"bitrate": ("bit/s", "higher", samples(1e10 * (loop_factor if p != "native-loopback" else 1)))},
        )
        for p in ("native-loopback", "container-loopback")
    ]  # fmt: skip
    return make_document(run_id="r", platform=platform, results=rows)


def test_holding_invariants_say_nothing() -> None:
    assert invariants.check(doc("linux-native", 1.05, 0.9)) == []


def test_broken_invariants_name_the_ratio_and_what_to_look_at() -> None:
    found = invariants.check(doc("linux-native", 0.5, 0.5))
    assert len(found) == 2
    assert "bind/native bandwidth = 0.50" in found[0] and "seq-read" in found[0]
    assert "rand-read" not in found[0]  # only sequential workloads are held to it
    assert "container-loopback/native-loopback bitrate = 0.50" in found[1]


def test_other_platforms_are_not_held_to_linux_invariants() -> None:
    assert invariants.check(doc("docker-desktop-mac", 0.2, 0.01)) == []


def cold_doc(platform: str, cold_factor: float) -> results.RunDocument:
    def end_to_end(value: float) -> dict[str, tuple[str, str, tuple[float, ...]]]:
        return {"end_to_end": ("s", "lower", (value, value * 1.01, value * 0.99))}

    rows = [
        result("startup-cold", "startup", {"runtime": "container", "cache": c}, end_to_end(v))
        for c, v in (("warm", 0.3), ("cold", 0.3 * cold_factor))
    ]
    return make_document(run_id="r", platform=platform, results=rows)


def test_a_cold_start_faster_than_warm_is_flagged_on_every_platform() -> None:
    for platform in ("linux-native", "docker-desktop-mac", "wsl2-engine"):
        assert invariants.check(cold_doc(platform, 1.3)) == []
        assert invariants.check(cold_doc(platform, 0.95)) == []  # within noise
        (found,) = invariants.check(cold_doc(platform, 0.6))
        assert "cold/warm end_to_end = 0.60 (expected >= 0.90)" in found
        assert "cache_method" in found
