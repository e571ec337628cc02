"""Typed errors of the core API, each carrying the exit code the CLI maps it to.

The core raises; only :mod:`bench.cli` prints and exits (DESIGN 3.1 exit codes).
"""

from __future__ import annotations


class CrossdockError(Exception):
    """Base class: every error the CLI reports as a message rather than a traceback."""

    exit_code = 1


class BadInputError(CrossdockError):
    """Invalid usage, scenario file or results file (exit 2)."""

    exit_code = 2


class ScenarioError(BadInputError):
    """A scenario file that cannot be read or does not follow the schema."""


class ResultsError(BadInputError):
    """A results file that is unreadable, of another schema version or not crossdock's."""


class ProvisionError(CrossdockError):
    """Something measuring needs could not be set up: an image, a place to measure in (a
    bind mount, a volume ...), the scratch directory. The message says why and what would
    fix it (exit 1). Inside a scenario the driver records it as the variant's failure."""


class ValidationError(CrossdockError):
    """A validation area could not measure: a sample or a reference tool failed (exit 1)."""


class ResultsWriteError(CrossdockError):
    """The results file could not be written (a full disk, a read-only directory)."""


class NoEngineError(CrossdockError):
    """No Docker engine answered (exit 3)."""

    exit_code = 3


class PlatformMismatchError(CrossdockError):
    """The engine is not the platform the caller said to expect (exit 3)."""

    exit_code = 3


class UnusableEngineError(NoEngineError):
    """An engine answered but cannot run Linux containers (Windows containers mode). The
    engine is kept so its records can still be stored beside the skip (exit 3)."""

    def __init__(self, message: str, engine: object) -> None:
        super().__init__(message)
        self.engine = engine


class EngineLostError(CrossdockError):
    """The engine stopped answering in the middle of a run (exit 3)."""

    exit_code = 3


class SampleError(Exception):
    """A repetition failed (non-zero exit, timeout, unparsable output); the message says how.

    Not a :class:`CrossdockError`: the driver's failure boundary turns it into a variant's
    ``failed`` status with this message; it never reaches the command line."""


def first_line(error: BaseException, limit: int | None = 300) -> str:
    """The first line of *error*'s message, cut to *limit* characters (the error's type
    name when it has no message): what a recorded reason or a one-line message quotes."""
    text = str(error).strip().splitlines()
    return text[0][:limit] if text else type(error).__name__
