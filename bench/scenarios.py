"""Scenario files: loading, validation and suites.

A scenario file is TOML with this schema (documented for users in ``scenarios/README.md``)::

    kind = "startup"            # required: a workload kind (bench.workloads.REGISTRY)
    name = "startup"            # optional: defaults to the file name without .toml
    description = "..."         # optional
    repetitions = 30            # samples per variant (>= 1)
    warmups = 3                 # unrecorded-in-samples runs per variant before sampling (>= 0)
    timeout = 60.0              # seconds one repetition may take before it is killed

    [params]                    # parameters shared by every variant
    image = "busybox"

    [matrix]                    # variants: the product of these lists ...
    network = ["none", "bridge"]
    exclude = [{network = "none", publish = true}]   # ... minus these (partial matches)
    include = [{runtime = "native"}]                 # ... plus these extra variants

Every variant holds every parameter of its kind (defaults filled in), so a stored result
says exactly what ran. Suites (``scenarios/suites.toml``) name scenario sets and cap the
repetitions and warmups.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, overload

import tomli

from bench import workloads
from bench.errors import ScenarioError
from bench.plan import ParamSpec, Scalar, Scenario, Suite, Variant


def scenario_dir() -> Path:
    """Where the shipped scenarios are: ``CROSSDOCK_SCENARIOS``, else the ``scenarios/``
    beside the package (a checkout, or an editable install), else ``./scenarios``."""
    configured = os.environ.get("CROSSDOCK_SCENARIOS")
    if configured:
        return Path(configured)
    beside = Path(__file__).resolve().parent.parent / "scenarios"
    return beside if (beside / "suites.toml").is_file() else Path("scenarios")


SUITES = ("quick", "default", "full", "vm-smoke")

_TOP_KEYS = ("kind", "name", "description", "repetitions", "warmups", "timeout", "params", "matrix")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def load(path: Path) -> Scenario:
    """Read and validate one scenario file; raises :class:`ScenarioError` naming the file,
    the line/column (TOML syntax) or key path (schema), and the valid choices."""
    data = _read_toml(path)
    return parse(data, name=path.stem, source=str(path), path=path)


def parse(data: Mapping[str, Any], *, name: str, source: str, path: Path | None = None) -> Scenario:
    """Validate decoded TOML *data* as a scenario (see module docstring for the schema)."""

    def fail(key: str, message: str) -> ScenarioError:
        return ScenarioError(f"{source}: {key}: {message}")

    _check_keys(data, _TOP_KEYS, "", fail)
    kind = data.get("kind")
    if not isinstance(kind, str):
        raise fail("kind", f"required, one of: {', '.join(sorted(workloads.registry()))}")
    try:
        workload = workloads.get(kind)
    except KeyError as e:
        raise fail("kind", str(e.args[0])) from None
    name = data.get("name", name)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise fail("name", f"{name!r} must be lower-case letters, digits, '.', '_' or '-'")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise fail("description", "must be a string")
    repetitions = _int(data, "repetitions", 10, 1, fail)
    warmups = _int(data, "warmups", 1, 0, fail)
    timeout = data.get("timeout", 120.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise fail("timeout", f"must be a positive number of seconds, not {timeout!r}")

    params = data.get("params", {})
    if not isinstance(params, dict):
        raise fail("params", "must be a table")
    _check_params(params, workload.params, "params", fail)
    variants = _expand(data.get("matrix", {}), params, workload, fail)
    return Scenario(
        name=name,
        kind=kind,
        description=description,
        variants=variants,
        repetitions=repetitions,
        warmups=warmups,
        timeout=float(timeout),
        path=path,
    )


def _expand(
    matrix: Any,
    fixed: Mapping[str, Scalar],
    workload: workloads.Workload,
    fail: Any,
) -> tuple[Variant, ...]:
    if not isinstance(matrix, dict):
        raise fail("matrix", "must be a table")
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    for key, values in axes.items():
        if not isinstance(values, list) or not values:
            raise fail(f"matrix.{key}", "must be a non-empty list of values")
        if key in fixed:
            raise fail(f"matrix.{key}", "is also set in [params]; set it in one place")
        for value in values:
            _check_params({key: value}, workload.params, "matrix", fail)
    exclude = _table_list(matrix, "exclude", workload, fail)
    include = _table_list(matrix, "include", workload, fail)

    defaults = {k: spec.default for k, spec in workload.params.items()}
    combos: list[dict[str, Scalar]] = [
        dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())
    ]
    combos = [c for c in combos if not any(_matches(c, e) for e in exclude)]
    combos += include
    variants: dict[Variant, None] = {}  # ordered, and duplicates found in O(1)
    for i, combo in enumerate(combos):
        full = {**defaults, **fixed, **combo}
        problem = workload.check_variant(full)
        if problem:
            where = (
                f"matrix.include[{i - len(combos) + len(include)}]"
                if combo in include
                else "matrix"
            )
            raise fail(where, f"variant ({_label(combo)}): {problem}; exclude it or change it")
        variant = Variant(tuple((k, full[k]) for k in workload.params))
        variants.setdefault(variant)
    if not variants:
        raise fail("matrix", "every variant is excluded; nothing to run")
    return tuple(variants)


def _table_list(
    matrix: Mapping[str, Any], key: str, workload: workloads.Workload, fail: Any
) -> list[dict[str, Scalar]]:
    entries = matrix.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise fail(f"matrix.{key}", 'must be a list of tables, e.g. [{network = "none"}]')
    for i, entry in enumerate(entries):
        _check_params(entry, workload.params, f"matrix.{key}[{i}]", fail)
    return [dict(e) for e in entries]


def _check_params(
    params: Mapping[str, Any], specs: Mapping[str, ParamSpec], where: str, fail: Any
) -> None:
    _check_keys(params, tuple(specs), where, fail)
    for key, value in params.items():
        problem = specs[key].check(key, value)
        if problem:
            raise fail(f"{where}.{key}", problem)


def _check_keys(data: Mapping[str, Any], valid: Sequence[str], where: str, fail: Any) -> None:
    for key in data:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise fail(
                f"{where}.{key}" if where else key,
                f"unknown key ({hint}valid: {', '.join(valid)})",
            )


@overload
def _int(data: Mapping[str, Any], key: str, default: int, minimum: int, fail: Any) -> int: ...
@overload
def _int(
    data: Mapping[str, Any], key: str, default: None, minimum: int, fail: Any
) -> int | None: ...
def _int(
    data: Mapping[str, Any], key: str, default: int | None, minimum: int, fail: Any
) -> int | None:
    value = data.get(key, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise fail(key, f"must be a whole number >= {minimum}, not {value!r}")
    return value


def _matches(combo: Mapping[str, Scalar], pattern: Mapping[str, Scalar]) -> bool:
    return all(
        k in combo and combo[k] == v and type(combo[k]) is type(v) for k, v in pattern.items()
    )


def _label(combo: Mapping[str, Scalar]) -> str:
    return ", ".join(f"{k}={v}" for k, v in combo.items())


def _read_toml(path: Path) -> dict[str, Any]:
    """The decoded TOML file; a ScenarioError names the file and, for a file that is not
    valid TOML (or not UTF-8), the line and column where reading stopped."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read ({e.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        before = raw[: e.start].decode("utf-8")  # valid up to there; columns count characters
        line, column = _position(before, len(before))
        raise ScenarioError(
            f"{path}: line {line}, column {column}: invalid TOML: not UTF-8 "
            f"(byte 0x{raw[e.start]:02x})"
        ) from None
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError as e:
        raise ScenarioError(_toml_error(path, text, e)) from None


