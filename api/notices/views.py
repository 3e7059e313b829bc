"""A notice as the JSON, the printed page and the PDF show it, and its response models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import object_session

from siteguard.api.sites.names import camera_names
from siteguard.api.statuses import NoticeStatus
from siteguard.api.store.clock import china_text, iso
from siteguard.api.store.tables import NoticeRow
from siteguard.contract.hazards import HAZARD_NAMES_ZH, LEVEL_ZH


class NoticeProjectOut(BaseModel):
    site_id: str
    name: str
    address: str
    permit_no: str
    policy_no: str
    insurer: str
    contractor: str
    responsible_person: str
    responsible_phone: str
    jurisdiction: str


class ItemReplyOut(BaseModel):
    round: int = Field(description="1 + the rejections before it")
    via: str = Field(description="item: answered on its own; notice: one reply for all")
    at: str
    actor: str
    text: str
    attachments: list[str] = Field(description="stored proof photos (GET .../proof/{name})")


class ReinspectionOut(BaseModel):
    result: str = Field(description="accepted or rejected")
    at: str
    by: str
    comment: str


class NoticeItemOut(BaseModel):
    no: int
    hazard_id: int
    hazard_type: str
    hazard_name: str
    title: str
    level: str
    level_zh: str
    location: str
    found_at: str
    reason: str
    evidence_uri: str | None
    measure: str
    standards: str
    deadline: str
    deadline_local: str
    responsible: str
    status: str = Field(
        description="issued, rectifying, replied, returned, submitted, closed or dismissed"
    )
    overdue: bool
    due_in_s: int | None = Field(description="seconds to the deadline (negative: overdue)")
    replies: list[ItemReplyOut] = Field(description="the contractor's replies, oldest first")


class NoticeOut(BaseModel):
    """问题清单 (items), 责任人清单 (project + responsible), 整改时限清单 (deadlines)."""

    id: int
    number: str
    status: NoticeStatus
    issuer: str
    issued_at: str
    issued_at_local: str
    project: NoticeProjectOut
    items: list[NoticeItemOut]
    round: int = Field(description="re-inspection round: 1 + the rejections so far")
    overdue: bool = Field(description="an open item is past its deadline")
    due_in_s: int | None = Field(description="seconds to the earliest open deadline")
    reinspection: ReinspectionOut | None = Field(description="the last re-inspection")


class NoticeSummaryOut(BaseModel):
    id: int
    number: str
    site_id: str
    status: NoticeStatus
    issued_at: str
    items: int


class HistoryEntryOut(BaseModel):
    at: str
    actor: str
    role: str
    action: str
    from_: str = Field(alias="from")
    to: str
    comment: str
    attachments: list[str]


def notice_summary(n: NoticeRow) -> dict[str, Any]:
    return {
        "id": n.id,
        "number": n.number,
        "site_id": n.project.site_id,
        "status": n.status,
        "issued_at": iso(n.issued_at),
        "items": len(n.items),
    }


def notice_view(n: NoticeRow) -> dict[str, Any]:
    """Everything the JSON and the printed page show (问题清单, 责任人清单, 整改时限清单)."""
    p = n.project
    s = object_session(n)  # a detached notice (none in the app) names cameras by id
    cameras = camera_names(s, p.site_id) if s is not None else {}
    return {
        "id": n.id,
        "number": n.number,
        "status": n.status,
        "issuer": n.issuer,
        "issued_at": iso(n.issued_at),
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
                "location": _camera_text(cameras, (p.site_id, it.hazard.camera_id))
                + (f" / {it.hazard.zone}" if it.hazard.zone else ""),
                "found_at": china_text(it.hazard.first_seen),
                "reason": it.hazard.reason,
                "evidence_uri": it.hazard.evidence_uri,
                "measure": it.measure,
                "standards": it.standards,
                "deadline": iso(it.deadline),
                "deadline_local": china_text(it.deadline),
                "responsible": f"{p.contractor} {p.responsible_person}".strip(),
            }
            for i, it in enumerate(n.items)
        ],
    }


def _camera_text(cameras: dict[tuple[str, str], str], site_camera: tuple[str, str]) -> str:
    """A camera as a notice names it: its registered name with the id (what the site box
    and the platform know it by), or the id alone."""
    name = cameras.get(site_camera, "")
    return f"{name}（{site_camera[1]}）" if name else site_camera[1]


def notice_detail(n: NoticeRow, progress: dict[str, Any]) -> dict[str, Any]:
    """The notice as issued and where it stands now (`progress.notice_progress`): what the
    JSON answers, the console and the printed documents show."""
    view = notice_view(n)
    for item, row in zip(view["items"], n.items, strict=True):
        item.update(progress["items"][row.id])
    view.update(
        {k: progress[k] for k in ("round", "overdue", "due_in_s", "reinspection")},
        progress=progress,
    )
    return view
