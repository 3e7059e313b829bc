"""Pushes to the supervision platform: a versioned JSON contract over a signed webhook.

Envelope (contract 1.0, see docs/platform-contract.md)::

    {"contract_version": "1.1", "type": "alert.major_hazard" | "notice.issued" |
     "hazard.escalated" | "hazard.closed", "idempotency_key": "...", "occurred_at": ISO,
     "recipients": [...], "data": {...}}

Headers: ``X-SiteGuard-Signature: sha256=<HMAC-SHA256(secret, timestamp + "." + body)>``,
``X-SiteGuard-Timestamp``, ``Idempotency-Key``. Each message is enqueued in the same
database transaction as the change it reports, then delivered by `Pusher` with
exponential backoff until the platform answers 2xx: a platform that is down for hours
receives everything once it is back. Replicas claim rows before sending; the receiver
de-duplicates on the idempotency key, so each key takes effect exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

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
    audit.append(s, actor, f"push.queued.{type_}", "push", key, {"recipients": RECIPIENTS[type_]})
    s.flush()
    return row


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return (
        "sha256="
        + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )


class Pusher:
    """Delivers the push outbox; also runs the periodic job it is given (escalations)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: PushSettings,
        name: str = "api",
        periodic: Callable[[], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.name = name
        self.periodic = periodic
        self.delivered = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=settings.timeout_s)

    def start(self) -> None:
        """Start (or restart after `stop`) the delivery thread; a running one is kept."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        if self._client.is_closed:
            self._client = httpx.Client(timeout=self.settings.timeout_s)
        self._thread = threading.Thread(target=self._run, name="pusher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._client.close()

    def _run(self) -> None:
        last_periodic = 0.0
        while not self._stop.is_set():
            try:
                if (
                    self.periodic
                    and time.monotonic() - last_periodic >= self.settings.escalation_check_s
                ):
                    last_periodic = time.monotonic()
                    self.periodic()
                while self.deliver_due() and not self._stop.is_set():
                    pass
            except Exception:  # the pusher must outlive a database hiccup
                log.exception("push loop failed; retrying")
            self._stop.wait(self.settings.poll_s)

    def deliver_due(self, limit: int = 20) -> int:
        """Try every due message once; return how many were delivered."""
        if not self.settings.url:
            return 0
        now = now_naive()
        with self.sessions() as s:
            due = list(
                s.scalars(
                    select(PushRow.id)
                    .where(
                        PushRow.delivered_at.is_(None),
                        PushRow.next_attempt_at <= now,
                        or_(PushRow.claimed_until.is_(None), PushRow.claimed_until < now),
                    )
                    .order_by(PushRow.id)
                    .limit(limit)
                )
            )
        done = 0
        for row_id in due:
            done += self._deliver(row_id)
        return done

    def _claim(self, s: Session, row_id: int) -> bool:
        now = now_naive()
        res = s.execute(
            update(PushRow)
            .where(
                PushRow.id == row_id,
                PushRow.delivered_at.is_(None),
                or_(PushRow.claimed_until.is_(None), PushRow.claimed_until < now),
            )
            .values(claimed_until=now + timedelta(seconds=self.settings.timeout_s * 3))
        )
        s.commit()
        return bool(getattr(res, "rowcount", 0) == 1)

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
                delay = min(
                    self.settings.max_backoff_s,
                    self.settings.base_backoff_s * 2 ** (row.attempts - 1),
                )
                row.next_attempt_at = now_naive() + timedelta(
                    seconds=delay * random.uniform(0.8, 1.2)
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
                row.idempotency_key,
                {"type": row.type, "attempts": row.attempts},
            )
            s.commit()
            self.delivered += 1
            return 1
