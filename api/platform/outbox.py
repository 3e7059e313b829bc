"""One way to deliver an outbox table (the platform push, the group robots): a thread per
API process polls the undelivered rows, walks each queue (a site's, a robot's) in creation
order and attempts its oldest row when due, going on to the next only once that one is
done, so a queue is delivered in order and one failing queue does not hold up the others.
Rows are claimed before they are sent (`claim`), so replicas never send one twice."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from siteguard.api.store.clock import now_naive

log = logging.getLogger(__name__)

Queue = list[tuple[int, datetime, datetime | None]]  # (row id, next attempt, claimed until)


def claim(s: Session, table: Any, row_id: int, hold_s: float, *still: Any) -> bool:
    """Take the row for ``hold_s`` seconds if it is undelivered (and the ``still``
    conditions hold) and nobody else holds it; committed at once."""
    now = now_naive()
    res = s.execute(
        update(table)
        .where(
            table.id == row_id,
            table.delivered_at.is_(None),
            *still,
            or_(table.claimed_until.is_(None), table.claimed_until < now),
        )
        .values(claimed_until=now + timedelta(seconds=hold_s))
    )
    s.commit()
    return bool(getattr(res, "rowcount", 0) == 1)


class OutboxDeliverer:
    """The delivery thread and queue walk; a subclass says what the queues are
    (`_queues`), how one row is delivered (`_deliver`: 1 when it is done) and, if it
    must, when a queue may send (`_may_send`) and whether it runs at all (`_enabled`)."""

    thread_name = "outbox"

    def __init__(self, timeout_s: float, poll_s: float) -> None:
        self.delivered = 0
        self.failures = 0
        self._timeout_s = timeout_s
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=timeout_s)

    def start(self) -> None:
        """Start (or restart after `stop`) the delivery thread; a running one is kept."""
        if not self._enabled() or (self._thread is not None and self._thread.is_alive()):
            return
        self._stop.clear()
        if self._client.is_closed:
            self._client = httpx.Client(timeout=self._timeout_s)
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._round()
            except Exception as exc:  # delivery must outlive a database hiccup
                self._round_failed(exc)
            self._stop.wait(self._poll_s)

    def _round(self) -> None:
        while self.deliver_due() and not self._stop.is_set():
            pass

    def _round_failed(self, exc: Exception) -> None:
        log.exception("%s delivery failed; retrying", self.thread_name)

    def deliver_due(self, limit: int = 100) -> int:
        """Work through each queue in creation order: attempt its oldest undelivered row
        when due, and go on to the next only if that one was done (a failure, a backoff
        not over, another replica's claim or `_may_send` stops that queue for this round,
        not the others). At most ``limit`` attempts; return how many were done."""
        done = attempts = 0
        for key, queue in self._queues().items():
            for row_id, next_attempt_at, claimed_until in queue:
                now = now_naive()
                if attempts >= limit:
                    return done
                if next_attempt_at > now or (claimed_until is not None and claimed_until >= now):
                    break  # the queue's head is backing off, or another replica has it
                if not self._may_send(key):
                    break
                attempts += 1
                if not self._deliver(row_id):
                    break
                done += 1
        return done

    def _enabled(self) -> bool:
        return True

    def _may_send(self, key: str) -> bool:
        return True

    def _queues(self) -> dict[str, Queue]:
        raise NotImplementedError

    def _deliver(self, row_id: int) -> int:
        raise NotImplementedError
