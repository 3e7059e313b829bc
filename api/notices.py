"""Rectification notices: batch a project's open hazards into one notice (no floods),
each line with its required measure (citing the standard) and its deadline by level."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siteguard.api.ingest import utc_naive
from siteguard.api.measures import (
    CHINA,
    HAZARD_NAMES_ZH,
    LEVEL_ZH,
    MEASURES,
    DeadlinePolicy,
    china_text,
)
from siteguard.api.tables import HazardRow, NoticeItemRow, NoticeRow, ProjectRow


def unnoticed_hazards(s: Session, site_id: str) -> list[HazardRow]:
    noticed = select(NoticeItemRow.hazard_id)
    return list(
        s.scalars(
            select(HazardRow)
            .where(
                HazardRow.site_id == site_id,
                HazardRow.status == "open",
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
        status="issued",
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
        h.status = "issued"
    s.flush()
    return notice


def notice_view(n: NoticeRow) -> dict[str, Any]:
    """Everything the JSON and the printed page show (问题清单, 责任人清单, 整改时限清单)."""
    p = n.project
    return {
        "id": n.id,
        "number": n.number,
        "status": n.status,
        "issuer": n.issuer,
        "issued_at": n.issued_at.replace(tzinfo=UTC).isoformat(),
        "issued_at_local": china_text(n.issued_at),
        "project": {
            "site_id": p.site_id,
            "name": p.name,
            "address": p.address,
            "permit_no": p.permit_no,
            "policy_no": p.policy_no,
            "insurer": p.insurer,
            "contractor": p.contractor,
            "responsible_person": p.responsible_person,
            "responsible_phone": p.responsible_phone,
            "jurisdiction": p.jurisdiction,
        },
        "items": [
            {
                "no": i + 1,
                "hazard_id": it.hazard_id,
                "hazard_type": it.hazard.hazard_type,
                "hazard_name": HAZARD_NAMES_ZH[it.hazard.hazard_type],
                "title": it.title,
                "level": it.level,
                "level_zh": LEVEL_ZH[it.level],
                "location": f"{it.hazard.camera_id}"
                + (f" / {it.hazard.zone}" if it.hazard.zone else ""),
                "found_at": china_text(it.hazard.first_seen),
                "reason": it.hazard.reason,
                "evidence_uri": it.hazard.evidence_uri,
                "measure": it.measure,
                "standards": it.standards,
                "deadline": it.deadline.replace(tzinfo=UTC).isoformat(),
                "deadline_local": china_text(it.deadline),
                "responsible": f"{p.contractor} {p.responsible_person}".strip(),
            }
            for i, it in enumerate(n.items)
        ],
    }
