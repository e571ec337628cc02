"""Scenario loading and validation: the shipped files, and bad files with their errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli

from bench import scenarios
from bench.errors import ScenarioError
from bench.kinds import BASELINES
from bench.plan import Scenario
from bench.provision import places
from bench.tools import fio
from bench.workloads.fileio import WORKLOADS


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
        (
            'kind = "stratup"\n',
            "unknown kind 'stratup' (valid: command, fileio, footprint, network, startup)",
        ),
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


@pytest.mark.parametrize(
    ("raw", "position", "what"),
    [
        # cut off at the end: the position is where the file ends
        (b'kind = "startup"\nrepetitions = ', "line 2, column 15", "Invalid value (the file ends"),
        (b'kind = "startup"\ndescription = "a', "line 2, column 17", "Unterminated string"),
        (
            b'kind = "startup"\n[matrix]\nnetwork = ["none",',
            "line 3, column 19",
            "Invalid value (the file ends",
        ),
        (b'kind = "startup"\nkind = "fileio"\n', "line 2, column 16", "Cannot overwrite"),
        (b'kind = "startup"\n[params]\n[params]\n', "line 3, column 8", "twice"),
        (b'kind = "startup" "x"\n', "line 1, column 18", "Expected newline"),
        (b'kind = "startup"\ndescription = "caf\xe9"\n', "line 2, column 19", "not UTF-8"),
        # columns count characters: the two-byte é before the bad byte is one column
        (b'kind = "startup"\ndescription = "\xc3\xa9t\xe9"\n', "line 2, column 18", "not UTF-8"),
    ],
)
def test_every_toml_error_names_the_file_line_and_column(
    tmp_path: Path, raw: bytes, position: str, what: str
) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(raw)
    with pytest.raises(ScenarioError) as info:
        scenarios.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {position}: invalid TOML: "), message
    assert what in message


def test_toml_error_position_from_an_older_tomli_message(tmp_path: Path) -> None:
    # tomli before 2.1 gives no lineno/colno, only "(at line L, column C)" or
    # "(at end of document)" in its message
    with pytest.warns(DeprecationWarning):
        inside = tomli.TOMLDecodeError("Invalid value (at line 2, column 7)")
        at_end = tomli.TOMLDecodeError("Invalid value (at end of document)")
    text = 'kind = "startup"\nrepetitions = '
    assert scenarios._toml_error(tmp_path / "s.toml", text, inside).endswith(
        "s.toml: line 2, column 7: invalid TOML: Invalid value"
    )
    assert scenarios._toml_error(tmp_path / "s.toml", text, at_end).endswith(
        "s.toml: line 2, column 15: invalid TOML: Invalid value (the file ends there)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quick = 3\n", 'suites.toml: quick: must be a table ([quick] with scenarios = ["..."])'),
        (
            '[quick]\nscenarios = "startup"\n',
            "suites.toml: quick.scenarios: must be a list of scenario names",
        ),
        (
            "[quick]\nscenarios = []\nmax_repetition = 3\n",
            "suites.toml: quick.max_repetition: unknown key (did you mean 'max_repetitions'? "
            "valid: description, scenarios, max_repetitions, max_warmups)",
        ),
        (
            '[quick]\nscenarios = []\nmax_repetitions = "3"\n',
            "suites.toml: quick.max_repetitions: must be a whole number >= 1, not '3'",
        ),
        (
            "[quick]\nscenarios = []\nmax_warmups = -1\n",
            "suites.toml: quick.max_warmups: must be a whole number >= 0, not -1",
        ),
    ],
)
def test_bad_suite_files_name_the_file_key_and_choices(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "suites.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        scenarios.load_suites(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'suites.toml'}: ")
    assert str(info.value).endswith(expected.removeprefix("suites.toml: "))


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


#: The default suite is meant to finish within 15 minutes. This much of it is time no
#: machine can shorten (fio's time-based jobs, iperf3's counted and omitted seconds, over
#: every repetition and warmup); the rest is containers starting, tools starting and the
#: untimed parts of the metadata and tree workloads, about as much again on a loaded
#: 2-core machine. Raising a job's length or adding variants must be weighed against it.
#: (Counted with the Windows-drive target, which runs inside WSL2 only.) The footprint
#: windows are in it too: 66 s, with little besides them.
DEFAULT_FIXED_SECONDS = 400


def fixed_seconds(scenario: Scenario) -> float:
    """Seconds *scenario* spends in time-based jobs over all its repetitions and warmups."""
    per_round = 0.0
    for variant in scenario.variants:
        if scenario.kind == "fileio" and variant["workload"] in fio.JOBS:
            per_round += float(variant["duration"])
        elif scenario.kind == "network" and variant["measure"] == "throughput":
            per_round += float(variant["duration"]) + float(variant["omit"])
        elif scenario.kind == "footprint":
            per_round += float(variant["window"])
    return per_round * (scenario.repetitions + scenario.warmups)


def test_the_default_suite_keeps_designs_sample_counts_within_its_time() -> None:
    default = scenarios.resolve([], suite="default")
    for s in default:
        # DESIGN 4: >= 30 samples for startup, >= 10 for file I/O and network by default
        assert s.repetitions >= (30 if s.kind == "startup" and s.name == "startup" else 10), s.name
    assert sum(fixed_seconds(s) for s in default) <= DEFAULT_FIXED_SECONDS
    # each counted iperf3 second follows an omitted one (DESIGN 4: omit the first second)
    network = [v for s in default if s.kind == "network" for v in s.variants]
    assert all(int(v["omit"]) >= 1 for v in network if v["measure"] == "throughput")


def test_what_the_default_suite_leaves_out_is_in_the_full_suite() -> None:
    def cases(suite: str, kind: str, keys: tuple[str, ...]) -> set[tuple[object, ...]]:
        return {
            tuple(v[k] for k in keys)
            for s in scenarios.resolve([], suite=suite)
            if s.kind == kind
            for v in s.variants
        }

    fileio_keys = ("target", "workload")
    full_fileio = cases("full", "fileio", fileio_keys)
    assert {(t, w) for t in places.TARGETS for w in WORKLOADS} <= full_fileio
    assert cases("default", "fileio", fileio_keys) < full_fileio
    network_keys = ("path", "direction", "streams", "measure")
    paths = ("native-loopback", "container-loopback", "bridge", "published-port", "to-host")
    one_stream = {(p, d, 1, "throughput") for p in paths for d in ("forward", "reverse")}
    assert one_stream <= cases("full", "network", network_keys)
    default_network = cases("default", "network", network_keys)
    # both directions by default wherever they cross different machinery
    for path in ("native-loopback", "published-port", "to-host"):
        assert {(path, d, 1, "throughput") for d in ("forward", "reverse")} <= default_network
    # every container variant of the default suite has its native baseline beside it
    for s in scenarios.resolve([], suite="default"):
        if s.kind in ("fileio", "network"):
            key, native = BASELINES[s.kind]
            others = {
                tuple((k, v) for k, v in variant.params if k != key)
                for variant in s.variants
                if variant[key] == native
            }
            assert all(
                tuple((k, v) for k, v in variant.params if k != key) in others
                for variant in s.variants
            ), s.name


def test_a_scenario_given_as_a_path(tmp_path: Path) -> None:
    path = write(tmp_path, 'kind = "startup"\nname = "mine"\n', "x.toml")
    (s,) = scenarios.resolve([str(path)])
    assert s.name == "mine"
    assert s.path == path
