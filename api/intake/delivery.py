"""End-to-end delivery, the API's side (contract.delivery): note each edge outbox seq as it
is stored (or kept as a dead letter), advance the site's contiguous pointer after commit,
and hand out a receipt to publish. Duplicates are noted too, so an edge that missed a
receipt gets it again."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from siteguard.api.store.clock import now_naive
from siteguard.api.store.tables import DeliveryRow, DeliverySeqRow
from siteguard.contract.delivery import EPOCH_PATTERN, DeliveryReceipt
from siteguard.contract.events import INT32_MAX

Key = tuple[str, str]  # site, epoch
EPOCH = re.compile(EPOCH_PATTERN)
SITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _insert_ignoring_duplicates(s: Session, table: Any, **values: Any) -> None:
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    s.execute(insert(table).values(**values).on_conflict_do_nothing())


def note(s: Session, site: str, epoch: str, seq: int) -> Key:
    _insert_ignoring_duplicates(s, DeliverySeqRow, site_id=site, epoch=epoch, seq=seq)
    return site, epoch


def seq_in(data: bytes, site: str | None) -> tuple[str, str, int] | None:
    """(site, epoch, seq) of a message that could not be used, if it names them: it is
    accounted for (kept as a dead letter), so the edge stops re-sending it."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict):
        return None
    site = site or doc.get("site_id")
    epoch, seq = doc.get("outbox_epoch"), doc.get("outbox_seq")
    if not (isinstance(site, str) and SITE.match(site)) or not (
        isinstance(epoch, str) and EPOCH.match(epoch)
    ):
        return None
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= INT32_MAX:
        return None
    return site, epoch, seq


def advance(s: Session, keys: Iterable[Key]) -> list[tuple[str, DeliveryReceipt]]:
    """Move each site's pointer over the seqs now stored without a gap; the receipts."""
    out = []
    for site, epoch in sorted(set(keys)):
        _insert_ignoring_duplicates(
            s, DeliveryRow, site_id=site, epoch=epoch, stored_through=0, updated_at=now_naive()
        )
        row = s.scalar(
            select(DeliveryRow)
            .where(DeliveryRow.site_id == site, DeliveryRow.epoch == epoch)
            .with_for_update()
        )
        assert row is not None
        through, missing = row.stored_through, False
        above = s.scalars(
            select(DeliverySeqRow.seq)
            .where(
                DeliverySeqRow.site_id == site,
                DeliverySeqRow.epoch == epoch,
                DeliverySeqRow.seq > through,
            )
            .order_by(DeliverySeqRow.seq)
        )
        for seq in above:
            if seq != through + 1:
                missing = True
                break
            through = seq
        row.stored_through, row.updated_at = through, now_naive()
        s.execute(
            delete(DeliverySeqRow).where(
                DeliverySeqRow.site_id == site,
                DeliverySeqRow.epoch == epoch,
                DeliverySeqRow.seq <= through,
            )
        )
        out.append(
            (
                site,
                DeliveryReceipt(
                    epoch=epoch,
                    stored_through=through,
                    missing_after=missing,
                    at=row.updated_at.replace(tzinfo=UTC),
                ),
            )
        )
    return out
