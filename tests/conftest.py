"""Shared fixtures. Engine tests need a reachable Docker engine: without one they skip with
the reason, unless CROSSDOCK_REQUIRE_ENGINE=1 (set by .ci/run), which makes that a failure.

``CROSSDOCK_TEST_CONTEXTS`` (comma-separated docker contexts, e.g.
``default,crossdock-vm``) runs every test marked ``vm`` once per context; the other engine
tests run on the current engine only. A test reaches its engine through ``live_engine``
and passes ``engine_context`` to whatever it runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.environment import engine, host
from bench.errors import NoEngineError

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


def contexts_under_test() -> list[str | None]:
    """The contexts ``vm`` tests run on: ``CROSSDOCK_TEST_CONTEXTS``, else the current one."""
    named = [c.strip() for c in os.environ.get("CROSSDOCK_TEST_CONTEXTS", "").split(",")]
    return [c for c in named if c] or [None]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_context" in metafunc.fixturenames:
        contexts = contexts_under_test() if metafunc.definition.get_closest_marker("vm") else [None]
        metafunc.parametrize(
            "engine_context",
            contexts,
            ids=[c or "current" for c in contexts],
            scope="session",
        )


@pytest.fixture(scope="session")
def live_engine(engine_context: str | None) -> Iterator[engine.Engine]:
    """The engine of *engine_context* (``None``: the current one); skip (or fail under
    CROSSDOCK_REQUIRE_ENGINE=1) without one."""
    try:
        eng = engine.connect(engine_context)
    except NoEngineError as e:
        if os.environ.get("CROSSDOCK_REQUIRE_ENGINE") == "1":
            pytest.fail(f"CROSSDOCK_REQUIRE_ENGINE=1 but no engine: {e}")
        pytest.skip(f"no Docker engine reachable: {str(e).splitlines()[0]}")
    if eng.info.get("OSType") not in (None, "linux"):
        eng.close()
        pytest.skip(f"the engine runs {eng.info.get('OSType')} containers, not Linux ones")
    yield eng
    eng.close()


@pytest.fixture
def engine_contexts(engine_context: str | None) -> list[str]:
    """``contexts`` for ``driver.run`` and ``--context`` for the CLI: the one under test."""
    return [engine_context] if engine_context else []


@pytest.fixture
def no_leftovers(live_engine: engine.Engine) -> Iterator[None]:
    """Fail the test if it leaves any crossdock-labelled object in the engine."""
    before = {(o.kind, o.name) for o in live_engine.objects()}
    yield
    new = [
        (o.kind, o.name, o.run)
        for o in live_engine.objects()
        if (o.kind, o.name) not in before
        # objects of other crossdock processes still at work are theirs to remove
        and not (o.pid is not None and o.pid != os.getpid() and host.alive(o.pid))
    ]
    assert not new, f"labelled objects left behind: {new}"
