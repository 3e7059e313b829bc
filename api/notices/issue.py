"""Rectification notices: batch a project's open hazards into one notice (no floods),
each line with its required measure (citing the standard) and its deadline by level."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal, check_site
from siteguard.api.errors import Conflict, NotFound
from siteguard.api.notices.measures import MEASURES, DeadlinePolicy
from siteguard.api.notices.views import notice_view
from siteguard.api.platform import push
from siteguard.api.records import audit
from siteguard.api.statuses import HazardStatus, NoticeStatus
from siteguard.api.store.clock import CHINA, utc_naive
from siteguard.api.store.tables import HazardRow, NoticeItemRow, NoticeRow, ProjectRow


def unnoticed_hazards(s: Session, site_id: str) -> list[HazardRow]:
    noticed = select(NoticeItemRow.hazard_id)
    return list(
        s.scalars(
            select(HazardRow)
            .where(
                HazardRow.site_id == site_id,
                HazardRow.status == HazardStatus.OPEN,
                HazardRow.id.not_in(noticed),
            )
            .order_by(HazardRow.first_seen)
        )
    )


def issue_notice(
    s: Session,
    project: ProjectRow,
    policy: DeadlinePolicy,
    issuer: str,
    now: datetime | None = None,
) -> NoticeRow | None:
    """One notice for every open hazard of the project not yet on a notice; None if none."""
    hazards = unnoticed_hazards(s, project.site_id)
    if not hazards:
        return None
    now = now or datetime.now(UTC)
    day = now.astimezone(CHINA).strftime("%Y%m%d")
    prefix = f"SG-{project.site_id}-{day}-"
    n = (
        s.scalar(
            select(func.count()).select_from(NoticeRow).where(NoticeRow.number.like(prefix + "%"))
        )
        or 0
    )
    notice = NoticeRow(
        number=f"{prefix}{n + 1:03d}",
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


def issue_for_site(s: Session, who: Principal, site_id: str, policy: DeadlinePolicy) -> NoticeRow:
    """An inspector issues one notice for the project's open hazards not yet on a notice:
    recorded in the audit chain and queued for the supervision platform."""
    who.require("inspector")
    p = check_site(s, who, site_id)
    if p is None:
        raise NotFound(f"no project with site_id {site_id!r}")
    notice = issue_notice(s, p, policy, who.name)
    if notice is None:
        raise Conflict("no open hazard without a notice")
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
