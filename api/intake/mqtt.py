"""MQTT ingest: an MQTT 5 shared subscription, so API replicas split the edge's events.

The session is persistent (clean_start off, one-day expiry): events published while the
API is down wait at the broker. Messages are acknowledged by hand, only after the
transaction that stores them has committed (at least once; ingest is idempotent). A
worker thread stores them in batches (one commit for up to `batch_size` events), which is
what carries the load; while the database is unreachable it retries with backoff and
acknowledges nothing, so a dropped database connection or a killed process loses nothing:
the broker redelivers what was not acknowledged.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.exc import (
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from siteguard.api.intake.events import Ingestor
from siteguard.api.settings import MqttIngestSettings
from siteguard.contract.delivery import DeliveryReceipt
from siteguard.contract.topics import Topics, is_events, subscriptions

log = logging.getLogger(__name__)


class MqttIngest:
    def __init__(
        self, settings: MqttIngestSettings, ingestor: Ingestor, replica: str = "0"
    ) -> None:
        self.settings = settings
        self.ingestor = ingestor
        self.topics = [(t, 1) for t in subscriptions(settings.prefix, settings.share_group)]
        self.connected = threading.Event()
        self._stopping = threading.Event()
        self.db_retries = 0
        self.received = 0  # messages taken from the broker
        self.done = 0  # of those, stored (or kept as dead letters) and acknowledged
        self._last_message = time.monotonic()
        self._busy_since: float | None = None  # receive time of the batch being stored
        self._queue: queue.Queue[mqtt.MQTTMessage] = queue.Queue(maxsize=10_000)
        self._worker = threading.Thread(target=self._work, name="mqtt-ingest", daemon=True)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{settings.client_id}-{replica}",
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.connected.clear()
        self.client.on_message = self._on_message
        ingestor.on_receipt = self._publish_receipt
        self.client.reconnect_delay_set(1, 30)
        if settings.username:
            secret = settings.password.get_secret_value() if settings.password else None
            self.client.username_pw_set(settings.username, secret)
        if settings.tls:
            self.client.tls_set(ca_certs=str(settings.ca_file) if settings.ca_file else None)

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 86400
        props.ReceiveMaximum = self.settings.batch_size * 2
        self._worker.start()
        self.client.connect_async(
            self.settings.host,
            self.settings.port,
            keepalive=30,
            clean_start=False,
            properties=props,
        )
        self.client.loop_start()

    def stop(self) -> None:
        self._stopping.set()
        self._worker.join(10)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT broker refused the API consumer: %s", reason)
            return
        client.subscribe(self.topics)
        self.connected.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.received += 1
        self._last_message = time.monotonic()
        self._queue.put(msg)  # acknowledged by the worker once stored

    def retire(self, idle_s: float = 3.0, timeout_s: float = 600.0) -> int:
        """Scale down for good: take what the broker kept for this replica's session, store
        it, leave the shared group and end the session (expiry 0), so the broker stops
        queueing a share for a replica that will not come back. Call on a started consumer
        that is not serving; returns the number of messages it took."""
        deadline = time.monotonic() + timeout_s
        if not self.connected.wait(max(deadline - time.monotonic(), 0)):
            raise TimeoutError(f"no connection to the broker at {self.settings.host}")

        def quiet() -> bool:
            return self.done == self.received and time.monotonic() - self._last_message >= idle_s

        while not quiet():
            if time.monotonic() > deadline:
                raise TimeoutError(f"still receiving after {timeout_s:.0f} s")
            time.sleep(0.1)
        left = threading.Event()
        self.client.on_unsubscribe = lambda *_: left.set()
        self.client.unsubscribe([topic for topic, _qos in self.topics])
        if not left.wait(30):
            raise TimeoutError("the broker did not confirm leaving the shared group")
        while self.done != self.received:  # delivered before the group was left
            if time.monotonic() > deadline:
                raise TimeoutError(f"messages still unstored after {timeout_s:.0f} s")
            time.sleep(0.1)
        props = Properties(PacketTypes.DISCONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 0
        self._stopping.set()
        self._worker.join(10)
        self.client.disconnect(properties=props)
        self.client.loop_stop()
        return self.received

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            self._busy_since = first.timestamp
            deadline = time.monotonic() + self.settings.batch_wait_s
            while len(batch) < self.settings.batch_size:
                try:
                    batch.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0)))
                except queue.Empty:
                    break
            if self._store(batch):
                for msg in batch:
                    if msg.qos > 0:
                        self.client.ack(msg.mid, msg.qos)
                self.done += len(batch)
            self._busy_since = None

    def _store(self, batch: list[mqtt.MQTTMessage]) -> bool:
        """Store a batch, retrying while the database is unreachable; False: stopping, not
        stored (not acknowledged: the broker redelivers it). Events go in one transaction;
        camera status and stats each in their own, so a bad one changes nothing else. Any
        error that is not an outage is the message's: it is kept as a dead letter."""
        events = [m for m in batch if is_events(m.topic)]
        cameras = [m for m in batch if not is_events(m.topic)]
        delay = 0.2
        while True:
            try:
                if events:
                    self._store_events(events)
                    events = []
                while cameras:
                    self._store_one(cameras[0])
                    cameras.pop(0)
                return True
            except SQLAlchemyError as exc:
                if not is_outage(exc):
                    raise  # _store_events/_store_one keep data errors as dead letters
                self.db_retries += 1
                if self._stopping.is_set():
                    log.error("stopping with %d message(s) not stored (redelivered)", len(batch))
                    return False
                log.warning(
                    "database unavailable (%s); retrying in %.1f s", type(exc).__name__, delay
                )
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _store_events(self, events: list[mqtt.MQTTMessage]) -> None:
        try:
            self.ingestor.ingest_batch([(bytes(m.payload), f"mqtt:{m.topic}") for m in events])
        except Exception as exc:
            if isinstance(exc, SQLAlchemyError) and is_outage(exc):
                raise
            # not an outage: the batch rolled back; find the message at fault, keep it
            log.warning("batch of %d event(s) failed (%r); one at a time", len(events), exc)
            for m in events:
                self._store_one(m)

    def _store_one(self, m: mqtt.MQTTMessage) -> None:
        """One message alone; one that fails for anything but an outage is kept as a dead
        letter with the error (acknowledged, never silently lost, never retried forever)."""
        source = f"mqtt:{m.topic}"
        try:
            if is_events(m.topic):
                self.ingestor.ingest_raw(bytes(m.payload), source)
            else:
                self.ingestor.ingest_camera(m.topic, bytes(m.payload))
        except Exception as exc:
            if isinstance(exc, SQLAlchemyError) and is_outage(exc):
                raise
            log.warning("message from %s kept as a dead letter: %r", m.topic, exc)
            try:
                self.ingestor.reject(bytes(m.payload), source, f"could not be stored: {exc!r}")
            except SQLAlchemyError as again:
                if is_outage(again):
                    raise
                # not even a dead letter can hold it: counted, logged, acknowledged
                log.exception("message from %s cannot be kept at all", m.topic)
                self.ingestor.counts["unstorable"] += 1

    def _publish_receipt(self, site: str, receipt: DeliveryReceipt) -> None:
        """Tell the site's edge what is stored (retained: a box that reconnects reads it)."""
        topic = Topics(self.settings.prefix, site).delivery
        self.client.publish(topic, receipt.model_dump_json(), qos=1, retain=True)

    def lag_s(self) -> float:
        """Age of the oldest message taken from the broker and not yet acknowledged."""
        oldest = self._busy_since
        with self._queue.mutex:
            if self._queue.queue:
                head = self._queue.queue[0].timestamp
                oldest = head if oldest is None else min(oldest, head)
        return 0.0 if oldest is None else max(time.monotonic() - oldest, 0.0)


def is_outage(exc: SQLAlchemyError) -> bool:
    """Connectivity (retry until the database answers), not the data (a dead letter).

    OperationalError covers a refused or dropped connection, a failover, a locked SQLite
    file; DataError, IntegrityError, ProgrammingError and the rest are about the message.
    """
    return isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout))
