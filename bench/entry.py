"""The program's entry point: signal handling first, before the heavier imports, so a
SIGTERM or Ctrl-C at any moment ends the program the same way (exit 130)."""

from __future__ import annotations

import sys

from bench import signals


def main() -> None:
    """Run ``crossdock`` with ``sys.argv`` and exit with its code."""
    signals.install()
    try:
        from bench.cli import main as cli_main

        code = cli_main()
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
