"""Scenario loading and validation: the shipped files, and bad files with their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import scenarios
from bench.errors import ScenarioError


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_scenario_loads_and_every_suite_names_real_scenarios() -> None:
    shipped = scenarios.available()
    assert "startup" in shipped
    for path in shipped.values():
        scenario = scenarios.load(path)
        assert scenario.variants
    for suite in scenarios.load_suites().values():
        assert set(suite.scenarios) <= set(shipped)
    assert set(scenarios.load_suites()) == set(scenarios.SUITES)


def test_matrix_expands_as_product_minus_exclude_plus_include(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
kind = "startup"
[matrix]
network = ["none", "bridge"]
publish = [false, true]
exclude = [{network = "none", publish = true}]
include = [{runtime = "native"}]
""",
    )
    s = scenarios.load(path)
    combos = [(v["runtime"], v["network"], v["publish"]) for v in s.variants]
    assert combos == [
        ("container", "none", False),
        ("container", "bridge", False),
        ("container", "bridge", True),
        ("native", "none", False),
    ]
    # every variant carries every parameter of the kind, defaults filled in
    assert all(v["image"] == "busybox" and v["concurrency"] == 1 for v in s.variants)
    assert s.name == "s"
    assert s.varying == ("runtime", "network", "publish")


def test_variants_are_listed_in_a_stable_order(tmp_path: Path) -> None:
    path = write(tmp_path, 'kind = "startup"\n[matrix]\nconcurrency = [1, 2, 4]\n')
    assert [v["concurrency"] for v in scenarios.load(path).variants] == [1, 2, 4]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('kind = "startup"\nrepetitions = \n', "invalid TOML"),
        ('kind = "startup"\nrepetitions = \n', "line 2"),
        ('kind = "stratup"\n', "unknown kind 'stratup' (valid: command, fileio, network, startup)"),
        ("repetitions = 3\n", "kind: required"),
        ('kind = "startup"\nrepetitons = 3\n', "did you mean 'repetitions'"),
        ('kind = "startup"\nrepetitions = 0\n', "repetitions: must be a whole number >= 1"),
        ('kind = "startup"\nrepetitions = "5"\n', "repetitions: must be a whole number"),
        ('kind = "startup"\ntimeout = -1\n', "timeout: must be a positive number"),
        (
            'kind = "startup"\n[matrix]\nnetwork = ["none", "bridg"]\n',
            "matrix.network: unknown value 'bridg' (valid: none, bridge)",
        ),
        (
            'kind = "startup"\n[matrix]\nnetwrok = ["none"]\n',
            "matrix.netwrok: unknown key (did you mean 'network'?",
        ),
        (
            'kind = "startup"\n[matrix]\nconcurrency = [0]\n',
            "matrix.concurrency: 0 is below the minimum 1",
        ),
        (
            'kind = "startup"\n[matrix]\nconcurrency = [true]\n',
            "matrix.concurrency: must be int, not bool",
        ),
        ('kind = "startup"\n[params]\npublish = "yes"\n', "params.publish: must be bool"),
        ('kind = "startup"\n[params]\npublish = true\n', 'publish = true needs network = "bridge"'),
        ('kind = "startup"\n[matrix]\nnetwork = []\n', "matrix.network: must be a non-empty list"),
        (
            'kind = "startup"\n[params]\nnetwork = "none"\n[matrix]\nnetwork = ["none"]\n',
            "set it in one place",
        ),
        (
            'kind = "startup"\n[matrix]\ninclude = [{runtime = "native", mount = "bind"}]\n',
            "mount do not apply",
        ),
    ],
)
def test_bad_scenario_files_name_the_file_key_and_choices(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        scenarios.load(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_missing_file_and_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such scenario file"):
        scenarios.load(tmp_path / "absent.toml")
    with pytest.raises(
        ScenarioError, match=r"unknown scenario 'startp' \(did you mean 'startup'\?"
    ):
        scenarios.resolve(["startp"])
    with pytest.raises(ScenarioError, match="unknown suite 'fast'"):
        scenarios.resolve([], suite="fast")


def test_suite_caps_and_overrides() -> None:
    quick = scenarios.resolve([], suite="quick")
    cap = scenarios.load_suites()["quick"].max_repetitions
    assert cap is not None
    assert all(s.repetitions <= cap for s in quick)
    default = {s.name: s for s in scenarios.resolve([], suite="default")}
    assert default["startup"].repetitions >= 30  # DESIGN 4: >= 30 startup samples by default
    forced = scenarios.resolve(["startup"], repeat=2, warmup=0)
    assert (forced[0].repetitions, forced[0].warmups) == (2, 0)
    # a scenario named without a suite keeps its own counts
    assert scenarios.resolve(["startup"])[0].repetitions == default["startup"].repetitions


def test_a_scenario_given_as_a_path(tmp_path: Path) -> None:
    path = write(tmp_path, 'kind = "startup"\nname = "mine"\n', "x.toml")
    (s,) = scenarios.resolve([str(path)])
    assert s.name == "mine"
    assert s.path == path
