"""Argument types of the ``crossdock`` command line: each turns one argument's text into
its value or raises :class:`argparse.ArgumentTypeError` with what was wrong."""

from __future__ import annotations

import argparse
from datetime import date

#: ``--latest all``, as the parser holds it (``None`` is: not given).
ALL = 0


def non_negative(text: str) -> int:
    """A whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def positive(text: str) -> int:
    """A whole number, 1 or more."""
    value = non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def percent(text: str) -> float:
    """A percentage above 0 (``5`` or ``5%``)."""
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from None
    if not 0 < value < 1000:
        raise argparse.ArgumentTypeError(f"must be above 0, e.g. 5 for 5%, not {text}")
    return value


def latest(text: str) -> int:
    """``--latest``: a positive count, or ``all`` (:data:`ALL`)."""
    return ALL if text == "all" else positive(text)


def iso_date(text: str) -> date:
    """A day as ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
