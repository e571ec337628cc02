"""``crossdock validate`` end to end on the live engine: a tiny run of the startup area
(the quickest), as a user runs it, with nothing left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import results
from bench.environment import engine
from bench.validation import MIN_ROUNDS


@pytest.mark.engine
def test_a_tiny_validate_judges_stores_and_cleans_up(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    out = tmp_path / "results"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "validate", "--area", "startup", "--rounds", "2",
         "--budget", "0", "--out", str(out)],
        capture_output=True, text=True, check=False, env=dict(os.environ),
    )  # fmt: skip
    # two rounds are too few to judge: inconclusive, not a pass -> exit 1
    assert run.returncode == 1, run.stderr
    table = " ".join(run.stdout.split())  # cells wrap in a 160-column table
    for heading in ("catches", "ratio [95% CI]", "band", "verdict"):
        assert heading in table
    assert "create→removed:" in table and "method" in table and "within 1.05x" in table
    assert "inconclusive" in table
    path = Path(run.stdout.strip().splitlines()[-1])
    document = results.read(path)
    assert document.run["purpose"] == "validate" and document.run["status"] == "complete"
    judged = {c["name"]: c for c in document.run["validation"]}
    method = judged["startup create→removed: harness host clock / engine events"]
    assert method["catches"] == "method" and method["n"] == 2 and method["rounds"] == 2
    assert method["verdict"] == "inconclusive" and method["more_rounds"] >= MIN_ROUNDS - 2
    # a host-clock interval and the engine's span of the same container: same order
    assert 0.5 < method["ratio"] < 2.0
    assert judged["startup end-to-end: harness / bare API loop"]["catches"] == "plumbing"
    assert document.run["validation_rounds"]["budget_s"] == 0
    assert document.run["validation_rounds"]["stop"] == "the time budget of 0 s ended"
    stored = {
        (r.variant["method"], m.name): len(m.samples) for r in document.results for m in r.metrics
    }
    assert stored[("engine-events", "end_to_end")] == 2
    assert stored[("hyperfine", "cli_run_rm")] == 2
    assert stored[("harness-cli", "cli_run_rm")] == 2
    json.dumps(document.run["validation"])  # the stored record is plain JSON
