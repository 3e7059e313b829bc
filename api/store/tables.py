"""Stored records: every event message as received, hazards (grouped events), dead letters.

Times are stored as naive UTC (the same on SQLite and PostgreSQL); `utc_naive` converts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from siteguard.api.store.db import Base


class HazardRow(Base):
    """One hazard: the events of one type, camera and zone within the grouping window."""

    __tablename__ = "hazards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    hazard_type: Mapped[str] = mapped_column(String(32))
    zone: Mapped[str] = mapped_column(String(64), default="")
    level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    first_seen: Mapped[datetime] = mapped_column(DateTime())
    last_seen: Mapped[datetime] = mapped_column(DateTime())
    reason: Mapped[str] = mapped_column(Text)
    evidence_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence_time: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    resolution: Mapped[str] = mapped_column(Text, default="")  # e.g. why it was dismissed
    # 确认隐患: an inspector confirmed the AI finding (api/hazards/confirm.py); issuing a
    # notice confirms implicitly (the notice's issuer and time, not written here)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    confirmed_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    events: Mapped[list[EventRow]] = relationship(back_populates="hazard", order_by="EventRow.id")

    __table_args__ = (
        Index("ix_hazard_group", "site_id", "camera_id", "hazard_type", "zone", "last_seen"),
    )


class EventRow(Base):
    """Each (event id, seq) once: the idempotency key of ingest."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(8))
    site_id: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(String(64))
    hazard_type: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    frame_time: Mapped[datetime] = mapped_column(DateTime())
    received_at: Mapped[datetime] = mapped_column(DateTime())
    source: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"))
    hazard: Mapped[HazardRow] = relationship(back_populates="events")

    __table_args__ = (UniqueConstraint("event_id", "seq", name="uq_event_seq"),)


class DeadLetterRow(Base):
    """A message that could not be ingested, kept with the reason (never silently dropped)."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime())
    source: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)


class ProjectRow(Base):
    """A construction project (one site_id) with the parties a notice names."""

    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    permit_no: Mapped[str] = mapped_column(String(100), default="")  # 施工许可/备案号
    policy_no: Mapped[str] = mapped_column(String(100), default="")  # 安责险保单号
    insurer: Mapped[str] = mapped_column(String(200), default="")
    contractor: Mapped[str] = mapped_column(String(200), default="")
    responsible_person: Mapped[str] = mapped_column(String(100), default="")
    responsible_phone: Mapped[str] = mapped_column(String(50), default="")
    jurisdiction: Mapped[str] = mapped_column(String(100), default="")
    risk_product: Mapped[str] = mapped_column(String(64), default="default")  # rate/band config
    # the site's edge box (e.g. http://10.1.2.3:8090/evidence/): evidence URIs outside it
    # are never fetched
    evidence_base_url: Mapped[str] = mapped_column(String(300), default="", server_default="")
    notices: Mapped[list[NoticeRow]] = relationship(back_populates="project")


class NoticeRow(Base):
    """安全隐患整改通知单: the open hazards of one project, issued together."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    project: Mapped[ProjectRow] = relationship(back_populates="notices")
    issued_at: Mapped[datetime] = mapped_column(DateTime())
    issuer: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="issued")
    items: Mapped[list[NoticeItemRow]] = relationship(
        back_populates="notice", order_by="NoticeItemRow.id"
    )


class NoticeItemRow(Base):
    """One line of the notice: the hazard, the required measure and its deadline."""

    __tablename__ = "notice_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    notice: Mapped[NoticeRow] = relationship(back_populates="items")
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), unique=True)
    hazard: Mapped[HazardRow] = relationship()
    title: Mapped[str] = mapped_column(String(200))
    measure: Mapped[str] = mapped_column(Text)
    standards: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    deadline: Mapped[datetime] = mapped_column(DateTime())


class ApiKeyRow(Base):
    """An API key (only its sha256 is stored) with a role and the scope it may see."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    site_ids: Mapped[str] = mapped_column(Text, default="")  # contractor / edge: comma-separated
    jurisdiction: Mapped[str] = mapped_column(String(100), default="")  # regulator
    insurer: Mapped[str] = mapped_column(String(200), default="")  # insurer / inspector
    created_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)


class NoticeHistoryRow(Base):
    """Every transition of a notice: who, when, from which state to which, and why."""

    __tablename__ = "notice_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime())
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[str] = mapped_column(Text, default="")  # JSON list of stored proof files


class NoticeItemReplyRow(Base):
    """The contractor's reply to one item of a notice: what was done, with proof photos.
    ``round`` counts re-inspections (1 + rejections before it); ``via`` is ``item`` (answered
    on its own) or ``notice`` (one reply for every item not yet answered). Never changed:
    a later reply to the item is a new row."""

    __tablename__ = "notice_item_replies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("notice_items.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    via: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(DateTime())
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[str] = mapped_column(Text)  # JSON list of stored proof files


class AuditRow(Base):
    """Append-only, hash-chained record of every state change and push."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class PushRow(Base):
    """Transactional outbox for the supervision platform: written in the same transaction
    as the state change it reports, delivered (and retried) by the pusher."""

    __tablename__ = "push_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(), index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")


