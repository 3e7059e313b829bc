"""Archive export: the prevention-service records, complete and verifiable.

Domain rule: archives are kept at least 5 years and never altered, hidden or destroyed.
SiteGuard never deletes records (there is no code path that does); `retention_years`
(>= 5, validated) tells operators how long the database must keep them, and this export
is the documented way to move older years to cold storage: a gzip of JSON lines holding
every table's rows for the period, the audit chain, and its anchor (last hash) so the
archive can be verified later with `siteguard audit verify --anchor`.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from siteguard.api.records.audit import verify
from siteguard.api.store.clock import iso_or_none
from siteguard.api.store.tables import (
    AuditRow,
    DeadLetterRow,
    EventRow,
    HazardRow,
    NoticeHistoryRow,
    NoticeItemReplyRow,
    NoticeItemRow,
    NoticeRow,
    ProjectRow,
    PushRow,
)

TABLES: list[Any] = [
    ProjectRow,
    HazardRow,
    EventRow,
    NoticeRow,
    NoticeItemRow,
    NoticeHistoryRow,
    NoticeItemReplyRow,
    PushRow,
    DeadLetterRow,
    AuditRow,
]


def _row(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in inspect(obj).mapper.column_attrs}


def export_archive(s: Session, out: Path, until: datetime | None = None) -> dict[str, Any]:
    """Write every record (created before ``until``, when given) and the audit anchor."""
    check = verify(s)
    counts: dict[str, int] = {}
    with gzip.open(out, "wt", encoding="utf-8") as f:
        f.write(
            json.dumps(
                {
                    "kind": "siteguard-archive",
                    "version": 1,
                    "audit_ok": check.ok,
                    "audit_records": check.records,
                    "audit_anchor": check.last_hash,
                    "until": iso_or_none(until),
                }
            )
            + "\n"
        )
        for table in TABLES:
            n = 0
            for obj in s.scalars(select(table).order_by(table.id)):
                row = _row(obj)
                stamp = (
                    row.get("at")
                    or row.get("received_at")
                    or row.get("issued_at")
                    or row.get("first_seen")
                )
                if until is not None and isinstance(stamp, datetime) and stamp >= until:
                    continue
                f.write(
                    json.dumps(
                        {"table": table.__tablename__, "row": row}, ensure_ascii=False, default=str
                    )
                    + "\n"
                )
                n += 1
            counts[table.__tablename__] = n
    return {"file": str(out), "audit_ok": check.ok, "audit_anchor": check.last_hash, "rows": counts}
