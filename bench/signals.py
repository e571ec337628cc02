"""Signals: SIGTERM is treated as Ctrl-C, from the first moment the program runs; and a
way to hold interrupts back while the engine does work it would finish anyway."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_STOPS = (signal.SIGINT, signal.SIGTERM)

#: the exit code of an interrupted program (DESIGN 3.1), 128 + SIGINT
EXIT_INTERRUPTED = 130


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def install() -> None:
    """Make SIGTERM raise KeyboardInterrupt like SIGINT does (one cleanup path for both)."""
    signal.signal(signal.SIGTERM, _interrupt)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then raise KeyboardInterrupt if one
    came. For engine work that goes on server-side when the client stops listening (an
    image build): interrupting the client would leave the result behind unlabelled by any
    cleanup that already ran. Outside the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {s: signal.getsignal(s) for s in _STOPS}
    for s in _STOPS:
        signal.signal(s, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if received:
        raise KeyboardInterrupt
