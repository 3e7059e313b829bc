"""Rectification notices: batch a project's open hazards into one notice (no floods),
each line with its required measure (citing the standard) and its deadline by level.

Numbers are ``SG-<site>-<YYYYMMDD>-NNN`` (China date, NNN counting that site's notices
of the day). Issuing locks the project row first (`workflow.lock_row`), so parallel
issues for one project take turns: each sees the notices and hazards the one before it
committed, takes the next number and only the hazards still without a notice (none
left: 409). A site id too long for the number's column (64) is shortened to its head and
a hash of the whole (`number_site`), which no site id can equal."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal, check_site
from siteguard.api.errors import Conflict, Invalid, NotFound
from siteguard.api.notices.measures import MEASURES, DeadlinePolicy
from siteguard.api.notices.views import notice_view
from siteguard.api.notices.workflow import lock_row
from siteguard.api.platform import push
from siteguard.api.records import audit
from siteguard.api.statuses import HazardStatus, NoticeStatus
from siteguard.api.store.clock import CHINA, utc_naive
from siteguard.api.store.tables import HazardRow, NoticeItemRow, NoticeRow, ProjectRow

# the site part of a notice number: SG- + 32 + -YYYYMMDD- + NNN is 48 characters, so the
# number (64) and the push key notice:<number>:issued fit their columns with room for NNN
SITE_PART_MAX = 32


def number_site(site_id: str) -> str:
    """The site as written in notice numbers: the site id, or, when longer than
    `SITE_PART_MAX`, its first 23 characters, ``~`` and 8 hex digits of its sha256 (no
    site id holds a ``~``, so this names one site only)."""
    if len(site_id) <= SITE_PART_MAX:
        return site_id
    return f"{site_id[: SITE_PART_MAX - 9]}~{hashlib.sha256(site_id.encode()).hexdigest()[:8]}"


def next_number(s: Session, site_id: str, now: datetime) -> str:
    """The next notice number of the site's day (after the highest issued, not a count:
    ``_`` and ``%`` in site ids match nothing else)."""
    prefix = f"SG-{number_site(site_id)}-{now.astimezone(CHINA):%Y%m%d}-"
    taken = s.scalars(
        select(NoticeRow.number).where(NoticeRow.number.startswith(prefix, autoescape=True))
    )
    last = max((int(n[len(prefix) :]) for n in taken if n[len(prefix) :].isdigit()), default=0)
    return f"{prefix}{last + 1:03d}"


def unnoticed_hazards(
    s: Session, site_id: str, only: Collection[int] | None = None
) -> list[HazardRow]:
    """The project's open hazards on no notice yet (``only``: of these ids)."""
    noticed = select(NoticeItemRow.hazard_id)
    q = select(HazardRow).where(
        HazardRow.site_id == site_id,
        HazardRow.status == HazardStatus.OPEN,
        HazardRow.id.not_in(noticed),
    )
    if only is not None:
        q = q.where(HazardRow.id.in_(list(only)))
    return list(
        s.scalars(
            q.order_by(HazardRow.first_seen).execution_options(populate_existing=True)
        )  # as stored now
    )


def issue_notice(
    s: Session,
    project: ProjectRow,
    policy: DeadlinePolicy,
    issuer: str,
    now: datetime | None = None,
    only: Collection[int] | None = None,
) -> NoticeRow | None:
    """One notice for every open hazard of the project not yet on a notice (``only``: of
    these hazard ids); None if none. Takes the project's lock for the rest of the
    transaction (parallel issues take turns)."""
    if not unnoticed_hazards(s, project.site_id, only):
        return None  # nothing to issue: no lock taken
    project = lock_row(s, ProjectRow, project.id)
    hazards = unnoticed_hazards(s, project.site_id, only)  # as it is now that it is our turn
    if not hazards:
        return None
    now = now or datetime.now(UTC)
    notice = NoticeRow(
        number=next_number(s, project.site_id, now),
        project=project,
        issued_at=utc_naive(now),
        issuer=issuer,
        status=NoticeStatus.ISSUED,
    )
    s.add(notice)
    for h in hazards:
        m = MEASURES[h.hazard_type]
        s.add(
            NoticeItemRow(
                notice=notice,
                hazard=h,
                title=m.title_zh,
                measure=m.measure_zh,
                standards=", ".join(m.standards),
                level=h.level,
                deadline=utc_naive(policy.deadline(h.level, now)),
            )
        )
        h.status = HazardStatus.ISSUED
    s.flush()
    return notice


def issue_for_site(
    s: Session,
    who: Principal,
    site_id: str,
    policy: DeadlinePolicy,
    only: Collection[int] | None = None,
) -> NoticeRow:
    """An inspector issues one notice for the project's open hazards not yet on a notice
    (``only``: of these hazard ids): recorded in the audit chain and queued for the
    supervision platform."""
    who.require("inspector")
    p = check_site(s, who, site_id)
    if p is None:
        raise NotFound(f"no project with site_id {site_id!r}")
    notice = issue_notice(s, p, policy, who.name, only=only)
    if notice is None:
        raise Conflict(
            "no open hazard without a notice"
            + ("" if only is None else " among the hazards chosen (issued or dismissed since?)"),
            "没有尚未下发的待处理隐患"
            + ("" if only is None else "：所选隐患可能已被下发或判为误报（请刷新页面）"),
        )
    audit.append(
        s,
        who.name,
        "notice.issued",
        "notice",
        notice.number,
        {"site_id": site_id, "hazards": [i.hazard_id for i in notice.items]},
    )
    push.enqueue(
        s, "notice.issued", f"notice:{notice.number}:issued", notice_view(notice), who.name
    )
    return notice


def issue_for_hazards(
    s: Session, who: Principal, hazard_ids: Collection[int], policy: DeadlinePolicy
) -> list[NoticeRow]:
    """合并下发: the chosen hazards become one notice per project (a notice belongs to one
    project and its responsible contractor). Hazards the caller cannot see are NotFound,
    as if they did not exist; one already on a notice or closed is a Conflict."""
    who.require("inspector")
    ids = sorted(set(hazard_ids))
    if not ids:
        raise Invalid("choose at least one hazard", "请至少选择一条隐患")
    rows = {h.id: h for h in s.scalars(select(HazardRow).where(HazardRow.id.in_(ids)))}
    by_site: dict[str, list[int]] = {}
    for hazard_id in ids:
        h = rows.get(hazard_id)
        if h is None or check_site(s, who, h.site_id) is None:
            raise NotFound(f"no hazard {hazard_id}")
        by_site.setdefault(h.site_id, []).append(hazard_id)
    notices = []
    for site_id, chosen in sorted(by_site.items()):
        notice = issue_for_site(s, who, site_id, policy, only=chosen)
        missing = set(chosen) - {i.hazard_id for i in notice.items}
        if missing:
            raise Conflict(
                f"hazards {sorted(missing)} are no longer open or are on a notice",
                f"隐患 {'、'.join(f'#{i}' for i in sorted(missing))} 已不是待处理或已在通知单上",
            )
        notices.append(notice)
    return notices
