"""The durable outbox: every message is on disk before it is published, and leaves only
when the broker has acknowledged it. A broker or network outage (or a restart of the
worker) loses nothing; the backlog goes out oldest first.

A disk that refuses the write (full, I/O error) does not lose the message either: it is
held in memory, in order, and written as soon as the disk takes it again (`retry_held`,
called by the publisher twice a second). The memory backlog is bounded (`memory_max`);
past it a message is refused, logged and counted (`dropped`), never silently lost.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    seq: int | None = None  # events: the site's delivery number (contract.delivery)


log = logging.getLogger(__name__)
COLUMNS = "id, topic, payload, qos, retain, seq"
NEXT_SEQ = "SELECT value FROM meta WHERE key = 'next_seq'"
# the wait before a re-send doubles with every send, up to 32 times the first
BACKOFF = "(CASE WHEN sends <= 1 THEN 1 WHEN sends >= 6 THEN 32 ELSE 1 << (sends - 1) END)"


def _message(r: tuple[Any, ...]) -> OutboxMessage:
    return OutboxMessage(
        int(r[0]),
        str(r[1]),
        bytes(r[2]),
        int(r[3]),
        bool(r[4]),
        None if r[5] is None else int(r[5]),
    )


Held = tuple[str, bytes, int, bool, float, bool]  # topic, payload, qos, retain, created, numbered


class Outbox:
    def __init__(self, path: Path | str, memory_max: int = 10_000) -> None:
        self.path = Path(path)
        self.memory_max = memory_max
        self._held: deque[Held] = deque()
        self.write_errors = 0  # puts the disk refused
        self.dropped = 0  # messages refused because the memory backlog was full too
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged put survives power loss
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL, "
            "retain INTEGER NOT NULL, created REAL NOT NULL)"
        )
        # end-to-end delivery: events are numbered per epoch and kept after the broker's
        # PUBACK ("brokered") until the API confirms them (`confirm`)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(outbox)")}
        for name, kind in (
            ("seq", "INTEGER"),
            ("brokered", "INTEGER NOT NULL DEFAULT 0"),
            ("sent_at", "REAL"),
            ("sends", "INTEGER NOT NULL DEFAULT 0"),
        ):
            if name not in columns:
                self._db.execute(f"ALTER TABLE outbox ADD COLUMN {name} {kind}")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self._db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('epoch', ?)", (secrets.token_hex(8),))
            self._db.execute("INSERT INTO meta VALUES ('next_seq', '1')")
        self.epoch = str(
            self._db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]
        )

    def put(
        self,
        topic: str,
        payload: bytes | str,
        qos: int = 1,
        retain: bool = False,
        numbered: bool = False,
    ) -> int:
        """The message's outbox id; 0 while it is held in memory (the disk refused it).
        ``numbered``: an event, given the next delivery seq and kept until confirmed."""
        data = payload.encode() if isinstance(payload, str) else payload
        message = (topic, data, qos, retain, time.time(), numbered)
        with self._lock:
            if self._write_held() and (oid := self._insert(message)):
                return oid
            if len(self._held) >= self.memory_max:
                self.dropped += 1
                log.error(
                    "outbox: disk refuses writes and %d messages wait in memory: message "
                    "on %s dropped (%d so far)",
                    len(self._held),
                    topic,
                    self.dropped,
                )
                return 0
            self._held.append(message)
            return 0

    def retry_held(self) -> int:
        """Write what waits in memory (oldest first); how many still wait."""
        with self._lock:
            self._write_held()
            return len(self._held)

    @property
    def held(self) -> int:
        return len(self._held)

    def _insert(self, m: Held) -> int:
        """The new row's id, or 0 if the disk refused (counted, logged once per episode)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = None
                if m[5]:
                    seq = int(self._db.execute(NEXT_SEQ).fetchone()[0])
                    self._db.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (seq + 1,))
                cur = self._db.execute(
                    "INSERT INTO outbox (topic, payload, qos, retain, created, seq) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (m[0], m[1], m[2], int(m[3]), m[4], seq),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if not self._held:
                log.error("outbox: the disk refuses writes (%s); holding messages in memory", exc)
            self.write_errors += 1
            return 0
        return int(cur.lastrowid or 0)

    def _write_held(self) -> bool:
        """True when nothing waits in memory any more (new messages may go to disk)."""
        while self._held:
            if not self._insert(self._held[0]):
                return False
            self._held.popleft()
            if not self._held:
                log.warning("outbox: the disk takes writes again; memory backlog written")
        return True

    def pending(self, limit: int = 100, after_id: int = 0) -> list[OutboxMessage]:
        """Oldest first: what the broker has not acknowledged yet."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {COLUMNS} FROM outbox WHERE id > ? AND brokered = 0 ORDER BY id LIMIT ?",
                (after_id, limit),
            ).fetchall()
        return [_message(r) for r in rows]

    def sent(self, message_id: int) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET sent_at = ?, sends = sends + 1 WHERE id = ?",
                (time.time(), message_id),
            )

    def ack(self, message_id: int) -> None:
        """The broker has it: an event stays until the API confirms it, the rest leave."""
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET brokered = 1 WHERE id = ? AND seq IS NOT NULL", (message_id,)
            )
            self._db.execute("DELETE FROM outbox WHERE id = ? AND seq IS NULL", (message_id,))

    def confirm(self, epoch: str, stored_through: int) -> int:
        """The API stored every event up to this seq: how many left the outbox."""
        if epoch != self.epoch:
            return 0
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM outbox WHERE seq IS NOT NULL AND seq <= ?", (stored_through,)
            )
        return cur.rowcount

    def unconfirmed(
        self, older_than_s: float, limit: int = 100, after_seq: int = 0
    ) -> list[OutboxMessage]:
        """Events the broker took but the API has not confirmed, due to go out again: sent
        more than ``older_than_s`` ago, doubling with every send up to 32 times as long (a
        long API outage does not resend the whole backlog every minute); with
        ``older_than_s`` 0, every one after ``after_seq`` at once."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {COLUMNS} FROM outbox WHERE brokered = 1 AND seq > ? "
                f"AND (sent_at IS NULL OR sent_at + ? * {BACKOFF} <= ?) ORDER BY seq LIMIT ?",
                (after_seq, older_than_s, time.time(), limit),
            ).fetchall()
        return [_message(r) for r in rows]

    def awaiting_confirmation(self) -> int:
        with self._lock:
            return int(
                self._db.execute("SELECT COUNT(*) FROM outbox WHERE brokered = 1").fetchone()[0]
            )

    def depth(self) -> int:
        """Messages not yet acknowledged by the broker: on disk and held in memory."""
        with self._lock:
            on_disk = self._db.execute("SELECT COUNT(*) FROM outbox WHERE brokered = 0")
            return int(on_disk.fetchone()[0]) + len(self._held)

    def oldest_age_s(self) -> float:
        with self._lock:
            row = self._db.execute("SELECT MIN(created) FROM outbox WHERE brokered = 0").fetchone()
        return 0.0 if row[0] is None else max(0.0, time.time() - float(row[0]))

    def close(self) -> None:
        with self._lock:
            self._db.close()
