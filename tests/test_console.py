"""Tests of bench.console: what `crossdock run` prints after a run, on documents built by
the shared factories."""

from __future__ import annotations

import io

import numpy as np
from factories import (
    default_suite,
    lognormal,
    make_document,
    network_variant,
    result,
    startup_variant,
)
from rich.console import Console
from rich.table import Table

from bench import console
from bench.frame import scenario_variants, variant_label, varying_labels
from bench.results import RunDocument
from bench.stats import min_samples_for_ci


def text(table: Table) -> str:
    out = Console(record=True, width=250, file=io.StringIO())
    out.print(table)
    return out.export_text()


def column(table: Table, index: int) -> list[str]:
    return [str(cell) for cell in table.columns[index].cells]


def test_variants_are_labelled_as_the_report_labels_them() -> None:
    document = default_suite("docker-desktop-mac", seed=3)
    short = {s: varying_labels(v)[0] for s, v in scenario_variants([document]).items()}
    expected = [
        short[r.scenario][variant_label(r.variant)] for r in document.results if r.status == "ok"
    ]
    shown = [label for label in column(console.summary_table(document), 1) if label]
    assert shown == expected
    assert "mount=bind, network=bridge, publish=true, runtime=container" in shown
    assert "concurrency=8" in shown  # the other parameters do not vary there


def test_a_scenario_with_one_variant_is_labelled_default() -> None:
    samples = lognormal(np.random.default_rng(1), 0.3, 10)
    document = make_document(
        run_id="one",
        results=[
            result(
                "alone",
                "startup",
                startup_variant("container"),
                {"end_to_end": ("s", "lower", samples)},
            )
        ],
    )
    assert column(console.summary_table(document), 1) == ["default"]


def test_the_slowdown_table_has_the_baseline_values_as_columns_and_the_rest_as_rows() -> None:
    document = default_suite("docker-desktop-windows-wsl2", seed=5)
    tables = {str(t.title).split(":")[0]: t for t in console.slowdown_tables(document)}
    assert set(tables) == {"startup", "fileio", "network"}  # concurrency has no baseline
    network = tables["network"]
    assert [str(c.header) for c in network.columns[1:]] == [
        "container-loopback",
        "bridge",
        "published-port",
        "to-host",
    ]
    rows = column(network, 0)
    assert "direction=reverse, measure=throughput, roundtrips=1000" in rows
    assert not any("path=" in row for row in rows)
    failed_row = rows.index("direction=forward, measure=latency, roundtrips=50")
    assert "failed" in column(network, 4)[failed_row]
    fileio = text(tables["fileio"])
    assert "workload=seq-read" in fileio and "skipped" in fileio
    assert "target=" not in fileio.split("\n", 1)[1]  # only in the title


def test_skips_and_failures_are_grouped_with_their_labels() -> None:
    document = default_suite("linux-native", seed=2)
    assert console.outcomes(document) == [
        "skipped: fileio: target=bind-windows, workload=seq-read: no Windows filesystem on this host",
        "failed: network: direction=forward, measure=latency, path=to-host, roundtrips=50: "
        "nc exited 1: host.docker.internal did not resolve",
    ]


def test_text_from_the_results_is_not_read_as_markup() -> None:
    samples = lognormal(np.random.default_rng(1), 0.3, 10)
    variants = ({"image": "[bold]busybox[/bold]"}, {"image": "[red]alpine"})
    document = make_document(
        run_id="[blink]run",
        results=[
            result(
                "[i]startup",
                "startup",
                startup_variant("container", **v),
                {"end_to_end": ("s", "lower", samples)},
            )
            for v in variants
        ],
    )
    shown = text(console.summary_table(document))
    assert "[i]startup" in shown and "image=[bold]busybox[/bold]" in shown
    assert "image=[red]alpine" in shown and "[blink]run" in shown


def native_and_bridge(n: int) -> RunDocument:
    rng = np.random.default_rng(7)
    return make_document(
        run_id="few",
        results=[
            result(
                "network",
                "network",
                network_variant(path),
                {"bitrate": ("bit/s", "higher", lognormal(rng, 1e10, n, sigma=0.01))},
            )
            for path in ("native-loopback", "bridge")
        ],
    )


def test_too_few_samples_for_an_interval_is_a_warning_naming_the_fix() -> None:
    needed = min_samples_for_ci()
    few = console.warnings(native_and_bridge(needed - 1))
    assert len(few) == 1
    assert few[0].startswith(f"some metrics have only {needed - 1} samples")
    assert "--repeat" in few[0]
    assert console.warnings(native_and_bridge(needed)) == []


def test_a_noisy_metric_is_a_warning_with_the_repeat_that_would_tighten_it() -> None:
    rng = np.random.default_rng(11)
    document = make_document(
        run_id="noisy",
        results=[
            result(
                "network",
                "network",
                network_variant("bridge"),
                {"bitrate": ("bit/s", "higher", lognormal(rng, 1e10, 10, sigma=0.4))},
            )
        ],
    )
    (warning,) = console.warnings(document)
    assert warning.startswith("network [default]: CV above 10% (bitrate ")
    assert "--repeat" in warning