# tomli's message: "<what> (at line L, column C)" or "<what> (at end of document)"
_TOML_AT = re.compile(r"\s*\(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$")


def _toml_error(path: Path, text: str, error: tomli.TOMLDecodeError) -> str:
    """ "<file>: line L, column C: invalid TOML: <what>" for every parse error, including
    one at the end of the document (older tomli gives the position only in its message)."""
    message = str(error)
    found = _TOML_AT.search(message)
    what = getattr(error, "msg", None) or (message[: found.start()] if found else message)
    line, column = getattr(error, "lineno", None), getattr(error, "colno", None)
    if line is None or column is None:
        if found is not None and found["line"]:
            line, column = int(found["line"]), int(found["column"])
        else:
            pos = getattr(error, "pos", None)
            line, column = _position(text, len(text) if pos is None else int(pos))
    at_end = " (the file ends there)" if found is not None and not found["line"] else ""
    return f"{path}: line {line}, column {column}: invalid TOML: {what}{at_end}"


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of character *offset* in *text*."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


# --- suites and lookup -------------------------------------------------------------------


def load_suites(directory: Path | None = None) -> dict[str, Suite]:
    """The suites defined in ``<directory>/suites.toml`` (default :func:`scenario_dir`)."""
    path = (directory or scenario_dir()) / "suites.toml"
    if not path.is_file():
        raise ScenarioError(
            f"no shipped scenarios at {path.parent.resolve()}: run crossdock from a crossdock "
            "checkout, or set CROSSDOCK_SCENARIOS to its scenarios/ directory"
        )
    data = _read_toml(path)
    suites: dict[str, Suite] = {}
    for name, table in data.items():

        def fail(key: str, message: str, _name: str = name) -> ScenarioError:
            return ScenarioError(f"{path}: {'.'.join(filter(None, (_name, key)))}: {message}")

        if not isinstance(table, dict):
            raise fail("", f'must be a table ([{name}] with scenarios = ["..."])')
        valid = ("description", "scenarios", "max_repetitions", "max_warmups")
        _check_keys(table, valid, "", fail)
        names = table.get("scenarios")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise fail("scenarios", "must be a list of scenario names")
        suites[name] = Suite(
            name=name,
            description=str(table.get("description", "")),
            scenarios=tuple(names),
            max_repetitions=_int(table, "max_repetitions", None, 1, fail),
            max_warmups=_int(table, "max_warmups", None, 0, fail),
        )
    return suites


