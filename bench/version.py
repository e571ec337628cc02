"""crossdock's version, as installed (or a source-tree marker): what results files and the
report record as ``harness_version``. Its own module, so that recording it does not import
the package's API."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crossdock")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
