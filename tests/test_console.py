"""Tests of bench.console: what `crossdock run` prints after a run, on documents built by
the shared factories."""

from __future__ import annotations

import io
import re
from dataclasses import replace

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
from bench.analysis.frame import scenario_variants, variant_label, varying_labels
from bench.analysis.stats import CV_WARN, min_samples_for_ci, summarize
from bench.results import Result, RunDocument


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


def network_run(n: int, paths: dict[str, float], *, sigma: float = 0.01) -> RunDocument:
    """A run of the network scenario: *n* bitrate samples per path, about 10 Gbit/s times
    the path's scale."""
    rng = np.random.default_rng(7)
    return make_document(
        run_id="few",
        results=[
            result(
                "network",
                "network",
                network_variant(path),
                {"bitrate": ("bit/s", "higher", lognormal(rng, 1e10 * scale, n, sigma=sigma))},
            )
            for path, scale in paths.items()
        ],
    )


def test_too_few_samples_for_an_interval_is_a_warning_naming_the_fix() -> None:
    needed = min_samples_for_ci()
    few = console.warnings(network_run(needed - 1, {"bridge": 1.0}))
    assert few == [
        "network: too few samples for a 95 % interval of the median in 1 metric series "
        f"(bitrate [default] n = {needed - 1}); run with --repeat {needed} or more"
    ]
    assert console.warnings(network_run(needed, {"bridge": 1.0})) == []


def test_a_noisy_metric_is_noise_with_its_causes_and_a_sample_count_for_its_median() -> None:
    document = network_run(10, {"bridge": 1.0}, sigma=0.4)
    cv = summarize(document.results[0].metrics[0].samples).cv
    assert cv is not None and cv > CV_WARN

    wide, noisy = console.warnings(document)

    assert wide.startswith(
        "network: a median's 95 % interval wider than \N{PLUS-MINUS SIGN}5 % in 1 metric "
        "series (bitrate [default] \N{PLUS-MINUS SIGN}"
    )
    assert re.search(r"about (\d+) samples would narrow it to .5 % \(--repeat \1, ", wide)
    assert noisy.startswith(
        f"network: noisy: coefficient of variation above 10% in 1 metric series (bitrate "
        f"[default] {cv:.1%}); that spread comes from the machine"
    )
    assert "--repeat" not in noisy and "CPU frequency scaling" in noisy


def test_a_difference_from_native_too_unclear_to_tell_says_how_many_samples() -> None:
    rng = np.random.default_rng(5)
    document = make_document(
        run_id="unclear",
        results=[
            result(
                "network",
                "network",
                network_variant(path),
                {"bitrate": ("bit/s", "higher", lognormal(rng, 1e10 * scale, 10, sigma=0.08))},
            )
            for path, scale in {
                "native-loopback": 1.0,
                "bridge": 0.99,
                "published-port": 0.5,
            }.items()
        ],
    )

    found = [w for w in console.warnings(document) if "native baseline" in w]

    (warning,) = found
    assert warning.startswith(
        "network: no difference from the native baseline shown, and the ratio's 95 % interval "
        "is wider than \N{PLUS-MINUS SIGN}5 % in 1 metric series (bitrate [path=bridge] "
    )
    assert re.search(r"about (\d+) samples per side would narrow .* \(--repeat \1\)$", warning)


def test_noisy_counts_are_no_warning() -> None:
    rng = np.random.default_rng(3)
    document = make_document(
        run_id="counts",
        results=[
            result(
                "network",
                "network",
                network_variant("bridge"),
                {
                    "bitrate": ("bit/s", "higher", lognormal(rng, 1e10, 10, sigma=0.01)),
                    "retransmits": ("1", "lower", (0.0, 3.0, 12.0, 1.0, 0.0) * 2),
                },
            )
        ],
    )
    assert console.warnings(document) == []


def test_cpu_frequency_scaling_is_a_warning() -> None:
    document = network_run(10, {"bridge": 1.0})
    scaled = replace(document, host={**document.host, "cpu_governor": "powersave"})
    (warning,) = console.warnings(scaled)
    assert "governor 'powersave'" in warning and "cpupower frequency-set" in warning


def test_the_slowdown_factor_is_the_report_summarys_headline_metric() -> None:
    # both metrics are headline metrics, recorded in the other order than the metric
    # table's: the factor is end_to_end's, as in the report's summary
    def timed(runtime: str, cli: float, end_to_end: float) -> Result:
        return result(
            "startup",
            "startup",
            startup_variant(runtime),
            {
                "cli_run_rm": ("s", "lower", (cli,) * 3),
                "end_to_end": ("s", "lower", (end_to_end,) * 3),
            },
        )

    doc = make_document(
        run_id="order", results=[timed("native", 0.1, 0.1), timed("container", 0.3, 0.2)]
    )
    (table,) = console.slowdown_tables(doc)
    assert "2.00× slower end_to_end" in text(table)
