"""Keeps the insurer views' assessments warm: 30 s after start and whenever the rolling period moves
(every quarter hour), a background thread computes every project's periods that the risk
page shows (the rolling 30 days, the 30 days before, the chart's month ends) into the
in-process cache (`api/risk/cache.py`), so a person opening the page finds them computed
(measured for 500 projects: 7.5-10.8 s cold, 0.3-0.4 s warm; bench/README.md).

It runs on its own thread, never on the pusher's (pushes and escalations must not wait
for it), reads only, and a failure is logged and retried at the next quarter hour."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from siteguard.api.risk.cache import snapped
from siteguard.api.risk.explain import chart_ends
from siteguard.api.risk.portfolio import risk_over
from siteguard.api.risk.signals import Period
from siteguard.api.settings import ApiSettings
from siteguard.api.store.clock import now_naive
from siteguard.api.store.tables import ProjectRow

log = logging.getLogger(__name__)
CHECK_S = 20.0  # how often the thread looks whether the quarter hour moved
START_DELAY_S = 30.0  # after start: the process first serves, migrates, connects


def warm_once(sessions: sessionmaker[Session], settings: ApiSettings) -> int:
    """Compute the periods the risk page shows for every project; the projects warmed."""
    now = now_naive()
    end = snapped(now)
    period = Period.rolling(end)
    points = [Period.rolling(e) for e, _, _ in chart_ends(end)[:-1]]
    with sessions() as s:
        projects = list(s.scalars(select(ProjectRow)))
        if projects:
            risk_over(s, projects, [period, period.previous(), *points], settings, now)
    return len(projects)


class RiskWarmer:
    def __init__(self, sessions: sessionmaker[Session], settings: ApiSettings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.warmed_for: datetime | None = None  # the quarter hour last warmed
        self.last_seconds = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start (again: an app's lifespan may run more than once, as under test clients)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="risk-warmer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        if self._stop.wait(START_DELAY_S):
            return
        while not self._stop.is_set():
            quarter = snapped(now_naive())
            if quarter != self.warmed_for:
                began = time.monotonic()
                try:
                    n = warm_once(self.sessions, self.settings)
                    self.warmed_for = quarter
                    self.last_seconds = time.monotonic() - began
                    log.info("risk views warmed for %d projects in %.1f s", n, self.last_seconds)
                except Exception:  # the database may be down: try again shortly
                    log.exception("warming the risk views failed")
            self._stop.wait(CHECK_S)
