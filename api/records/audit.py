"""The audit log: append-only and hash-chained, so any altered or deleted record shows.

Each record's hash is sha256(previous hash + the record's canonical JSON). `verify` walks
the chain: a changed field breaks that record's hash, a deleted record breaks the next
record's link (and leaves a gap in the ids), a record removed from the end is caught by
comparing with an anchor (the last hash, exported with every archive).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.store.tables import AuditRow

GENESIS = "0" * 64


def _digest(
    prev: str, at: datetime, actor: str, action: str, entity: str, entity_id: str, detail: str
) -> str:
    body = json.dumps(
        [at.isoformat(), actor, action, entity, entity_id, detail], ensure_ascii=False
    )
    return hashlib.sha256((prev + body).encode()).hexdigest()


def append(
    s: Session, actor: str, action: str, entity: str, entity_id: Any, detail: dict[str, Any]
) -> AuditRow:
    last = s.scalar(select(AuditRow).order_by(AuditRow.id.desc()).limit(1).with_for_update())
    prev = last.hash if last else GENESIS
    at = datetime.now(UTC).replace(tzinfo=None)
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    row = AuditRow(
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        detail=text,
        prev_hash=prev,
        hash=_digest(prev, at, actor, action, entity, str(entity_id), text),
    )
    s.add(row)
    s.flush()
    return row


@dataclass(frozen=True)
class Verification:
    ok: bool
    records: int
    last_hash: str
    problems: list[str]


def verify(s: Session, anchor: str | None = None) -> Verification:
    problems: list[str] = []
    prev, prev_id, n = GENESIS, 0, 0
    for row in s.scalars(select(AuditRow).order_by(AuditRow.id)):
        n += 1
        if row.id != prev_id + 1:
            problems.append(f"records {prev_id + 1}..{row.id - 1} are missing")
        if row.prev_hash != prev:
            problems.append(
                f"record {row.id}: does not link to the record before it (deleted or replaced)"
            )
        expect = _digest(
            row.prev_hash, row.at, row.actor, row.action, row.entity, row.entity_id, row.detail
        )
        if row.hash != expect:
            problems.append(
                f"record {row.id}: content altered ({row.action} on {row.entity} {row.entity_id})"
            )
        prev, prev_id = row.hash, row.id
    if anchor is not None and anchor != prev:
        problems.append(
            "the chain does not end at the exported anchor: records removed from the end"
        )
    return Verification(not problems, n, prev, problems)
