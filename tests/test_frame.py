"""Tests of bench.analysis.frame: loading results files into tidy frames.

The documents come from tests/factories.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factories import (
    PLATFORMS,
    STARTUP_MATRIX,
    STARTUP_METRICS,
    default_suite,
    fileio_variant,
    make_document,
    network_variant,
    result,
    startup_results,
    startup_variant,
    write_suite,
)

from bench.analysis.baseline import headline_of, headlines, native_counterparts
from bench.analysis.frame import (
    OUTCOME_COLUMNS,
    SAMPLE_COLUMNS,
    load_frame,
    short_labels,
    variant_label,
    varying_labels,
)
from bench.kinds import is_native
from bench.results import Result, RunDocument, read, write_atomic

# --- tests ------------------------------------------------------------------------------


def test_variant_label_is_sorted_and_json_valued() -> None:
    label = variant_label({"network": "bridge", "mount": "bind", "publish": True, "concurrency": 4})
    assert label == "concurrency=4, mount=bind, network=bridge, publish=true"
    assert variant_label({"b": 1, "a": 2}) == variant_label({"a": 2, "b": 1})
    assert variant_label({}) == "default"


def test_varying_labels_keep_only_what_differs() -> None:
    variants = {
        variant_label(v): v
        for v in (
            startup_variant("native"),
            startup_variant("container", network="bridge"),
            startup_variant("container", mount="bind"),
        )
    }
    short, shared = varying_labels(variants)
    assert list(short.values()) == [
        "mount=none, network=none, runtime=native",
        "mount=none, network=bridge, runtime=container",
        "mount=bind, network=none, runtime=container",
    ]
    assert shared == "cache=warm, cli=true, concurrency=1, image=busybox, publish=false"
    alone, everything = varying_labels({"x": {"target": "bind"}})
    assert alone == {"x": "default"} and everything == "target=bind"


def test_short_labels_name_what_varies_within_each_scenario_across_documents() -> None:
    rng = np.random.default_rng(1)
    alone = result(
        "alone", "startup", startup_variant("native"), {"end_to_end": ("s", "lower", (0.1,))}
    )
    one = make_document(run_id="one", results=[*startup_results(rng, n=3, containers=1), alone])
    two = make_document(run_id="two", results=startup_results(rng, n=3, containers=2))

    labels = short_labels([one, two])

    assert labels["alone"] == {variant_label(startup_variant("native")): "default"}
    assert sorted(labels["startup"].values()) == [
        "mount=bind, runtime=container",  # only in the second run
        "mount=none, runtime=container",
        "mount=none, runtime=native",
    ]
    without = short_labels([one, two], exclude="runtime")
    assert "runtime" not in " ".join(without["startup"].values())


def test_the_headline_metric_is_the_metric_tables_first_headline_one_compared() -> None:
    assert headline_of(["create", "end_to_end", "start"]) == "end_to_end"
    assert headline_of(["create", "start"]) == "create"  # no headline metric: the first
    assert headlines([("a", "create"), ("b", "retries"), ("a", "end_to_end")]) == {
        "a": "end_to_end",
        "b": "retries",
    }


def test_samples_are_tidy_one_row_per_sample(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    document = make_document(run_id="r1", results=startup_results(rng, n=12, containers=3))
    write_atomic(tmp_path / "r1.json", document)

    loaded = load_frame([tmp_path / "r1.json"])

    samples = loaded.samples
    assert tuple(samples.columns[: len(SAMPLE_COLUMNS)]) == SAMPLE_COLUMNS
    assert {c for c in samples.columns if c.startswith("v_")} == {
        "v_runtime",
        "v_network",
        "v_publish",
        "v_mount",
        "v_image",
        "v_concurrency",
        "v_cli",
        "v_cache",
    }
    # native: 1 metric x 12; three container variants: 9 metrics and throughput x 12
    assert len(samples) == 12 + 3 * (len(STARTUP_METRICS) + 1) * 12
    native = samples[samples["v_runtime"] == "native"]
    assert set(native["metric"]) == {"end_to_end"}
    assert native["repetition"].tolist() == list(range(1, 13))
    assert native["value"].tolist() == list(document.results[0].metrics[0].samples)
    assert set(samples["platform"]) == {"linux-native"}
    assert set(samples["run_id"]) == {"r1"}
    assert set(samples["status"]) == {"ok"}
    bridge = samples[samples["v_network"] == "bridge"]
    assert set(bridge["variant"]) == {
        "cache=warm, cli=true, concurrency=1, image=busybox, mount=none, network=bridge, publish=false, "
        "runtime=container"
    }
    assert loaded.warnings == ()
    assert [p for p, _ in loaded.documents] == [tmp_path / "r1.json"]


def test_skipped_and_failed_results_give_outcomes_but_no_samples(tmp_path: Path) -> None:
    results = [
        result(
            "startup",
            "startup",
            startup_variant("native"),
            {"end_to_end": ("s", "lower", (0.1, 0.2))},
        ),
        Result("startup", "startup", startup_variant("container"), "skipped", reason="no engine"),
        Result("fileio", "fileio", {"target": "bind"}, "failed", reason="fio exited 1"),
    ]
    write_atomic(tmp_path / "r.json", make_document(run_id="r", results=results))

    loaded = load_frame([tmp_path])

    assert len(loaded.samples) == 2
    outcomes = loaded.outcomes
    assert tuple(outcomes.columns[: len(OUTCOME_COLUMNS)]) == OUTCOME_COLUMNS
    assert outcomes["status"].tolist() == ["ok", "skipped", "failed"]
    assert outcomes["reason"].tolist()[1:] == ["no engine", "fio exited 1"]
    assert outcomes["v_target"].tolist()[2] == "bind"


def test_folders_are_searched_recursively(tmp_path: Path) -> None:
    paths = write_suite(tmp_path / "results")
    (tmp_path / "results" / "README.md").write_text("not results")

    loaded = load_frame([tmp_path / "results"])

    assert sorted(p for p, _ in loaded.documents) == sorted(paths)
    assert set(loaded.samples["platform"]) == set(PLATFORMS)
    assert loaded.warnings == ()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"schema_version": 1, "run": {"id": "x"', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        ('{"name": "some other tool", "data": [1, 2]}', "not a crossdock results file"),
        ("[1, 2, 3]", "not a crossdock results file"),
        ('{"schema_version": 99, "run": {}}', "newer than this crossdock understands"),
        ('{"schema_version": 1, "run": {"id": "x"}}', "invalid results file"),
    ],
    ids=["truncated", "binary", "foreign", "array", "future", "incomplete"],
)
def test_bad_files_are_skipped_with_a_warning_naming_them(
    tmp_path: Path, content: str | bytes, expected: str
) -> None:
    good = tmp_path / "good.json"
    write_atomic(
        good,
        make_document(
            run_id="good", results=startup_results(np.random.default_rng(0), n=6, containers=1)
        ),
    )
    bad = tmp_path / "bad.json"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content)

    loaded = load_frame([tmp_path])

    assert [p for p, _ in loaded.documents] == [good]
    assert len(loaded.warnings) == 1
    assert str(bad) in loaded.warnings[0]
    assert expected in loaded.warnings[0]
    assert set(loaded.samples["run_id"]) == {"good"}


def test_missing_paths_and_duplicate_runs_are_warnings(tmp_path: Path) -> None:
    document = make_document(
        run_id="same", results=startup_results(np.random.default_rng(0), n=6, containers=1)
    )
    write_atomic(tmp_path / "a.json", document)
    write_atomic(tmp_path / "copy" / "a.json", document)
    dangling = tmp_path / "gone.json"
    dangling.symlink_to(tmp_path / "deleted.json")

    loaded = load_frame(
        [tmp_path / "a.json", tmp_path / "a.json", tmp_path / "copy", tmp_path / "nope", dangling]
    )

    assert [p for p, _ in loaded.documents] == [tmp_path / "a.json"]
    assert len(loaded.warnings) == 3
    duplicate = next(w for w in loaded.warnings if "already loaded" in w)
    assert str(tmp_path / "copy" / "a.json") in duplicate and "'same'" in duplicate
    for missing in ("nope", "gone.json"):
        assert any(missing in w and "no such file" in w for w in loaded.warnings)


def test_no_inputs_give_empty_frames_with_columns() -> None:
    loaded = load_frame([])

    assert loaded.samples.empty and tuple(loaded.samples.columns) == SAMPLE_COLUMNS
    assert loaded.outcomes.empty and tuple(loaded.outcomes.columns) == OUTCOME_COLUMNS
    assert loaded.documents == () and loaded.warnings == ()


def test_native_counterparts_match_on_parameters_that_vary_among_natives() -> None:
    document = default_suite("linux-native", seed=3)
    pairs = native_counterparts([document])
    run = "linux-native-3"

    # startup: a single native variant is the baseline of every container variant
    for overrides in STARTUP_MATRIX:
        container = variant_label(startup_variant("container", **overrides))
        assert pairs[(run, "startup", container)] == variant_label(startup_variant("native"))
    # the concurrency sweep has no native variant
    assert not any(scenario == "startup-concurrency" for _, scenario, _ in pairs)
    # file I/O: the native of the same workload
    bind = variant_label(fileio_variant("bind", "fsync-write"))
    native = variant_label(fileio_variant("native", "fsync-write"))
    assert pairs[(run, "fileio", bind)] == native
    # network: natives differ in measure and direction, so those must match
    for measure, direction in (("throughput", "reverse"), ("latency", "forward")):
        bridge = variant_label(network_variant("bridge", measure, direction=direction))
        native = variant_label(network_variant("native-loopback", measure, direction=direction))
        assert pairs[(run, "network", bridge)] == native
    # natives have no counterpart; a variant without a matching native neither
    assert not any(key[2].endswith("runtime=native") for key in pairs)
    odd = make_document(
        run_id="odd",
        results=[
            result(
                "fileio",
                "fileio",
                {"target": "native", "workload": "seq-read"},
                {"bandwidth": ("B/s", "higher", (1.0,))},
            ),
            result(
                "fileio",
                "fileio",
                {"target": "native", "workload": "tree"},
                {"duration": ("s", "lower", (1.0,))},
            ),
            result(
                "fileio",
                "fileio",
                {"target": "bind", "workload": "metadata"},
                {"duration": ("s", "lower", (1.0,))},
            ),
        ],
    )
    assert native_counterparts([odd]) == {}


def test_is_native_reads_the_baseline_table() -> None:
    assert is_native("startup", {"runtime": "native"})
    assert not is_native("startup", {"runtime": "container"})
    assert is_native("fileio", {"target": "native", "workload": "tree"})
    assert is_native("network", network_variant("native-loopback"))
    assert not is_native("network", network_variant("container-loopback"))
    assert not is_native("command", {"runtime": "native"})


def test_frame_json_roundtrip_of_written_file_is_exact(tmp_path: Path) -> None:
    """The frame holds the file's samples exactly, not rounded or aggregated."""
    samples = (0.1 + 0.2, 1e-9, 123456789.123)
    document = make_document(
        run_id="exact",
        results=[
            result(
                "fileio", "fileio", {"target": "bind"}, {"bandwidth": ("B/s", "higher", samples)}
            )
        ],
    )
    write_atomic(tmp_path / "x.json", document)
    stored = json.loads((tmp_path / "x.json").read_text())["results"][0]["metrics"][0]
    assert stored["samples"] == list(samples)

    assert load_frame([tmp_path]).samples["value"].tolist() == list(samples)


