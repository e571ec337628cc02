"""Fixtures of the performance suite: the synthetic corpus (written once per session), the
``large`` marker, and a closing summary of the peak-memory measurements.

Nothing here asserts on time: pytest-benchmark measures, the numbers are read, not
judged (see ``docs/performance.md``).
"""

from __future__ import annotations

import pytest

from perf.measure import Peak
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


@pytest.fixture
def peaks(request: pytest.FixtureRequest) -> list[Peak]:
    """Where a test records a :class:`Peak` for the closing summary."""
    return request.config.stash[_PEAKS]
