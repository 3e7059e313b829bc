"""Alerts (告警): major hazards and escalations of overdue notices, in the caller's scope.

`alerts` is the regulator's plain feed (`GET /api/v1/regulator/alerts`). The alerts view
(`alert_page`: the console's 告警中心 and `GET /api/v1/alerts`) is every role's, each in its
own scope (a contractor's sites, an insurer's or inspector's insured projects, a
regulator's jurisdiction). It filters by project, camera, hazard type, level, the hazard's
state, escalation, the caller's 已阅 marks and a range of China-time days, counts each
filter's values under the other filters, and pages. An alert is named by its kind and its
hazard's id (a hazard has at most one of each kind). Read marks (`mark_read`) are per
reader: another reader's marks change nothing of yours.

Live arrivals (`arrivals`) follow the push outbox: the transaction that makes an alert (a
hazard becoming major, an escalation) enqueues its push, so the outbox's ids order every
alert's arrival, including a hazard raised to major later, and every API replica reads the
same database.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from siteguard.api.access.keys import PEOPLE, Principal, scope_filter
from siteguard.api.errors import Invalid, NotFound
from siteguard.api.hazards.views import hazard_summary
from siteguard.api.store.clock import china_day, iso, now_naive, utc_naive
from siteguard.api.store.tables import (
    AlertReadRow,
    EscalationRow,
    HazardRow,
    NoticeItemRow,
    NoticeRow,
    ProjectRow,
    PushRow,
    SupervisionRow,
)


def alerts(
    s: Session, who: Principal, since: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Major hazards and escalations the caller may see, newest first."""
    cond = scope_filter(who)

    def scoped(q: Any) -> Any:
        q = q.join(ProjectRow, ProjectRow.site_id == HazardRow.site_id)
        return q if cond is None else q.where(cond)

    majors = s.execute(
        scoped(select(HazardRow, ProjectRow).where(HazardRow.level == "major"))
        .where(HazardRow.first_seen >= (since or datetime.min))
        .order_by(HazardRow.first_seen.desc())
        .limit(limit)
    ).all()
    escalated = s.execute(
        scoped(
            select(EscalationRow, HazardRow, ProjectRow).join(
                HazardRow, HazardRow.id == EscalationRow.hazard_id
            )
        )
        .where(EscalationRow.at >= (since or datetime.min))
        .order_by(EscalationRow.at.desc())
        .limit(limit)
    ).all()
    out = [
        {
            "type": "major_hazard",
            "at": iso(h.first_seen),
            "site_name": p.name,
            "jurisdiction": p.jurisdiction,
            "hazard": hazard_summary(h),
        }
        for h, p in majors
    ] + [
        {
            "type": "escalation",
            "at": iso(e.at),
            "site_name": p.name,
            "jurisdiction": p.jurisdiction,
            "hazard": hazard_summary(h),
        }
        for e, h, p in escalated
    ]
    return sorted(out, key=lambda a: a["at"], reverse=True)[:limit]


# --- the regulator's alerts view: filters, counts, pages, read marks, live arrivals ---

KINDS = ("major_hazard", "escalation")
# the push each alert enqueues in the transaction that makes it (one per hazard and kind):
# the outbox's ids are the one increasing sequence of alert arrivals across both kinds
ALERT_PUSHES = {"alert.major_hazard": "major_hazard", "hazard.escalated": "escalation"}
PUSH_KEY = re.compile(r"^hazard:(\d+):(major|escalated)$")
PER_PAGE = 25
LOOKBACK = 100  # alert pushes looked at again by `arrivals` (late commits)
FACETS = ("site", "camera", "hazard_type", "level", "status", "escalated", "read")


@dataclass(frozen=True)
class AlertFilter:
    """The alerts view's filters ("" = any): a project, a camera ("site/camera"; a bare
    camera id is that id on every project), a hazard type, a level, the
    hazard's state, escalation alerts only ("yes") or major-hazard alerts only ("no"), read
    or unread by the caller, and the China-time days ``since`` .. ``until`` (YYYY-MM-DD,
    both included) the alert arrived in."""

    site: str = ""
    hazard_type: str = ""
    level: str = ""
    escalated: str = ""
    read: str = ""
    camera: str = ""
    status: str = ""
    since: str = ""
    until: str = ""

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            day = getattr(self, name)
            if day:
                try:
                    date.fromisoformat(day)
                except ValueError:
                    raise Invalid(
                        f"{name}: not a date: {day!r} (YYYY-MM-DD)", f"日期无效：{day}（年-月-日）"
                    ) from None
        if self.since and self.until and self.since > self.until:
            raise Invalid(
                f"since {self.since} is after until {self.until}",
                f"起始日期 {self.since} 晚于截止日期 {self.until}",
            )

    def query(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}

    def in_days(self, at: datetime) -> bool:
        """Whether a UTC time falls on the chosen China-time days."""
        if not (self.since or self.until):
            return True
        day = china_day(at)
        return (not self.since or day >= self.since) and (not self.until or day <= self.until)