class RobotMessageRow(Base):
    """Outbox of the group robots (企业微信, 钉钉): one part of one message to one configured
    group, written in the same transaction as the platform message it repeats, delivered
    (and retried) by the robot deliverer (api/platform/robots.py)."""

    __tablename__ = "robot_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    robot: Mapped[str] = mapped_column(String(64))  # the group's name in the settings
    kind: Mapped[str] = mapped_column(String(16))  # wecom | dingtalk
    type: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    site_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the JSON posted (an image part: without it)
    picture_uri: Mapped[str] = mapped_column(Text, default="")  # an image part's evidence
    created_at: Mapped[datetime] = mapped_column(DateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    gave_up_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_robot_outbox_pending", "delivered_at", "gave_up_at", "robot"),)


class EscalationRow(Base):
    """An overdue major hazard escalated once (the scheduler survives restarts via this)."""

    __tablename__ = "escalations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), unique=True)
    at: Mapped[datetime] = mapped_column(DateTime())


class CameraRow(Base):
    """A project's camera and its zones (drawn at commissioning, imported from site.yaml)."""

    __tablename__ = "cameras"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    zones: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of pipeline.zones.Zone

    __table_args__ = (UniqueConstraint("site_id", "camera_id", name="uq_site_camera"),)


class CameraStatusRow(Base):
    """A camera's latest state and heartbeat, from the edge's status and stats topics."""

    __tablename__ = "camera_status"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime())
    stats: Mapped[str] = mapped_column(Text, default="{}")  # the latest stats message (JSON)

    __table_args__ = (UniqueConstraint("site_id", "camera_id", name="uq_status_camera"),)


class CameraUptimeRow(Base):
    """An interval during which a camera was online and watched (camera-hours come from
    these: a site that switches its cameras off gets fewer hours, not a cleaner record)."""

    __tablename__ = "camera_uptime"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(String(64))
    start: Mapped[datetime] = mapped_column(DateTime())
    end: Mapped[datetime] = mapped_column(DateTime())
    open: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (Index("ix_uptime_site", "site_id", "start"),)


class RiskBandRow(Base):
    """The last premium band announced per project (a change is pushed to the insurer)."""

    __tablename__ = "risk_bands"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), unique=True)
    band: Mapped[int] = mapped_column(Integer)  # rate adjustment in whole percent, 5 % steps
    factor: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(DateTime())


class ConsoleSessionRow(Base):
    """A web-console login: a random cookie token (only its sha256 stored) standing for an
    API key, so the console has exactly the key's role and scope. Ends at logout or expiry."""

    __tablename__ = "console_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime())
    expires_at: Mapped[datetime] = mapped_column(DateTime())


class DeliverySeqRow(Base):
    """An edge outbox seq the API has stored (or kept as a dead letter), above the site's
    confirmed pointer (rows at or below it are pruned)."""

    __tablename__ = "delivery_seqs"
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    epoch: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)


class DeliveryRow(Base):
    """Per site and outbox epoch: every seq up to ``stored_through`` is stored."""

    __tablename__ = "deliveries"
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    epoch: Mapped[str] = mapped_column(String(64), primary_key=True)
    stored_through: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime())


class AlertReadRow(Base):
    """A regulator's 已阅 mark on an alert: who read which alert (a major hazard or the
    escalation of one, both named by the hazard's id), and when. One per reader."""

    __tablename__ = "alert_reads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # major_hazard | escalation
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"))
    reader: Mapped[str] = mapped_column(String(100))  # the key's name
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime())

    __table_args__ = (
        UniqueConstraint("kind", "hazard_id", "reader", name="uq_alert_read"),
        Index("ix_alert_reads_reader", "reader"),
    )


class SupervisionRow(Base):
    """督办: a regulator formally supervises a hazard (and the notice it is on, if any):
    who, when, what is required, by when (optional)."""

    __tablename__ = "supervisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime())
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(100), default="")
    requirement: Mapped[str] = mapped_column(Text)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
