"""crossdock: how Linux containers behave on the platforms people use.

The command line (:mod:`bench.cli`) is a thin adapter over this keyword-only API:
:func:`run` measures scenarios and stores results; :func:`report` builds the HTML page.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crossdock")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
