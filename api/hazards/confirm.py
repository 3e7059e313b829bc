"""确认隐患: an inspector confirms an AI finding before (or instead of) issuing it.

A hazard starts unconfirmed (found by the model). An inspector of the project's insurer
confirms it: who and when are kept on the hazard and in the audit chain
(``hazard.confirmed``). Only an open hazard, on no notice yet, is confirmed; confirming
twice is refused (409), so of two parallel confirmations exactly one is recorded.
Issuing a notice confirms its hazards implicitly: the notice's issuer and time stand for
the confirmation (`confirmation`), so an issued hazard needs no separate step.
A confirmed hazard can still be dismissed as a false alarm (api/notices/workflow.py).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal
from siteguard.api.errors import Conflict, Invalid
from siteguard.api.hazards.queries import load_hazard
from siteguard.api.notices.workflow import lock_row
from siteguard.api.records import audit
from siteguard.api.statuses import HazardStatus, status_zh
from siteguard.api.store.clock import china_text, utc_naive
from siteguard.api.store.tables import HazardRow, NoticeRow

CONFIRM_ROLES = ("inspector",)  # and admin (Principal.require lets admins through)


@dataclass(frozen=True)
class Confirmation:
    """Who confirmed a hazard and when (``on_issue``: by issuing its notice)."""

    by: str
    at: datetime  # naive UTC, as stored
    on_issue: bool


def confirmation(h: HazardRow, notice: NoticeRow | None) -> Confirmation | None:
    """The hazard's confirmation: the inspector's explicit one, else its notice's issue;
    None while it is unconfirmed."""
    if h.confirmed_at is not None:
        return Confirmation(h.confirmed_by, h.confirmed_at, on_issue=False)
    if notice is not None:
        return Confirmation(notice.issuer, notice.issued_at, on_issue=True)
    return None


def confirm(s: Session, hazard: HazardRow, who: Principal, at: datetime | None = None) -> HazardRow:
    """Record that `who` confirmed the open hazard (locks its row: parallel confirmations
    take turns, the second is refused)."""
    who.require(*CONFIRM_ROLES)
    for fresh in (False, True):  # refuse without the lock if the state already says so
        if fresh:
            hazard = lock_row(s, HazardRow, hazard.id)
        if hazard.confirmed_at is not None:
            raise Conflict(
                f"hazard {hazard.id} was already confirmed by {hazard.confirmed_by} at "
                f"{china_text(hazard.confirmed_at)} (China time)",
                f"隐患 #{hazard.id} 已由 {hazard.confirmed_by} 于 "
                f"{china_text(hazard.confirmed_at)} 确认",
            )
        if hazard.status != HazardStatus.OPEN:
            raise Conflict(
                f"hazard {hazard.id} is {hazard.status}: only an open hazard is confirmed "
                "(issuing its notice confirmed an issued one)",
                f"隐患 #{hazard.id} 已是「{status_zh(hazard.status)}」：只有待处理的隐患需要确认",
            )
    hazard.confirmed_at = utc_naive(at or datetime.now(UTC))
    hazard.confirmed_by = who.name
    audit.append(
        s,
        who.name,
        "hazard.confirmed",
        "hazard",
        hazard.id,
        {"type": hazard.hazard_type, "level": hazard.level, "camera": hazard.camera_id},
    )
    return hazard


def confirm_hazards(
    s: Session, who: Principal, hazard_ids: Collection[int], at: datetime | None = None
) -> list[HazardRow]:
    """Confirm several hazards at once (the inbox's selection), all or none: one the
    caller cannot see is NotFound, one confirmed or issued since is a Conflict."""
    who.require(*CONFIRM_ROLES)
    ids = sorted(set(hazard_ids))
    if not ids:
        raise Invalid("choose at least one hazard", "请至少选择一条隐患")
    return [confirm(s, load_hazard(s, who, i), who, at) for i in ids]
