"""The harness's own cost: a pytest-benchmark suite over crossdock's hot paths that are not
workloads (plan expansion, results writing and loading, statistics, the report).

Run with ``pytest perf`` (see ``perf/README.md``); numbers in ``docs/performance.md``.
"""