def available(directory: Path | None = None) -> dict[str, Path]:
    """Shipped scenario names -> files (in *directory*, default :func:`scenario_dir`)."""
    found = sorted((directory or scenario_dir()).glob("*.toml"))
    return {p.stem: p for p in found if p.name != "suites.toml"}


def resolve(
    names: Sequence[str],
    *,
    suite: str | None = None,
    repeat: int | None = None,
    warmup: int | None = None,
    directory: Path | None = None,
) -> list[Scenario]:
    """The scenarios to run: *names* (shipped names or file paths), else *suite*'s
    (``default`` when neither is given), with the suite's caps and then *repeat* /
    *warmup* applied."""
    suites = load_suites(directory)
    chosen = suites.get(suite or "default")
    if chosen is None:
        raise ScenarioError(f"unknown suite {suite!r} (valid: {', '.join(suites)})")
    shipped = available(directory)
    scenarios = [_find(n, shipped) for n in (names or chosen.scenarios)]
    if names and suite is None:
        chosen = replace(chosen, max_repetitions=None, max_warmups=None)
    return [_apply_counts(s, chosen, repeat, warmup) for s in scenarios]


def _find(name: str, shipped: Mapping[str, Path]) -> Scenario:
    if name in shipped:
        return load(shipped[name])
    path = Path(name)
    if path.suffix == ".toml" or path.exists():
        return load(path)
    close = difflib.get_close_matches(name, shipped, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ScenarioError(
        f"unknown scenario {name!r} ({hint}valid: {', '.join(shipped)}, or a path to a .toml file)"
    )


def _apply_counts(
    scenario: Scenario, suite: Suite, repeat: int | None, warmup: int | None
) -> Scenario:
    reps = min(scenario.repetitions, suite.max_repetitions or sys.maxsize)
    warm = min(
        scenario.warmups, suite.max_warmups if suite.max_warmups is not None else sys.maxsize
    )
    return replace(
        scenario,
        repetitions=repeat if repeat is not None else reps,
        warmups=warmup if warmup is not None else warm,
    )
