"""The audit log: append-only and hash-chained, so any altered or deleted record shows.

Each record's hash is sha256(previous hash + the record's canonical JSON). Appends take
turns across replicas (a PostgreSQL advisory lock held until the transaction commits, so
the next append reads the committed end of the chain: one chain, never a fork). `verify`
walks the chain: a changed field breaks that record's hash, a deleted record breaks the
next record's link (and leaves a gap in the ids). An anchor (``<id>:<hash>``, exported
with every archive and written outside the database by `records.anchors`) pins a prefix
of the chain: rewriting the chain after an edit, or removing records from its end, no
longer matches the anchors taken before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from siteguard.api.store.tables import AuditRow

GENESIS = "0" * 64
AUDIT_LOCK_KEY = 0x5347_0002  # pg_advisory_xact_lock key of audit appends


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
    if s.get_bind().dialect.name == "postgresql":
        # appends take turns: the lock is held until commit, and the next append's query
        # (a new statement, a new snapshot) then sees the committed end of the chain
        s.execute(sql("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})
    else:  # SQLite: take the database's write lock before reading the end of the chain
        s.execute(sql("UPDATE audit_log SET id = id WHERE id = (SELECT MAX(id) FROM audit_log)"))
    last = s.scalar(select(AuditRow).order_by(AuditRow.id.desc()).limit(1))
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
    records_last_id: int = 0


def anchor_of(v: Verification) -> str:
    """The anchor of a verified chain's end: ``<id>:<hash>``."""
    return f"{v.records_last_id}:{v.last_hash}"


def verify(s: Session, anchor: str | None = None, anchors: Sequence[str] = ()) -> Verification:
    """Walk the chain; with ``anchor`` / ``anchors`` (``<id>:<hash>``, or a bare hash from
    before 1.1) also check that the chain still holds those records unchanged."""
    problems: list[str] = []
    prev, prev_id, n = GENESIS, 0, 0
    hashes: dict[int, str] = {}
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
        hashes[row.id] = row.hash
    for a in ([anchor] if anchor is not None else []) + list(anchors):
        problems += anchor_problems(a, hashes, prev_id)
    return Verification(not problems, n, prev, problems, prev_id)


def anchor_problems(anchor: str, hashes: dict[int, str], last_id: int) -> list[str]:
    """Why the chain does not hold this anchor (empty: it does)."""
    ident, _, digest = anchor.strip().rpartition(":")
    if not ident:  # a bare hash (archives before anchors named their record)
        if digest in hashes.values():
            return []
        return [
            f"no record has the anchor hash {digest}: records removed from the end, or the "
            "chain rewritten"
        ]
    try:
        record = int(ident)
    except ValueError:
        return [f"the anchor {anchor!r} is not <record id>:<hash>"]
    if record > last_id:
        return [
            f"the chain ends at record {last_id} but the anchor names record {record}: "
            "records removed from the end"
        ]
    if hashes.get(record) != digest:
        return [f"record {record} no longer has the anchored hash: the chain was rewritten"]
    return []
