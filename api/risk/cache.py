"""An in-process cache of finished assessments: (project, period, product settings) ->
(assessment, signals), valid while the project's data version is unchanged.

A period that ended (every period the insurer views show: month ends, the rolling 30 days
up to the last quarter hour, the 30 days before) is a pure function of the records, since
"now" for a past period is its end. The data version is what the signals read, per site,
in a handful of aggregate queries for all the projects: hazards (count, last id,
dismissed), notices, their items and history (count, last id), cameras, and camera uptime
clipped at the cutoff (heartbeats that extend an open row past it change nothing before
it). A project whose version moved is recomputed, the others are read from the cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from siteguard.api.risk.model import RiskAssessment, RiskSettings
from siteguard.api.risk.signals import Period, SignalDetail, portfolio_risk
from siteguard.api.store.tables import (
    CameraRow,
    CameraUptimeRow,
    HazardRow,
    NoticeHistoryRow,
    NoticeItemRow,
    NoticeRow,
    ProjectRow,
)

SNAP_MINUTES = 15
Risk = tuple[RiskAssessment, SignalDetail]
Version = tuple[Any, ...]


def snapped(now: datetime) -> datetime:
    """`now` floored to the quarter hour: the end of the rolling period the views show."""
    return now.replace(minute=now.minute - now.minute % SNAP_MINUTES, second=0, microsecond=0)


def data_versions(s: Session, projects: list[ProjectRow], cutoff: datetime) -> dict[int, Version]:
    """project id -> the version of everything its signals up to `cutoff` read."""
    site_of = {p.site_id: p.id for p in projects}
    parts: dict[int, list[Any]] = {p.id: [] for p in projects}

    def by_site(rows: Any, width: int) -> None:
        got = {site: tuple(rest) for site, *rest in rows}
        for site, pid in site_of.items():
            parts[pid].append(got.get(site, (None,) * width))

    def by_project(rows: Any, width: int) -> None:
        got = {pid: tuple(rest) for pid, *rest in rows}
        for pid in parts:
            parts[pid].append(got.get(pid, (None,) * width))

    sites = list(site_of)
    ids = list(parts)
    dismissed = func.sum(case((HazardRow.status == "dismissed", 1), else_=0))
    by_site(
        s.execute(
            select(HazardRow.site_id, func.count(), func.max(HazardRow.id), dismissed)
            .where(HazardRow.site_id.in_(sites))
            .group_by(HazardRow.site_id)
        ),
        3,
    )
    by_site(
        s.execute(
            select(CameraRow.site_id, func.count(), func.max(CameraRow.id))
            .where(CameraRow.site_id.in_(sites))
            .group_by(CameraRow.site_id)
        ),
        2,
    )
    u = CameraUptimeRow
    by_site(
        s.execute(
            select(
                u.site_id,
                func.count(),
                func.max(u.id),
                func.max(case((u.end < cutoff, u.end), else_=cutoff)),
                func.sum(case((u.end >= cutoff, 1), else_=0)),
            )
            .where(u.site_id.in_(sites))
            .group_by(u.site_id)
        ),
        4,
    )
    by_project(
        s.execute(
            select(NoticeRow.project_id, func.count(), func.max(NoticeRow.id))
            .where(NoticeRow.project_id.in_(ids))
            .group_by(NoticeRow.project_id)
        ),
        2,
    )
    for child, key in ((NoticeItemRow, NoticeItemRow.id), (NoticeHistoryRow, NoticeHistoryRow.id)):
        by_project(
            s.execute(
                select(NoticeRow.project_id, func.count(), func.max(key))
                .join(child, child.notice_id == NoticeRow.id)
                .where(NoticeRow.project_id.in_(ids))
                .group_by(NoticeRow.project_id)
            ),
            2,
        )
    return {pid: tuple(v) for pid, v in parts.items()}


class RiskCache:
    """Finished assessments of one database, bounded (cleared when full)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._data: dict[tuple[Any, ...], tuple[Version, Risk]] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def risk(
        self,
        s: Session,
        projects: list[ProjectRow],
        period: Period,
        cfg_of: Callable[[ProjectRow], RiskSettings],
        versions: dict[int, Version],
    ) -> dict[int, Risk]:
        """portfolio_risk, from the cache where the project's version is unchanged."""
        out: dict[int, Risk] = {}
        missing = []
        keys = {}
        with self._lock:
            for p in projects:
                key = (p.id, period.start, period.end, cfg_of(p).model_dump_json())
                keys[p.id] = key
                entry = self._data.get(key)
                if entry is not None and entry[0] == versions[p.id]:
                    out[p.id] = entry[1]
                else:
                    missing.append(p)
            self.hits += len(out)
            self.misses += len(missing)
        if missing:
            fresh = portfolio_risk(s, missing, period, cfg_of)
            with self._lock:
                if len(self._data) + len(fresh) > self.max_entries:
                    self._data.clear()
                for pid, value in fresh.items():
                    self._data[keys[pid]] = (versions[pid], value)
            out.update(fresh)
        return out


_caches: WeakKeyDictionary[Engine, RiskCache] = WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_for(s: Session) -> RiskCache:
    """The cache of the session's database (one per engine, so per app)."""
    bind = s.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _caches_lock:
        found = _caches.get(engine)
        if found is None:
            found = _caches[engine] = RiskCache()
        return found
