"""Anchors outside the database: the chain's end (``<id>:<hash>``) written now and then to
an append-only file and pushed, signed, to the supervision platform. Whoever can rewrite
the database (edit a record and recompute every hash after it, or delete the last ones)
cannot rewrite those copies: `audit verify --anchors FILE` checks every one of them."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from siteguard.api.platform.push import enqueue
from siteguard.api.store.clock import iso
from siteguard.api.store.tables import AuditRow

ANCHOR_FILE = "audit-anchors.jsonl"  # under the API's data_dir


def current_anchor(s: Session) -> str | None:
    last = s.scalar(select(AuditRow).order_by(AuditRow.id.desc()).limit(1))
    return None if last is None else f"{last.id}:{last.hash}"


def publish_anchor(sessions: sessionmaker[Session], path: Path) -> str | None:
    """Append the chain's current end to the file (fsynced) and queue it for the platform."""
    with sessions.begin() as s:
        anchor = current_anchor(s)
        if anchor is None:
            return None
        line = json.dumps({"at": iso(datetime.now(UTC)), "anchor": anchor}) + "\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        enqueue(s, "audit.anchor", f"audit:anchor:{anchor}", {"anchor": anchor}, "siteguard")
    return anchor


def read_anchor_file(path: Path) -> tuple[list[str], list[str]]:
    """(the anchors of the file, lines that are not anchors)."""
    anchors, bad = [], []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            anchors.append(str(json.loads(line)["anchor"]))
        except (ValueError, KeyError, TypeError):
            bad.append(f"{path.name} line {n}: not an anchor record")
    return anchors, bad