@dataclass
class Alert:
    """One alert as the view filters and counts it (the hazard row comes with a page)."""

    kind: str
    hazard_id: int
    at: datetime
    site_id: str
    site_name: str
    jurisdiction: str
    hazard_type: str
    level: str
    camera: str = ""
    status: str = ""
    read_at: datetime | None = None
    hazard: HazardRow | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.hazard_id}"

    def facet(self, name: str) -> str:
        if name == "escalated":
            return "yes" if self.kind == "escalation" else "no"
        if name == "read":
            return "read" if self.read_at is not None else "unread"
        if name == "site":
            return self.site_id
        if name == "camera":  # camera ids are a project's own: cam-1 is on every site
            return f"{self.site_id}/{self.camera}" if self.camera else ""
        return str(getattr(self, name))

    def matches(self, f: AlertFilter, skip: str = "") -> bool:
        return f.in_days(self.at) and all(
            not getattr(f, name)
            or self.facet(name) == getattr(f, name)
            # a bare camera id (no "site/"): that camera id on every project
            or (name == "camera" and "/" not in f.camera and self.camera == f.camera)
            for name in FACETS
            if name != skip
        )


@dataclass
class AlertPage:
    alerts: list[Alert]
    total: int
    page: int
    pages: int
    counts: dict[str, dict[str, int]]  # facet -> value -> alerts (the other filters applied)
    cursor: int  # the newest alert push seen: live arrivals come after it
    reader: str
    supervised: dict[int, int] = field(default_factory=dict)  # hazard id -> 督办 count
    notices: dict[int, tuple[int, str]] = field(default_factory=dict)  # hazard -> notice

    @property
    def summary(self) -> dict[str, int]:
        """The headline counts under the current filters: unread, major, escalated."""
        return {
            "unread": self.counts["read"].get("unread", 0),
            "major": self.counts["escalated"].get("no", 0),
            "escalated": self.counts["escalated"].get("yes", 0),
        }


def alert_index(s: Session, who: Principal, hazard_ids: list[int] | None = None) -> list[Alert]:
    """Every alert the caller may see (optionally only these hazards'), with the caller's
    read marks, newest first."""
    cond = scope_filter(who)
    cols = (
        HazardRow.id,
        HazardRow.site_id,
        ProjectRow.name,
        ProjectRow.jurisdiction,
        HazardRow.hazard_type,
        HazardRow.level,
        HazardRow.camera_id,
        HazardRow.status,
    )

    def scoped(q: Any) -> Any:
        q = q.join(ProjectRow, ProjectRow.site_id == HazardRow.site_id)
        q = q if cond is None else q.where(cond)
        return q if hazard_ids is None else q.where(HazardRow.id.in_(hazard_ids))

    majors = s.execute(
        scoped(select(HazardRow.first_seen, *cols).where(HazardRow.level == "major"))
    )
    escalated = s.execute(
        scoped(
            select(EscalationRow.at, *cols).join(HazardRow, HazardRow.id == EscalationRow.hazard_id)
        )
    )
    reads_q = select(AlertReadRow.kind, AlertReadRow.hazard_id, AlertReadRow.at).where(
        AlertReadRow.reader == who.name
    )
    if hazard_ids is not None:
        reads_q = reads_q.where(AlertReadRow.hazard_id.in_(hazard_ids))
    reads = {(k, h): at for k, h, at in s.execute(reads_q)}
    out = [
        Alert(kind, hid, at, site, name, jur, htype, level, cam, st, reads.get((kind, hid)))
        for kind, rows in (("major_hazard", majors), ("escalation", escalated))
        for at, hid, site, name, jur, htype, level, cam, st in rows
    ]
    out.sort(key=lambda a: (a.at, a.kind == "escalation", a.hazard_id), reverse=True)
    return out


def facet_counts(index: list[Alert], f: AlertFilter) -> dict[str, dict[str, int]]:
    """Per filter and value: how many alerts match it and every other filter."""
    counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for a in index:
        for name in FACETS:
            if a.matches(f, skip=name):
                value = a.facet(name)
                counts[name][value] = counts[name].get(value, 0) + 1
                counts[name][""] = counts[name].get("", 0) + 1
    return counts


def alert_cursor(s: Session) -> int:
    """The newest alert push: what a page opened now has seen."""
    return int(
        s.scalar(select(func.max(PushRow.id)).where(PushRow.type.in_(list(ALERT_PUSHES)))) or 0
    )


