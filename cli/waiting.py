"""Waiting in a command's main thread until it is told to stop.

CPython runs a signal's Python handler only in the main thread, and only once that thread
wakes. The kernel may hand SIGTERM to any thread of the process (a decoder's, onnxruntime's),
so a main thread asleep in ``Event.wait()`` without a timeout can sleep through it (seen: a
demo that ignored ``kill`` for a minute). Waking twice a second costs nothing.
"""

from __future__ import annotations

import threading
import time

WAKE_S = 0.5


def wait_until_set(event: threading.Event, seconds: float | None = None) -> bool:
    """Wait for ``event`` (at most ``seconds``; None: no limit); True when it was set."""
    until = None if seconds is None else time.monotonic() + seconds
    while not event.wait(WAKE_S):
        if until is not None and time.monotonic() >= until:
            return event.is_set()
    return True