def _samples_by_rows(documents: list[RunDocument]) -> pd.DataFrame:
    """The samples table written the plain way: one dict per sample, from_records."""
    rows = [
        {
            "run_id": str(document.run["id"]),
            "platform": str(document.platform["id"]),
            "host_os": str(document.platform["host_os"]),
            "scenario": r.scenario,
            "kind": r.kind,
            "variant": variant_label(r.variant),
            **{f"v_{key}": value for key, value in r.variant.items()},
            "metric": metric.name,
            "unit": metric.unit,
            "direction": metric.direction,
            "status": r.status,
            "value": value,
            "repetition": repetition,
        }
        for document in documents
        for r in document.results
        if r.status == "ok"
        for metric in r.metrics
        for repetition, value in enumerate(metric.samples, start=1)
    ]
    frame = pd.DataFrame.from_records(rows)
    params = sorted(c for c in frame.columns if c.startswith("v_"))
    return frame.reindex(columns=[*SAMPLE_COLUMNS, *params])


def test_samples_table_equals_one_row_per_sample_through_from_records(tmp_path: Path) -> None:
    """Built by columns, the table is the one a dict per sample gives: same columns, same
    types (parameters missing in some scenarios, booleans, numbers, text), same rows."""
    rng = np.random.default_rng(16)
    paths = write_suite(tmp_path / "results")
    odd = make_document(
        run_id="odd",
        platform="docker-desktop-mac",
        results=[
            *startup_results(rng, n=7, containers=2),
            result(
                "fileio", "fileio", {"target": "bind", "duration": 1}, {"x": ("s", "lower", ())}
            ),
            result(
                "custom", "command", {"flag": True, "ratio": 0.5}, {"t": ("s", "lower", (2.0,))}
            ),
            Result("network", "network", network_variant("bridge"), "failed", reason="no"),
        ],
    )
    write_atomic(tmp_path / "results" / "odd.json", odd)
    documents = [read(path) for path in [*sorted(paths), tmp_path / "results" / "odd.json"]]

    loaded = load_frame([*sorted(paths), tmp_path / "results" / "odd.json"])

    pd.testing.assert_frame_equal(loaded.samples, _samples_by_rows(documents))
    assert len(loaded.samples) > 3000