def alert_page(
    s: Session, who: Principal, f: AlertFilter, page: int = 1, per_page: int = PER_PAGE
) -> AlertPage:
    """One page of the caller's alerts under the filters, with the counts."""
    who.require(*PEOPLE)
    cursor = alert_cursor(s)  # first: an alert arriving meanwhile comes live, not lost
    index = alert_index(s, who)
    chosen = [a for a in index if a.matches(f)]
    pages = max(1, -(-len(chosen) // per_page))
    page = min(max(page, 1), pages)
    shown = chosen[(page - 1) * per_page : page * per_page]
    result = AlertPage(shown, len(chosen), page, pages, facet_counts(index, f), cursor, who.name)
    _load_rows(s, result)
    return result


def _load_rows(s: Session, p: AlertPage) -> None:
    ids = sorted({a.hazard_id for a in p.alerts})
    if not ids:
        return
    rows = {h.id: h for h in s.scalars(select(HazardRow).where(HazardRow.id.in_(ids)))}
    for a in p.alerts:
        a.hazard = rows.get(a.hazard_id)
    p.supervised = dict(
        s.execute(
            select(SupervisionRow.hazard_id, func.count())
            .where(SupervisionRow.hazard_id.in_(ids))
            .group_by(SupervisionRow.hazard_id)
        ).all()
    )
    p.notices = {
        hid: (nid, number)
        for hid, nid, number in s.execute(
            select(NoticeItemRow.hazard_id, NoticeRow.id, NoticeRow.number)
            .join(NoticeRow, NoticeRow.id == NoticeItemRow.notice_id)
            .where(NoticeItemRow.hazard_id.in_(ids))
        )
    }


def arrivals(
    s: Session, who: Principal, f: AlertFilter, after: int, known: set[str]
) -> tuple[AlertPage, int]:
    """Alerts that arrived after the push ``after`` (and whose keys are not in ``known``)
    under the filters, newest first, and the new cursor. Pushes a few ids back are looked
    at again: on PostgreSQL a transaction may commit after one with a higher id did."""
    rows = s.execute(
        select(PushRow.id, PushRow.idempotency_key)
        .where(PushRow.type.in_(list(ALERT_PUSHES)), PushRow.id > max(after - LOOKBACK, 0))
        .order_by(PushRow.id)
    ).all()
    cursor = max([after] + [r.id for r in rows])
    wanted: set[tuple[str, int]] = set()
    for _id, key in rows:
        m = PUSH_KEY.match(key)
        if m:
            kind = "major_hazard" if m.group(2) == "major" else "escalation"
            if f"{kind}-{m.group(1)}" not in known:
                wanted.add((kind, int(m.group(1))))
    found = [
        a
        for a in alert_index(s, who, sorted({h for _k, h in wanted}))
        if (a.kind, a.hazard_id) in wanted and a.matches(f)
    ]
    result = AlertPage(found, len(found), 1, 1, {}, cursor, who.name)
    _load_rows(s, result)
    return result, cursor


def known_before(s: Session, after: int) -> set[str]:
    """The alert keys among the pushes just before ``after`` (a page opened at ``after``
    shows them already): what `arrivals` must not send again."""
    keys = s.scalars(
        select(PushRow.idempotency_key).where(
            PushRow.type.in_(list(ALERT_PUSHES)),
            PushRow.id > max(after - LOOKBACK, 0),
            PushRow.id <= after,
        )
    )
    out = set()
    for key in keys:
        m = PUSH_KEY.match(key)
        if m:
            out.add(f"{'major_hazard' if m.group(2) == 'major' else 'escalation'}-{m.group(1)}")
    return out


def alert_json(a: Alert, p: AlertPage) -> dict[str, Any]:
    """An alert as the JSON API answers it."""
    assert a.hazard is not None
    notice = p.notices.get(a.hazard_id)
    return {
        "type": a.kind,
        "key": a.key,
        "at": iso(a.at),
        "site_name": a.site_name,
        "jurisdiction": a.jurisdiction,
        "hazard": hazard_summary(a.hazard),
        "evidence_url": f"/api/v1/hazards/{a.hazard_id}/evidence.jpg"
        if a.hazard.evidence_uri
        else None,
        "read": None if a.read_at is None else {"by": p.reader, "at": iso(a.read_at)},
        "supervisions": p.supervised.get(a.hazard_id, 0),
        "notice": None if notice is None else {"id": notice[0], "number": notice[1]},
    }


def mark_read(
    s: Session, who: Principal, alerts: list[tuple[str, int]], now: datetime | None = None
) -> int:
    """已阅: mark these alerts (kind, hazard id) read by the caller; how many were newly
    marked. Each must be an alert the caller may see (else NotFound, nothing marked)."""
    who.require(*PEOPLE)
    wanted = set(alerts)
    for kind, _hid in wanted:
        if kind not in KINDS:
            raise NotFound(f"unknown alert kind {kind!r} (kinds: {', '.join(KINDS)})")
    have = {(a.kind, a.hazard_id): a for a in alert_index(s, who, sorted({h for _k, h in wanted}))}
    for kind, hid in sorted(wanted):
        if (kind, hid) not in have:
            raise NotFound(f"no {kind} alert of hazard {hid}")
    at = utc_naive(now) if now else now_naive()
    fresh = [have[k] for k in sorted(wanted) if have[k].read_at is None]
    if not fresh:
        return 0
    rows = [
        {"kind": a.kind, "hazard_id": a.hazard_id, "reader": who.name, "role": who.role, "at": at}
        for a in fresh
    ]
    # a mark of the same alert by the same reader committed meanwhile (two tabs, a double
    # click) is what was asked for: skipped, not a conflict
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    done = s.execute(
        insert(AlertReadRow)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["kind", "hazard_id", "reader"])
        .returning(AlertReadRow.id)  # the rows stored (rowcount is -1 for some drivers)
    )
    return len(done.all())
