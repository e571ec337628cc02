"""Shared fixtures. Engine tests need a reachable Docker engine: without one they skip with
the reason, unless CROSSDOCK_REQUIRE_ENGINE=1 (set by .ci/run), which makes that a failure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.environment import engine, host
from bench.errors import NoEngineError

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def live_engine() -> Iterator[engine.Engine]:
    """A connected engine; skip (or fail under CROSSDOCK_REQUIRE_ENGINE=1) without one."""
    try:
        eng = engine.connect()
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
