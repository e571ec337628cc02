"""Processes the harness runs, on the host or in a container, and the text they leave.

What a tool printed is quoted in error messages by :func:`output_tail`; bytes from the
engine become text through :func:`decoded`.
"""

from __future__ import annotations


def decoded(data: bytes | None) -> str:
    """A tool's output bytes as text (undecodable bytes replaced)."""
    return data.decode("utf-8", "replace") if data else ""


def output_tail(
    text: str, *, lines: int = 1, limit: int = 300, prefix: str = "", empty: str = ""
) -> str:
    """The last non-empty *lines* of a tool's output, joined and cut to *limit*
    characters, after *prefix*: what an error message quotes; *empty* for no output."""
    found = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return f"{prefix}{' | '.join(found[-lines:])[:limit]}" if found else empty
