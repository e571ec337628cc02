"""Interoperability: results out to pyperf, CSV and a JSON summary, pytest-benchmark JSON in.

One module per format, each with one function, keyword-only, raising
:class:`~bench.errors.BadInputError` (exit 2) for inputs it cannot use; only the CLI
prints.

- :func:`export_pyperf` (:mod:`bench.interop.pyperf`): a pyperf ``BenchmarkSuite`` JSON
  file that ``python -m pyperf stats`` and ``python -m pyperf compare_to`` read;
- :func:`export_csv` (:mod:`bench.interop.csv`): the tidy samples table of
  :func:`bench.analysis.frame.load_frame`;
- :func:`export_summary` (:mod:`bench.interop.summary`): a JSON summary per run,
  scenario, variant and metric (median, interval, n, ratio to native) for dashboards;
- :func:`import_pytest_benchmark` (:mod:`bench.interop.pytest_benchmark`): a
  pytest-benchmark JSON file as a schema-v1 results file.

What the exports share is in :mod:`bench.interop.exports`.
"""

from bench.interop.csv import export_csv
from bench.interop.exports import ExportInfo
from bench.interop.pyperf import PYPERF_UNITS, PyperfUnit, benchmark_name, export_pyperf
from bench.interop.pytest_benchmark import PYTEST_BENCHMARK_SCENARIO, import_pytest_benchmark
from bench.interop.summary import SUMMARY_VERSION, export_summary

__all__ = [
    "PYPERF_UNITS",
    "PYTEST_BENCHMARK_SCENARIO",
    "SUMMARY_VERSION",
    "ExportInfo",
    "PyperfUnit",
    "benchmark_name",
    "export_csv",
    "export_pyperf",
    "export_summary",
    "import_pytest_benchmark",
]
