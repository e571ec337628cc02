"""The program's entry point: signal handling first, before the heavier imports, so a
SIGTERM or Ctrl-C at any moment ends the program the same way (exit 130). This is the one
place signal handlers are installed."""

from __future__ import annotations

import contextlib
import os
import sys

from bench import signals


def main() -> None:
    """Run ``crossdock`` with ``sys.argv`` and exit with its code."""
    signals.install()
    try:
        from bench.cli import main as cli_main

        code = cli_main()
    except KeyboardInterrupt:
        code = signals.EXIT_INTERRUPTED
    if code == signals.EXIT_INTERRUPTED:
        _exit_now(code)
    sys.exit(code)


def _exit_now(code: int) -> None:
    """Exit with *code* at once; the run's cleanup has been done by then. Not through
    ``sys.exit``: under ``python -m``, CPython 3.11 ends the process by SIGINT instead when
    the interrupt hit an ``exec`` of generated code (a dataclass being made while a module
    imports), even though the KeyboardInterrupt was handled."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
