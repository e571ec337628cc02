"""Fixtures of the performance suite: the synthetic corpus (written once per session), the
``large`` marker, and a closing summary of the peak-memory measurements.

Nothing here asserts on time: pytest-benchmark measures, the numbers are read, not
judged (see ``docs/performance.md``).
"""

from __future__ import annotations

import pytest

from perf.measure import Peak
from perf.realshape import RealCorpus
from perf.synthetic import Corpus

_PEAKS = pytest.StashKey[list[Peak]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "large: the 1,000-file corpus and the 7,776-variant matrix; minutes per round "
        "(deselect with -m 'not large')",
    )
    config.stash[_PEAKS] = []


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    peaks = config.stash.get(_PEAKS, [])
    if peaks:
        terminalreporter.write_sep("-", "crossdock report as a child process: wall time, peak RSS")
        for peak in peaks:
            terminalreporter.write_line(peak.line())


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """Synthetic results files, written on first use of each size and kept for the session."""
    return Corpus(tmp_path_factory.mktemp("synthetic-results"))


@pytest.fixture(scope="session")
def real_quick(tmp_path_factory: pytest.TempPathFactory) -> RealCorpus:
    """Files shaped like real ``quick`` runs (:mod:`perf.realshape`), written on first use."""
    return RealCorpus(tmp_path_factory.mktemp("realshape-quick"), "quick")


@pytest.fixture(scope="session")
def real_default(tmp_path_factory: pytest.TempPathFactory) -> RealCorpus:
    """Files shaped like real ``default`` runs, 10 and 300 (about a million samples)."""
    return RealCorpus(tmp_path_factory.mktemp("realshape-default"), "default", (10, 300))


@pytest.fixture
def peaks(request: pytest.FixtureRequest) -> list[Peak]:
    """Where a test records a :class:`Peak` for the closing summary."""
    return request.config.stash[_PEAKS]
