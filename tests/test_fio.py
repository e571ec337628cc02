"""fio job lines and the parser, on fio JSON captured on a real machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.tools import fio
from bench.workloads import fileio

CAPTURES = Path(__file__).parent / "fixtures" / "fio"


def capture(name: str) -> str:
    return (CAPTURES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "workload"),
    [
        ("seq-read-direct.json", "seq-read"),
        ("rand-write-direct.json", "rand-write"),
        ("fsync-write-buffered.json", "fsync-write"),
        ("seq-write-tmpfs-direct.json", "seq-write"),
    ],
)
def test_data_metrics_convert_fio_units_to_si(name: str, workload: str) -> None:
    raw = json.loads(capture(name))["jobs"][0][fio.JOBS[workload].side]
    got = fio.data_metrics(fio.parse(capture(name)), workload)
    assert got["bandwidth"] == raw["bw_bytes"]  # already B/s
    assert got["iops"] == raw["iops"]
    assert got["lat_p50"] == pytest.approx(raw["clat_ns"]["percentile"]["50.000000"] / 1e9)
    assert got["lat_p99"] == pytest.approx(raw["clat_ns"]["percentile"]["99.000000"] / 1e9)
    assert 0 < got["lat_p50"] <= got["lat_p99"] < 1  # seconds, not ns or ms
    assert ("fsync_p50" in got) == (workload == "fsync-write")


def test_fsync_latency_comes_from_the_sync_section() -> None:
    text = capture("fsync-write-buffered.json")
    sync = json.loads(text)["jobs"][0]["sync"]["lat_ns"]["percentile"]
    got = fio.data_metrics(fio.parse(text), "fsync-write")
    assert got["fsync_p99"] == pytest.approx(sync["99.000000"] / 1e9)


def test_metadata_rates_per_phase() -> None:
    text = capture("metadata.json")
    jobs = {j["jobname"]: j for j in json.loads(text)["jobs"]}
    got = fio.metadata_metrics(fio.parse(text))
    assert got == {
        "create_rate": jobs["create"]["read"]["iops"],
        "stat_rate": jobs["stat"]["read"]["iops"],
        "delete_rate": jobs["delete"]["read"]["iops"],
    }


def test_text_before_the_json_is_skipped() -> None:
    text = "fio: this platform does not support process shared mutexes\n" + capture(
        "seq-read-direct.json"
    )
    assert fio.parse(text)["jobs"][0]["jobname"] == "crossdock"


def test_a_failed_run_has_no_report() -> None:
    with pytest.raises(fio.FioError, match="no JSON report"):
        fio.parse(capture("failed-missing-dir.json"))
    with pytest.raises(fio.FioError, match="not valid JSON"):
        fio.parse('{"jobs": [')
    failed = json.loads(capture("seq-read-direct.json"))
    failed["jobs"][0]["error"] = 22
    with pytest.raises(fio.FioError, match="failed with error 22"):
        fio.parse(json.dumps(failed))


def test_job_lines() -> None:
    args = fio.data_args("rand-write", directory="/data", size=1 << 20, duration=0.5, direct=False)
    assert "--rw=randwrite" in args and "--bs=4k" in args and "--direct=0" in args
    assert "--end_fsync=1" in args  # buffered writes end with an fsync
    assert "--runtime=500ms" in args and "--time_based" in args
    direct = fio.data_args("seq-read", directory="/d", size=10, duration=2, direct=True)
    assert "--direct=1" in direct and "--end_fsync=1" not in direct
    assert "--fsync=1" in fio.data_args(
        "fsync-write", directory="/d", size=10, duration=1, direct=True
    )


@pytest.mark.parametrize(
    ("text", "size"),
    [("4096", 4096), ("64k", 65536), ("128MiB", 128 << 20), ("1g", 1 << 30), ("1.5M", 1572864)],
)
def test_parse_size(text: str, size: int) -> None:
    assert fileio.parse_size(text) == size


@pytest.mark.parametrize("text", ["12 parsecs", "", "-1M", "1TB"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="is not a size"):
        fileio.parse_size(text)


#: the phases of the stamped marks below
PHASES = {
    "tree_unpack": 0.25,
    "tree_walk": 0.05,
    "tree_read": 0.15,
    "tree_delete": 0.55,
    "tree_total": 1.0,
}


def test_tree_phases_from_stamped_marks() -> None:
    out = "100.000000 start\n100.250000 tree_unpack\n100.300000 tree_walk\n100.450000 tree_read\n101.000000 tree_delete\n"
    got = fileio.tree_phases(out)
    assert got == pytest.approx(PHASES)
    with pytest.raises(Exception, match="no tree_read, tree_delete mark"):
        fileio.tree_phases("1.0 start\n1.1 tree_unpack\n1.2 tree_walk\n")


def test_source_tree_is_deterministic_and_has_the_files_asked_for() -> None:
    import io
    import tarfile

    data = fileio.source_tree(300)
    assert data == fileio.source_tree(300)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    assert len(members) == 300
    assert len({m.name.rsplit("/", 1)[0] for m in members}) > 10  # nested directories
    assert all(0 <= m.size <= 256 * 1024 for m in members)


def test_a_cold_trees_pause_between_its_two_parts_is_not_counted() -> None:
    first = "100.000000 start\n100.250000 tree_unpack\n"
    second = (
        "107.000000 resume\n107.050000 tree_walk\n107.200000 tree_read\n107.750000 tree_delete\n"
    )
    got = fileio.tree_phases(first + second)
    assert got == pytest.approx(PHASES)


def test_the_two_parts_of_a_tree_script_are_the_whole_one() -> None:
    whole = fileio.tree_script(busybox="bb", source="/s.tar", directory="/d")
    unpack = fileio.tree_script(busybox="bb", source="/s.tar", directory="/d", part="unpack")
    rest = fileio.tree_script(busybox="bb", source="/s.tar", directory="/d", part="rest")
    assert unpack.startswith(whole.split("bb ls")[0])
    assert rest.endswith(whole.split("tree_unpack; ")[1])
    assert "tar -xf" not in rest and "ls -lR" not in unpack
