"""Sessions: ``tests`` and ``lint`` run by default; ``bench``, ``report``, ``perf``,
``validate`` and ``vm`` on request (``nox -s bench``)."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (engine tests skip without an engine unless CROSSDOCK_REQUIRE_ENGINE=1)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict, and import-linter's contracts (pyproject.toml): a stage imports
    only the stages below it."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("lint-imports")


@nox.session
def bench(session: nox.Session) -> None:
    """Run the default suite on the local engine, then build the report."""
    session.install("-e", ".")
    session.run("crossdock", "run", "--suite", "default", *session.posargs)
    session.run("crossdock", "report")


@nox.session
def report(session: nox.Session) -> None:
    """Build reports/index.html from everything under results/."""
    session.install("-e", ".")
    session.run("crossdock", "report", *session.posargs)


@nox.session
def perf(session: nox.Session) -> None:
    """The harness's own cost (pytest-benchmark); `-- -m "not large"` skips the
    1,000-file cases."""
    session.install("-e", ".[test]")
    session.run(
        "pytest",
        "perf",
        "--benchmark-min-rounds=5",
        "--benchmark-max-time=0.5",
        "--benchmark-warmup=on",
        "--benchmark-group-by=group",
        "--benchmark-sort=name",
        "--benchmark-columns=min,median,iqr,max,rounds",
        *session.posargs,
    )


@nox.session
def vm(session: nox.Session) -> None:
    """crossdock's reference VM engine: ``nox -s vm`` (up), ``nox -s vm -- down|status``;
    docker context ``crossdock-vm`` (needs root, QEMU and mmdebstrap; see the README)."""
    session.install("-e", ".")
    session.run("crossdock", "vm", *(session.posargs or ["up"]))


@nox.session
def validate(session: nox.Session) -> None:
    """The harness against reference measurements, as an equivalence test (``crossdock
    validate``; options after ``--``, e.g. ``-- --area network --budget 300``)."""
    session.install("-e", ".")
    session.run("crossdock", "validate", *session.posargs)
