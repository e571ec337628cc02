"""The package's layout stays readable: no module grows past a size one can hold in mind,
and every stage package says what it holds. (Import direction is import-linter's job in
``nox -s lint``.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench"
MAX_LINES = 500


@pytest.mark.parametrize(
    "path", sorted(BENCH.rglob("*.py")), ids=lambda p: str(p.relative_to(BENCH))
)
def test_no_module_is_longer_than_the_limit(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{path.relative_to(BENCH)} has {lines} lines; split it by job"


@pytest.mark.parametrize("package", sorted(p.parent for p in BENCH.rglob("__init__.py")))
def test_every_package_has_a_docstring(package: Path) -> None:
    tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{package.relative_to(BENCH.parent)} says nothing of itself"
