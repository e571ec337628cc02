"""The JSON summary export: its documented schema, and figures equal to the analysis the
report shows."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from factories import write_suite

from bench.analysis import stats
from bench.cli import main
from bench.errors import BadInputError
from bench.interop import SUMMARY_VERSION, export_summary
from bench.results import read

SERIES_KEYS = {
    "platform", "run_id", "started_at", "scenario", "kind", "variant", "variant_label",
    "metric", "unit", "direction", "headline", "n", "median", "ci", "outliers", "vs_native",
}  # fmt: skip
VERSUS_KEYS = {
    "native_variant_label", "native_median", "ratio", "ci", "times_slower",
    "times_slower_ci", "text", "too_few_samples",
}  # fmt: skip


def test_summary_has_every_series_with_its_median_interval_and_ratio(tmp_path: Path) -> None:
    paths = write_suite(tmp_path / "results", ["linux-native", "docker-desktop-mac"])
    output = tmp_path / "summary.json"

    info = export_summary(inputs=[tmp_path / "results"], output=output)

    data = json.loads(output.read_text(encoding="utf-8"))
    assert (data["format"], data["version"]) == ("crossdock-summary", SUMMARY_VERSION)
    assert [r["platform"] for r in data["runs"]] == ["docker-desktop-mac", "linux-native"]
    documents = [read(p) for p in paths]
    expected = sum(1 for d in documents for r in d.results if r.status == "ok" for _ in r.metrics)
    assert len(data["series"]) == expected
    assert info.n_runs == 2
    assert all(set(s) == SERIES_KEYS for s in data["series"])
    compared = [s for s in data["series"] if s["vs_native"]]
    assert compared and all(set(s["vs_native"]) == VERSUS_KEYS for s in compared)
    # a rate: the ratio of the metric itself, and direction-free "times slower"
    rate = next(s for s in compared if s["direction"] == "higher")
    versus = rate["vs_native"]
    assert versus["ratio"] == pytest.approx(rate["median"] / versus["native_median"])
    assert versus["times_slower"] == pytest.approx(1 / versus["ratio"])
    ratio = stats.Ratio(versus["ratio"], tuple(versus["ci"]), 0.95)
    assert versus["text"] == stats.format_slowdown(ratio, "higher")
    # the median and its n are the samples' own
    document = next(d for d in documents if str(d.run["id"]) == rate["run_id"])
    result = next(
        r
        for r in document.results
        if r.scenario == rate["scenario"] and dict(r.variant) == rate["variant"]
    )
    samples = next(m.samples for m in result.metrics if m.name == rate["metric"])
    assert (rate["n"], rate["median"]) == (len(samples), statistics.median(samples))
    assert rate["ci"] is not None and rate["ci"][0] <= rate["median"] <= rate["ci"][1]
    # what was not measured is listed with its reason, never a zero
    statuses = {(m["platform"], m["status"]) for m in data["not_measured"]}
    assert ("linux-native", "skipped") in statuses and ("linux-native", "failed") in statuses
    assert all(m["reason"] for m in data["not_measured"])


def test_summary_export_from_the_command_line(tmp_path: Path) -> None:
    write_suite(tmp_path / "results", ["linux-native"])
    output = tmp_path / "out" / "summary.json"

    assert main(["export", "--format", "json", str(tmp_path / "results"), "-o", str(output)]) == 0
    assert json.loads(output.read_text(encoding="utf-8"))["series"]


def test_summary_export_refuses_inputs_it_cannot_use_whole(tmp_path: Path) -> None:
    write_suite(tmp_path / "results", ["linux-native"])
    (tmp_path / "results" / "broken.json").write_text("{", encoding="utf-8")

    with pytest.raises(BadInputError, match=r"broken\.json"):
        export_summary(inputs=[tmp_path / "results"], output=tmp_path / "s.json")
    assert not (tmp_path / "s.json").exists()
