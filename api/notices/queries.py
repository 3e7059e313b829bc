"""Notices the caller may see: one with everything its pages show, lists, the history."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from siteguard.api.access.keys import Principal, scope_filter
from siteguard.api.errors import NotFound
from siteguard.api.store.clock import iso
from siteguard.api.store.tables import (
    HazardRow,
    NoticeHistoryRow,
    NoticeItemRow,
    NoticeRow,
    ProjectRow,
)


def load_notice(s: Session, notice_id: int, who: Principal | None = None) -> NoticeRow:
    """The notice with its items, their hazards and the project (NotFound if there is none
    or the caller may not see it; None: no scope check, for internal use)."""
    n = s.scalar(
        select(NoticeRow)
        .where(NoticeRow.id == notice_id)
        .options(
            selectinload(NoticeRow.items)
            .selectinload(NoticeItemRow.hazard)
            .selectinload(HazardRow.events),
            selectinload(NoticeRow.project),
        )
    )
    if n is None:
        raise NotFound(f"no notice {notice_id}")
    if who is not None and not who.sees(n.project, n.project.site_id):
        raise NotFound(f"no notice {notice_id}")
    return n


def visible_notices(
    s: Session,
    who: Principal,
    site_id: str | None = None,
    status: str | None = None,
    limit: int | None = None,
) -> list[NoticeRow]:
    """Newest first, with items, their hazards and the project loaded."""
    q = (
        select(NoticeRow)
        .join(ProjectRow)
        .order_by(NoticeRow.id.desc())
        .options(
            selectinload(NoticeRow.items).selectinload(NoticeItemRow.hazard),
            selectinload(NoticeRow.project),
        )
    )
    if (cond := scope_filter(who)) is not None:
        q = q.where(cond)
    if site_id:
        q = q.where(ProjectRow.site_id == site_id)
    if status:
        q = q.where(NoticeRow.status == status)
    if limit:
        q = q.limit(limit)
    return list(s.scalars(q))


def notice_history(s: Session, notice_id: int) -> list[NoticeHistoryRow]:
    return list(
        s.scalars(
            select(NoticeHistoryRow)
            .where(NoticeHistoryRow.notice_id == notice_id)
            .order_by(NoticeHistoryRow.id)
        )
    )


def history_json(r: NoticeHistoryRow) -> dict[str, Any]:
    return {
        "at": iso(r.at),
        "actor": r.actor,
        "role": r.role,
        "action": r.action,
        "from": r.from_status,
        "to": r.to_status,
        "comment": r.comment,
        "attachments": json.loads(r.attachments or "[]"),
    }


def notice_by_number(s: Session, who: Principal, number: str) -> NoticeRow:
    """The notice with this number, if the caller may see it."""
    n = s.scalar(
        select(NoticeRow).where(NoticeRow.number == number).options(selectinload(NoticeRow.project))
    )
    if n is None or not who.sees(n.project, n.project.site_id):
        raise NotFound("not found")
    return n


def notice_of_hazard(s: Session, hazard_id: int) -> NoticeRow | None:
    """The notice a hazard is on, if any."""
    item = s.scalar(
        select(NoticeItemRow)
        .where(NoticeItemRow.hazard_id == hazard_id)
        .options(selectinload(NoticeItemRow.notice))
    )
    return item.notice if item is not None else None
