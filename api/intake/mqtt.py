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
from sqlalchemy.exc import SQLAlchemyError

from siteguard.api.intake.events import Ingestor
from siteguard.api.settings import MqttIngestSettings
from siteguard.contract.topics import is_events, subscriptions

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
        self.client.reconnect_delay_set(1, 30)

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

    def _store(self, batch: list[mqtt.MQTTMessage]) -> bool:
        """Store a batch, retrying while the database is down; False: stopping, not stored
        (not acknowledged: the broker redelivers it)."""
        delay = 0.2
        while True:
            try:
                events = [
                    (bytes(m.payload), f"mqtt:{m.topic}") for m in batch if is_events(m.topic)
                ]
                if events:
                    self.ingestor.ingest_batch(events)
                for m in batch:  # status and stats: camera state and camera-hours watched
                    if not is_events(m.topic):
                        self.ingestor.ingest_camera(m.topic, bytes(m.payload))
                return True
            except SQLAlchemyError as exc:
                self.db_retries += 1
                if self._stopping.is_set():
                    log.error("stopping with %d message(s) not stored (redelivered)", len(batch))
                    return False
                log.warning(
                    "database unavailable (%s); retrying in %.1f s", type(exc).__name__, delay
                )
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            except Exception:  # not the database: find the message at fault, keep it
                log.exception("could not ingest a batch of %d message(s)", len(batch))
                self._one_by_one(batch)
                return True

    def _one_by_one(self, batch: list[mqtt.MQTTMessage]) -> None:
        """After an unexpected failure: each message alone; one that still fails is kept as
        a dead letter with the error (acknowledged, never silently lost)."""
        for m in batch:
            source = f"mqtt:{m.topic}"
            try:
                if is_events(m.topic):
                    self.ingestor.ingest_raw(bytes(m.payload), source)
                else:
                    self.ingestor.ingest_camera(m.topic, bytes(m.payload))
            except Exception as exc:
                log.exception("message from %s kept as a dead letter", m.topic)
                self.ingestor.reject(bytes(m.payload), source, f"could not be stored: {exc!r}")
