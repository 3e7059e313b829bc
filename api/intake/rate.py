"""What one site may send per minute: a flood (a stolen edge login, a broken box) is
refused and counted instead of filling the database. Per replica, a sliding 60 s window;
the first refusal of a site in a minute is kept as a dead letter, the rest only counted."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 60.0


class SiteRate:
    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._now = now
        self._seen: dict[str, deque[float]] = {}
        self._noted: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, site: str) -> tuple[bool, bool]:
        """(allowed, keep a dead letter of this refusal)."""
        now = self._now()
        with self._lock:
            q = self._seen.setdefault(site, deque())
            while q and now - q[0] >= WINDOW_S:
                q.popleft()
            if len(q) < self.per_minute:
                q.append(now)
                return True, False
            note = now - self._noted.get(site, -WINDOW_S) >= WINDOW_S
            if note:
                self._noted[site] = now
            return False, note
