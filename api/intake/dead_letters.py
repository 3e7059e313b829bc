"""Messages that could not be ingested, as people read them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.store.clock import iso
from siteguard.api.store.tables import DeadLetterRow


def recent_dead_letters(s: Session, limit: int = 100) -> list[dict[str, Any]]:
    rows = s.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit))
    return [
        {
            "id": r.id,
            "received_at": iso(r.received_at),
            "source": r.source,
            "reason": r.reason,
            "payload": r.payload[:2000],
        }
        for r in rows
    ]
