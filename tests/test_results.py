"""Results files: schema-v1 round trip, atomic writes, and refusal of bad files."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from factories import make_document, result

from bench import results
from bench.errors import ResultsError
from bench.kinds import ADDED_PARAMS


def document(status: str = "partial", n_results: int = 1) -> results.RunDocument:
    doc = make_document(
        run_id="r1",
        results=[
            result(
                f"s{i}",
                "startup",
                {"network": "none", "publish": False, "cache": "warm"},
                {"end_to_end": ("s", "lower", (0.5, 0.25, 0.125))},
                tool={"name": "t", "version": "1"},
            )
            for i in range(n_results)
        ],
    )
    return replace(doc, run={**doc.run, "status": status})


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    path = results.result_path(tmp_path, "linux-native", "r1")
    doc = document()
    results.write_atomic(path, doc)
    assert path == tmp_path / "linux-native" / "r1.json"
    data = json.loads(path.read_text())
    assert data["schema_version"] == results.SCHEMA_VERSION
    assert data["results"][0]["metrics"][0]["samples"] == [0.5, 0.25, 0.125]
    assert results.read(path) == doc


def test_rewrite_replaces_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "p" / "r.json"
    results.write_atomic(path, document(n_results=1))
    results.write_atomic(path, document(status="complete", n_results=2))
    assert results.read(path).run["status"] == "complete"
    assert len(results.read(path).results) == 2
    assert os.listdir(path.parent) == ["r.json"]


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    results.write_atomic(path, document())
    bad = document()
    object.__setattr__(bad, "run", {**bad.run, "argv": object()})  # not serialisable
    with pytest.raises(TypeError):
        results.write_atomic(path, bad)
    assert results.read(path) == document()
    assert os.listdir(tmp_path) == ["r.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"schema_version": 1, "run": ', "not valid JSON"),
        ('{"hello": "world"}', "not a crossdock results file"),
        ("[1, 2]", "not a crossdock results file"),
        ('{"schema_version": 99}', "schema version 99 is newer"),
        ('{"schema_version": 1, "run": {}}', "section 'host' missing"),
        (
            '{"schema_version": 1, "run": {}, "host": {}, "engine": {}, "platform": {}, "results": []}',
            "section 'run' lacks id",
        ),
    ],
)
def test_bad_files_are_refused_with_the_file_named(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ResultsError, match=message) as info:
        results.read(path)
    assert str(path) in str(info.value)


def test_invalid_values_are_refused() -> None:
    data: dict[str, Any] = document().to_json()
    data["results"][0]["metrics"][0]["unit"] = "ms"
    with pytest.raises(ResultsError, match="unknown unit 'ms'"):
        results.from_json(data)
    data = document().to_json()
    data["results"][0]["status"] = "failed"
    with pytest.raises(ResultsError, match="needs a reason"):
        results.from_json(data)
    with pytest.raises(ValueError, match="finite"):
        results.Metric("x", "s", "lower", (float("nan"),))


def test_the_home_directory_is_not_written_into_results(tmp_path: Path) -> None:
    home = str(Path.home())
    doc = document()
    object.__setattr__(doc, "run", {**doc.run, "argv": ["crossdock", "run", f"{home}/my.toml"]})
    path = tmp_path / "r.json"
    results.write_atomic(path, doc)
    text = path.read_text()
    assert home not in text
    assert "~/my.toml" in text
    assert results.redact_home({"a": ["/home/al/x", 3]}, "/home/al") == {"a": ["~/x", 3]}
    assert results.redact_home("/home/alfred /home/al", "/home/al") == "/home/alfred ~"


def test_parameters_added_to_a_kind_later_are_filled_with_what_older_results_did(
    tmp_path: Path,
) -> None:
    path = results.result_path(tmp_path, "linux-native", "r1")
    results.write_atomic(path, document())
    data = json.loads(path.read_text())
    del data["results"][0]["variant"]["cache"]  # as written before startup had `cache`
    path.write_text(json.dumps(data))
    assert results.read(path).results[0].variant["cache"] == "warm"


def test_added_parameters_default_to_the_old_behaviour() -> None:
    from bench import workloads

    kinds = workloads.registry()
    for kind, added in ADDED_PARAMS.items():
        for name, old in added.items():
            assert kinds[kind].params[name].default == old, (kind, name)
