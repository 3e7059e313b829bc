"""Pushes to the supervision platform: a versioned JSON contract over a signed webhook.

Envelope (contract 1.0, see docs/platform-contract.md)::

    {"contract_version": "1.1", "type": "alert.major_hazard" | "notice.issued" |
     "hazard.escalated" | "hazard.closed" | "supervision", "idempotency_key": "...",
     "occurred_at": ISO,
     "recipients": [...], "data": {...}}

Headers: ``X-SiteGuard-Signature: sha256=<HMAC-SHA256(secret, timestamp + "." + body)>``,
``X-SiteGuard-Timestamp``, ``Idempotency-Key``. Each message is enqueued in the same
database transaction as the change it reports, then delivered by `Pusher` with
exponential backoff until the platform answers 2xx: a platform that is down for hours
receives everything once it is back. Replicas claim rows before sending; the receiver
de-duplicates on the idempotency key, so each key takes effect exactly once.

Order: each site's messages reach the platform in the order they were created (the
outbox id), through any outage. The pusher delivers a site's messages as a queue: only
the oldest undelivered one is attempted, the next only once it is acknowledged, so the
backoff of the head is the site's backoff. Sites are separate queues and do not hold
each other up. A message's site is its data's ``site_id`` (hazard messages, risk) or
``project.site_id`` (notice.issued), read from the stored body (`message_site`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from siteguard.api.platform import robots
from siteguard.api.platform.outbox import OutboxDeliverer, Queue, claim
from siteguard.api.records import audit
from siteguard.api.store.clock import iso, now_naive
from siteguard.api.store.tables import PushRow

log = logging.getLogger(__name__)
CONTRACT_VERSION = "1.1"  # 1.1: every time ISO 8601 UTC with a Z (docs/platform-contract.md)
RECIPIENTS = {
    "alert.major_hazard": ["contractor", "insurer", "housing_construction"],
    "notice.issued": ["contractor", "insurer"],
    "hazard.escalated": ["housing_construction", "emergency_management", "insurance_regulator"],
    "hazard.closed": ["insurer", "housing_construction"],
    "risk.band_changed": ["insurer"],
    "audit.anchor": ["housing_construction", "insurer"],
    # 督办: a regulator formally supervises a hazard / its notice (api/bulletin/supervision.py)
    "supervision": ["contractor", "insurer", "housing_construction"],
}


class PushSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(None, description="The platform's webhook; None = queue only")
    secret: SecretStr = Field(
        SecretStr("change-me"), description="HMAC key shared with the platform"
    )
    timeout_s: float = Field(10.0, gt=0)
    base_backoff_s: float = Field(2.0, gt=0)
    max_backoff_s: float = Field(600.0, gt=0)
    poll_s: float = Field(1.0, gt=0, description="How often the pusher looks for due messages")
    escalation_check_s: float = Field(60.0, gt=0)


def enqueue(
    s: Session, type_: str, key: str, data: dict[str, Any], actor: str = "siteguard"
) -> PushRow:
    """Queue a message in the caller's transaction (idempotent on ``key``)."""
    existing = s.scalar(select(PushRow).where(PushRow.idempotency_key == key))
    if existing is not None:
        return existing
    now = now_naive()
    body = json.dumps(
        {
            "contract_version": CONTRACT_VERSION,
            "type": type_,
            "idempotency_key": key,
            "occurred_at": iso(now),
            "recipients": RECIPIENTS[type_],
            "data": data,
        },
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    row = PushRow(
        type=type_, idempotency_key=key, body=body, created_at=now, attempts=0, next_attempt_at=now
    )
    s.add(row)
    robots.enqueue(s, type_, key, data)  # the group robots' copy, in this transaction too
    audit.append(
        s,
        actor,
        f"push.queued.{type_}",
        "push",
        audit_id(key),
        _with_key(key, {"recipients": RECIPIENTS[type_]}),
    )
    s.flush()
    return row


AUDIT_ID_MAX = 64  # audit_log.entity_id


def audit_id(key: str) -> str:
    """A push's key as the audit log names it: the key, or, when longer than the audit's
    entity id (a risk key of a long site id), its head, ``~`` and a hash of the whole
    (the whole key is then in the record's detail)."""
    if len(key) <= AUDIT_ID_MAX:
        return key
    return f"{key[: AUDIT_ID_MAX - 9]}~{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def _with_key(key: str, detail: dict[str, Any]) -> dict[str, Any]:
    return detail if len(key) <= AUDIT_ID_MAX else dict(detail, idempotency_key=key)


def message_site(body: str) -> str:
    """The site a stored message is about ("" if none: such messages form one queue)."""
    try:
        data = json.loads(body).get("data") or {}
    except (ValueError, AttributeError):
        return ""
    if not isinstance(data, dict):
        return ""
    project = data.get("project")
    site = data.get("site_id") or (project.get("site_id") if isinstance(project, dict) else "")
    return str(site or "")


class Backoff(Protocol):
    base_backoff_s: float
    max_backoff_s: float


def backoff_s(attempts: int, cfg: Backoff) -> float:
    """How long an outbox row waits after its ``attempts``-th failure: doubling from
    ``base_backoff_s`` up to ``max_backoff_s``, with +-20 % jitter so that replicas and
    queues do not retry in step (the platform push and the group robots)."""
    delay = min(cfg.max_backoff_s, cfg.base_backoff_s * 2 ** (attempts - 1))
    return delay * random.uniform(0.8, 1.2)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return (
        "sha256="
        + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )


class Pusher(OutboxDeliverer):
    """Delivers the push outbox, one site's queue after another; also runs the periodic
    job it is given (escalations)."""

    thread_name = "pusher"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: PushSettings,
        name: str = "api",
        periodic: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(settings.timeout_s, settings.poll_s)
        self.sessions = sessions
        self.settings = settings
        self.name = name
        self.periodic = periodic
        self._sites: dict[int, str] = {}  # outbox id -> site, for the undelivered
        self._last_periodic = 0.0

    def _round(self) -> None:
        if self.periodic and time.monotonic() - self._last_periodic >= (
            self.settings.escalation_check_s
        ):
            self._last_periodic = time.monotonic()
            self.periodic()
        super()._round()

    def deliver_due(self, limit: int = 100) -> int:
        """Each site's queue in creation order (`OutboxDeliverer.deliver_due`); nothing
        without a platform URL."""
        return super().deliver_due(limit) if self.settings.url else 0

    def _queues(self) -> dict[str, Queue]:
        """The undelivered messages, by site, each site's in creation (id) order."""
        with self.sessions() as s:
            rows = s.execute(
                select(PushRow.id, PushRow.next_attempt_at, PushRow.claimed_until)
                .where(PushRow.delivered_at.is_(None))
                .order_by(PushRow.id)
            ).all()
            unknown = [r.id for r in rows if r.id not in self._sites]
            for chunk in range(0, len(unknown), 500):  # a body is read once per pusher
                ids = unknown[chunk : chunk + 500]
                for row_id, body in s.execute(
                    select(PushRow.id, PushRow.body).where(PushRow.id.in_(ids))
                ):
                    self._sites[row_id] = message_site(body)
        pending = {r.id for r in rows}
        self._sites = {k: v for k, v in self._sites.items() if k in pending}
        queues: dict[str, Queue] = {}
        for r in rows:
            queues.setdefault(self._sites[r.id], []).append(
                (r.id, r.next_attempt_at, r.claimed_until)
            )
        return queues

    def _claim(self, s: Session, row_id: int) -> bool:
        return claim(s, PushRow, row_id, self.settings.timeout_s * 3)

    def _deliver(self, row_id: int) -> int:
        with self.sessions() as s:
            if not self._claim(s, row_id):
                return 0  # another replica has it
            row = s.get_one(PushRow, row_id)
            body = row.body.encode()
            ts = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "Idempotency-Key": row.idempotency_key,
                "X-SiteGuard-Timestamp": ts,
                "X-SiteGuard-Signature": sign(self.settings.secret.get_secret_value(), ts, body),
            }
            error = ""
            try:
                r = self._client.post(str(self.settings.url), content=body, headers=headers)
                if not 200 <= r.status_code < 300:
                    error = f"HTTP {r.status_code}: {r.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            row.attempts += 1
            row.claimed_until = None
            if error:
                row.next_attempt_at = now_naive() + timedelta(
                    seconds=backoff_s(row.attempts, self.settings)
                )
                row.last_error = error[:2000]
                self.failures += 1
                s.commit()
                return 0
            row.delivered_at = now_naive()
            audit.append(
                s,
                self.name,
                "push.delivered",
                "push",
                audit_id(row.idempotency_key),
                _with_key(row.idempotency_key, {"type": row.type, "attempts": row.attempts}),
            )
            s.commit()
            self.delivered += 1
            return 1
