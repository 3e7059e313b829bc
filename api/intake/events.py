"""Events in: validate, store each (event id, seq) once, group into hazards.

Duplicates and out-of-order messages change nothing they should not: a repeated
(event_id, seq) is ignored; a late message never moves a hazard's last_seen backwards nor
lowers its level. Anything that fails validation goes to the dead-letter table with the
reason and is counted; the consumer never crashes on input.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from siteguard.api.hazards.views import hazard_summary
from siteguard.api.intake import camera_health
from siteguard.api.intake.delivery import advance, note, seq_in
from siteguard.api.intake.rate import SiteRate
from siteguard.api.platform import push
from siteguard.api.records import audit
from siteguard.api.store.clock import utc_naive
from siteguard.api.store.tables import DeadLetterRow, EventRow, HazardRow
from siteguard.contract.delivery import DeliveryReceipt
from siteguard.contract.events import HazardEvent
from siteguard.contract.topics import TopicError, parse_topic

log = logging.getLogger(__name__)
LEVEL_RANK = {"general": 0, "major": 1}
ZONE_MAX = 64  # hazards.zone: the event's zones, joined


@dataclass(frozen=True)
class IngestResult:
    status: Literal["new", "duplicate", "rejected", "forbidden"]
    hazard_id: int | None = None
    reason: str | None = None


class Ingestor:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        window_s: float,
        max_payload_bytes: int = 256 * 1024,
        per_site_per_minute: int = 1200,
    ) -> None:
        self.sessions = sessions
        self.window = timedelta(seconds=window_s)
        self.max_payload_bytes = max_payload_bytes
        self.rate = SiteRate(per_site_per_minute)
        # called with (site, receipt) after what a commit stored advanced a site's pointer
        self.on_receipt: Callable[[str, DeliveryReceipt], None] | None = None
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()  # one writer per process keeps hazard grouping consistent

    def ingest_raw(
        self,
        payload: bytes | bytearray | str,
        source: str,
        authorize: Callable[[HazardEvent], bool] | None = None,
    ) -> IngestResult:
        data = payload.encode() if isinstance(payload, str) else bytes(payload)
        event = self._parse(data, source)
        if isinstance(event, str):
            return self.reject(data, source, event)
        if (refused := self._over_rate(data, source, event.site_id)) is not None:
            return refused
        if authorize is not None and not authorize(event):
            self.counts["forbidden"] += 1
            return IngestResult(
                "forbidden", reason=f"this key may not post events for {event.site_id!r}"
            )
        return self.ingest(event, source, data.decode("utf-8", "replace"))

    def ingest_camera(self, topic: str, payload: bytes) -> IngestResult:
        """A status or stats message: camera state and camera-hours (bad ones dead-lettered)."""
        if len(payload) > self.max_payload_bytes:
            return self.reject(payload[:4096], f"mqtt:{topic}", "camera message too large")
        site = _topic_site(f"mqtt:{topic}") or ""  # camera_health refuses a bad topic
        if (refused := self._over_rate(payload, f"mqtt:{topic}", site)) is not None:
            return refused
        try:
            with self.sessions.begin() as s:
                camera_health.record(s, topic, payload, utc_naive(datetime.now(UTC)))
        except camera_health.CameraMessageError as exc:
            return self.reject(payload, f"mqtt:{topic}", str(exc))
        self.counts["camera"] += 1
        return IngestResult("new")

    def _over_rate(self, data: bytes, source: str, site: str) -> IngestResult | None:
        """None if the site is within its rate; else refused (the first refusal of a minute
        kept as a dead letter, every one counted)."""
        allowed, note = self.rate.check(site)
        if allowed:
            return None
        self.counts["over_rate"] += 1
        reason = (
            f"site {site!r} sent more than {self.rate.per_minute} messages in a minute: "
            "refused (each one counted as over_rate)"
        )
        if note:  # not accounted for delivery: refused, the edge sends it again later
            with self.sessions.begin() as s:
                self._dead_letter(s, data[:4096], source, reason, account=False)
        return IngestResult("rejected", reason=reason)

    def reject(self, data: bytes, source: str, reason: str) -> IngestResult:
        """Keep the message (any bytes, NULs escaped: PostgreSQL text holds none) and why."""
        with self.sessions.begin() as s:
            self._dead_letter(s, data, source, reason)
        self._confirm(s)
        self.counts["rejected"] += 1
        return IngestResult("rejected", reason=reason)

    def _dead_letter(
        self, s: Session, data: bytes, source: str, reason: str, account: bool = True
    ) -> None:
        """Keep it; an edge event that names its outbox seq counts as delivered (kept)."""
        if account and (found := seq_in(data, _topic_site(source))) is not None:
            self._note(s, *found)
        text = data[:65536].decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
        s.add(
            DeadLetterRow(
                received_at=utc_naive(datetime.now(UTC)),
                source=source[:200].replace("\x00", ""),
                reason=reason[:4000].replace("\x00", "\\x00"),
                payload=text[:65536],
            )
        )

    def ingest_batch(self, messages: list[tuple[bytes, str]]) -> list[IngestResult]:
        """Many messages in one transaction (one commit instead of one per event: the
        consumer's path under load). Invalid ones are dead-lettered in the same
        transaction. If another replica stored one of them first, the batch is redone one
        message at a time, so the outcome is exactly that of `ingest_raw` on each."""
        parsed: list[HazardEvent | str] = [self._parse(data, source) for data, source in messages]
        admitted = []
        for m, ev in zip(messages, parsed, strict=True):
            over = None if isinstance(ev, str) else self._over_rate(m[0], m[1], ev.site_id)
            if over is None:
                admitted.append((m, ev))
        if len(admitted) < len(messages):
            messages = [m for m, _ in admitted]
            parsed = [ev for _, ev in admitted]
        try:
            with self._lock, self.sessions.begin() as s:
                batch = _Batch.prefetch(s, [ev for ev in parsed if not isinstance(ev, str)])
                results: list[IngestResult] = [IngestResult("rejected")] * len(messages)
                # hazards in a fixed order: replicas storing batches at the same time lock
                # the same hazard rows in the same order (waits, never deadlocks)
                for i in sorted(range(len(messages)), key=lambda i: _lock_order(parsed[i])):
                    (data, source), ev = messages[i], parsed[i]
                    if isinstance(ev, str):
                        self._dead_letter(s, data, source, ev)
                        results[i] = IngestResult("rejected", reason=ev)
                    else:
                        payload = data.decode("utf-8", "replace")
                        results[i] = self._store(s, ev, source, payload, batch)
        except IntegrityError:
            return [self.ingest_raw(data, source) for data, source in messages]
        self._confirm(s)
        for r in results:
            self.counts[r.status] += 1
        return results

    def _parse(self, data: bytes, source: str = "") -> HazardEvent | str:
        """The event, or why it is not one (or not where it was published)."""
        if len(data) > self.max_payload_bytes:
            return f"payload of {len(data)} bytes exceeds the limit"
        try:
            event = HazardEvent.model_validate_json(data)
        except ValidationError as exc:
            return "invalid hazard event: " + "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}"
                for e in exc.errors()[:10]
            )
        # what the database bounds, refused here on both databases (never a DataError)
        if len(",".join(event.zones)) > ZONE_MAX:
            return f"invalid hazard event: zones: more than {ZONE_MAX} characters together"
        if source.startswith("mqtt:"):  # the broker's ACL vouches for the topic, not the body
            try:
                site, camera, _kind = parse_topic(source.removeprefix("mqtt:"))
            except TopicError as exc:
                return f"topic: {exc}"
            if (site, camera) != (event.site_id, event.camera_id):
                self.counts["topic_mismatch"] += 1
                return (
                    f"published under site {site!r} camera {camera!r} but the event names site "
                    f"{event.site_id!r} camera {event.camera_id!r}: refused"
                )
        return event

    def ingest(self, event: HazardEvent, source: str, payload: str | None = None) -> IngestResult:
        with self._lock:
            try:
                with self.sessions.begin() as s:
                    result = self._store(s, event, source, payload or event.to_json())
                self._confirm(s)
            except IntegrityError:  # another replica stored the same (event_id, seq) first
                result = IngestResult("duplicate")
        self.counts[result.status] += 1
        return result

    def _note(self, s: Session, site: str, epoch: str, seq: int) -> None:
        s.info.setdefault("delivery", set()).add(note(s, site, epoch, seq))

    def _confirm(self, s: Session) -> None:
        """After a commit: advance the pointers the transaction touched and hand the
        receipts to `on_receipt` (best effort: an edge without one sends again)."""
        keys = s.info.pop("delivery", None)
        if not keys:
            return
        try:
            with self.sessions.begin() as s2:
                receipts = advance(s2, keys)
        except Exception:
            log.exception("delivery receipts not computed (the edges will send again)")
            return
        if self.on_receipt is not None:
            for site, receipt in receipts:
                self.on_receipt(site, receipt)

    def _store(
        self,
        s: Session,
        ev: HazardEvent,
        source: str,
        payload: str,
        batch: _Batch | None = None,
    ) -> IngestResult:
        batch = batch or _Batch.prefetch(s, [ev])
        if ev.outbox_epoch is not None and ev.outbox_seq is not None:
            self._note(s, ev.site_id, ev.outbox_epoch, ev.outbox_seq)  # duplicates too
        # is this (event_id, seq) a duplicate, and which hazard does the event id already
        # belong to (whatever order its messages came in)
        seen = batch.seen.setdefault(ev.event_id, {})
        if ev.seq in seen:
            return IngestResult("duplicate", hazard_id=seen[ev.seq].id)
        hazard = next(iter(seen.values())) if seen else self._hazard_for(s, ev, batch)
        created = hazard.id is None
        seen[ev.seq] = hazard
        t = utc_naive(ev.frame_time)
        s.add(
            EventRow(
                event_id=ev.event_id,
                seq=ev.seq,
                state=ev.state.value,
                site_id=ev.site_id,
                camera_id=ev.camera_id,
                hazard_type=ev.hazard_type.value,
                level=ev.level.value,
                frame_time=t,
                received_at=utc_naive(datetime.now(UTC)),
                source=source[:200],
                payload=payload,
                hazard=hazard,
            )
        )
        hazard.event_count = (hazard.event_count or 0) + 1
        hazard.first_seen = min(hazard.first_seen, utc_naive(ev.started_at))
        if t >= hazard.last_seen:
            hazard.last_seen = t
            hazard.reason = ev.reason
        if LEVEL_RANK[ev.level.value] > LEVEL_RANK[hazard.level]:
            hazard.level = ev.level.value
        if ev.evidence_uri and (hazard.evidence_time is None or t >= hazard.evidence_time):
            hazard.evidence_uri, hazard.evidence_time = ev.evidence_uri, t
        if created or hazard.level == "major":
            s.flush()  # the hazard's id, for the audit record and the alert
        if hazard.level == "major":  # 重大隐患: notify and report at once (once per hazard)
            push.enqueue(
                s, "alert.major_hazard", f"hazard:{hazard.id}:major", hazard_summary(hazard), source
            )
        if created:
            audit.append(
                s,
                source,
                "hazard.created",
                "hazard",
                hazard.id,
                {
                    "site_id": ev.site_id,
                    "camera_id": ev.camera_id,
                    "type": ev.hazard_type.value,
                    "level": ev.level.value,
                    "event_id": ev.event_id,
                    "zones": ev.zones,
                },
            )
        return IngestResult("new", hazard_id=hazard.id)

    def _hazard_for(self, s: Session, ev: HazardEvent, batch: _Batch) -> HazardRow:
        zone = ",".join(sorted(ev.zones))
        start = utc_naive(ev.started_at)
        place = (ev.site_id, ev.camera_id, ev.hazard_type.value, zone)
        known = batch.places.get(place)  # the same place earlier in this batch
        if (
            known is not None
            and known.status == "open"
            and known.last_seen >= start - self.window
            and known.first_seen <= utc_naive(ev.frame_time) + self.window
        ):
            return known
        near = self._near(s, ev, zone, start)
        if near is None and s.get_bind().dialect.name == "postgresql":
            # about to open a hazard: replicas serialise on this place (a transaction-scoped
            # advisory lock), so a burst split between two replicas is still one hazard
            key = int.from_bytes(
                hashlib.sha256("\x1f".join(place).encode()).digest()[:8], "big", signed=True
            )
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
            near = self._near(s, ev, zone, start)
        if near is not None:
            batch.places[place] = near
            return near
        hazard = HazardRow(
            site_id=ev.site_id,
            camera_id=ev.camera_id,
            hazard_type=ev.hazard_type.value,
            zone=zone,
            level=ev.level.value,
            status="open",
            first_seen=start,
            last_seen=utc_naive(ev.frame_time),
            reason=ev.reason,
            event_count=0,
        )
        s.add(hazard)
        batch.places[place] = hazard
        return hazard

    def _near(self, s: Session, ev: HazardEvent, zone: str, start: datetime) -> HazardRow | None:
        """The open hazard of this place and type within the grouping window, if any."""
        return s.scalar(
            select(HazardRow)
            .where(
                HazardRow.site_id == ev.site_id,
                HazardRow.camera_id == ev.camera_id,
                HazardRow.hazard_type == ev.hazard_type.value,
                HazardRow.zone == zone,
                HazardRow.status == "open",
                HazardRow.last_seen >= start - self.window,
                HazardRow.first_seen <= utc_naive(ev.frame_time) + self.window,
            )
            .order_by(HazardRow.last_seen.desc())
            .limit(1)
        )


def _lock_order(ev: HazardEvent | str) -> tuple[str, ...]:
    if isinstance(ev, str):
        return ("",)
    zone = ",".join(sorted(ev.zones))
    return (ev.site_id, ev.camera_id, ev.hazard_type.value, zone, ev.event_id, f"{ev.seq:09d}")


@dataclass
class _Batch:
    """What one transaction already knows: the (event_id, seq) pairs stored, with their
    hazard (fetched in one query for the whole batch), and the hazards of each place it
    touched, so a batch of events costs a few queries, not a few per event."""

    seen: dict[str, dict[int, HazardRow]] = field(default_factory=dict)
    places: dict[tuple[str, str, str, str], HazardRow] = field(default_factory=dict)

    @classmethod
    def prefetch(cls, s: Session, events: list[HazardEvent]) -> _Batch:
        batch = cls()
        ids = sorted({ev.event_id for ev in events})
        if ids:
            rows = s.execute(
                select(EventRow.event_id, EventRow.seq, HazardRow)
                .join(HazardRow, HazardRow.id == EventRow.hazard_id)
                .where(EventRow.event_id.in_(ids))
            ).all()
            for event_id, seq, hazard in rows:
                batch.seen.setdefault(event_id, {})[seq] = hazard
        return batch


def _topic_site(source: str) -> str | None:
    """The site of an MQTT source (the broker's ACL vouches for it), else None."""
    if not source.startswith("mqtt:"):
        return None
    try:
        return parse_topic(source.removeprefix("mqtt:"))[0]
    except TopicError:
        return None
