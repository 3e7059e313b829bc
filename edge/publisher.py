"""MQTT publishing from the durable outbox (paho-mqtt 2.x, QoS 1, last will).

Topics under ``<prefix>/<site>/``: ``<camera>/events`` (hazard events), ``<camera>/status``
(online/offline, retained), ``<camera>/stats`` (heartbeat), and ``available`` (retained
``online``; the broker publishes the last will ``offline`` if the worker dies).

Every message goes through the outbox: written to SQLite, then published; deleted only on
the broker's PUBACK. While the broker is unreachable paho reconnects with backoff and the
outbox grows; on reconnect the backlog drains oldest first, at most ``max_inflight`` at a
time (MQTT keeps QoS 1 order on one connection).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from siteguard.contract.delivery import DeliveryReceipt
from siteguard.contract.events import HazardEvent
from siteguard.contract.topics import Topics
from siteguard.edge.outbox import Outbox, OutboxMessage

log = logging.getLogger(__name__)


class MqttConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(1883, gt=0, lt=65536)
    prefix: str = Field("siteguard", pattern=r"^[A-Za-z0-9_/-]+$")
    client_id: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    ca_file: str | None = None
    keepalive_s: int = Field(30, ge=5)
    max_inflight: int = Field(20, ge=1, le=1000)
    reconnect_max_s: float = Field(
        30.0, ge=1, description="Longest wait between reconnect attempts"
    )
    resend_after_s: float = Field(60.0, gt=0, description="Re-publish what the broker never acked")
    confirm_after_s: float = Field(
        60.0,
        gt=0,
        description="Re-publish events the API has not confirmed storing after this long "
        "(end-to-end delivery: a broker can forget what it acknowledged)",
    )


class Publisher:
    def __init__(self, config: MqttConfig, site_id: str, outbox: Outbox) -> None:
        self.config = config
        self.topics = Topics(config.prefix, site_id)
        self.outbox = outbox
        self.connected = threading.Event()
        self.acked = 0
        self.published = 0
        self._lock = threading.Lock()
        self._inflight: dict[int, tuple[int, float]] = {}  # mid -> (outbox id, sent at)
        self._early: dict[int, float] = {}  # PUBACKs that came before their mid was recorded
        self._last_sent = 0
        self._resend_from: int | None = None
        self.confirmed_through = 0  # the API's receipts: events stored end to end
        self.receipts = 0
        self.resent = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.client = self._make_client(site_id)

    def _make_client(self, site_id: str) -> mqtt.Client:
        cfg = self.config
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=cfg.client_id or f"siteguard-edge-{site_id}",
            protocol=mqtt.MQTTv5,
        )
        if cfg.username:
            pw = cfg.password.get_secret_value() if cfg.password else None
            client.username_pw_set(cfg.username, pw)
        if cfg.tls:
            client.tls_set(ca_certs=cfg.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        client.will_set(self.topics.available, "offline", qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=int(cfg.reconnect_max_s))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    # -- public API -----------------------------------------------------------------------
    def start(self) -> None:
        self.client.connect_async(self.config.host, self.config.port, self.config.keepalive_s)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._drain, name="outbox-drain", daemon=True)
        self._thread.start()

    def stop(self, flush_timeout_s: float = 5.0) -> None:
        """Deliver what is left (to the broker and, when an API is answering, until it has
        confirmed it) within ``flush_timeout_s``; what is not confirmed stays in the outbox
        and goes out at the next start."""
        deadline = time.monotonic() + flush_timeout_s

        def unfinished() -> bool:
            waiting = self.outbox.awaiting_confirmation() if self.receipts else 0
            return bool(self.outbox.depth() or waiting)

        while self.connected.is_set() and unfinished() and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.05)
        if self.connected.is_set():
            self.client.publish(
                self.topics.available, "offline", qos=1, retain=True
            ).wait_for_publish(2)
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.client.disconnect()
        self.client.loop_stop()

    def send_event(self, event: HazardEvent) -> int:
        """Numbered and kept until the API confirms it (contract.delivery)."""
        body = event.model_copy(update={"outbox_epoch": None, "outbox_seq": None}).to_json()
        return self._put(self.topics.events(event.camera_id), body, numbered=True)

    def send_status(self, camera_id: str, payload: str) -> int:
        return self._put(self.topics.status(camera_id), payload, retain=True)

    def send_stats(self, camera_id: str, payload: str) -> int:
        return self._put(self.topics.stats(camera_id), payload)

    # -- internals ------------------------------------------------------------------------
    def _put(self, topic: str, payload: str, retain: bool = False, numbered: bool = False) -> int:
        oid = self.outbox.put(topic, payload, qos=1, retain=retain, numbered=numbered)
        self._wake.set()
        return oid

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning(
                "MQTT broker %s:%s refused the connection: %s",
                self.config.host,
                self.config.port,
                reason,
            )
            return
        log.info("connected to MQTT broker %s:%s", self.config.host, self.config.port)
        client.subscribe(self.topics.delivery, qos=1)  # the API's receipts
        client.publish(self.topics.available, "online", qos=1, retain=True)
        self.connected.set()
        self._wake.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if self.connected.is_set() and not self._stop.is_set():
            log.warning(
                "MQTT connection lost (%s); outbox holds %d message(s)", reason, self.outbox.depth()
            )
        self.connected.clear()

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        now = time.monotonic()
        with self._lock:
            entry = self._inflight.pop(mid, None)
            if entry is None:  # not recorded yet (or not ours: the availability message)
                self._early = {m: t for m, t in self._early.items() if now - t < 10.0}
                self._early[mid] = now
        if entry is not None:
            self.outbox.ack(entry[0])
            self.acked += 1
            self._wake.set()

    def _drain(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            if self.outbox.held:
                self.outbox.retry_held()  # a full disk took the messages into memory
            if not self.connected.is_set():
                continue
            self._resend_stale()
            with self._lock:
                room = self.config.max_inflight - len(self._inflight)
                after = self._last_sent
                waiting = {oid for oid, _ in self._inflight.values()}
            if room <= 0:
                continue
            for msg in self.outbox.pending(room, after_id=after):
                if not self.connected.is_set():
                    break
                if msg.id in waiting:
                    continue
                self._publish(msg)
                with self._lock:
                    self._last_sent = msg.id
            self._resend_unconfirmed()

    def _publish(self, msg: OutboxMessage) -> None:
        payload = msg.payload if msg.seq is None else stamp(msg.payload, self.outbox.epoch, msg.seq)
        if msg.seq is not None:  # only events wait for a receipt and are sent again
            self.outbox.sent(msg.id)
        info = self.client.publish(msg.topic, payload, qos=msg.qos, retain=msg.retain)
        with self._lock:
            # the PUBACK may have come before this line (paho calls back from its own
            # thread): then it waits in _early, and the message is acknowledged here
            early = self._early.pop(info.mid, None) is not None
            if not early:
                self._inflight[info.mid] = (msg.id, time.monotonic())
        if early:
            self.outbox.ack(msg.id)
            self.acked += 1
        self.published += 1

    def _resend_unconfirmed(self) -> None:
        """Events the broker took but the API has not confirmed go out again: after
        ``confirm_after_s``, or at once from where a receipt says one is missing."""
        resend_from, self._resend_from = self._resend_from, None
        older = 0.0 if resend_from is not None else self.config.confirm_after_s
        after = resend_from if resend_from is not None else 0
        for msg in self.outbox.unconfirmed(older, self.config.max_inflight, after_seq=after):
            if not self.connected.is_set():
                return
            self.resent += 1
            self._publish(msg)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            receipt = DeliveryReceipt.model_validate_json(msg.payload)
        except ValueError:
            log.warning("ignoring a malformed delivery receipt on %s", msg.topic)
            return
        if receipt.epoch != self.outbox.epoch:
            return  # the API confirms an outbox this box no longer has (replaced)
        self.receipts += 1
        self.confirmed_through = max(self.confirmed_through, receipt.stored_through)
        self.outbox.confirm(receipt.epoch, self.confirmed_through)
        if receipt.missing_after:
            self._resend_from = self.confirmed_through
            self._wake.set()

    def _resend_stale(self) -> None:
        """Messages the broker never acknowledged in ``resend_after_s`` go out again."""
        now = time.monotonic()
        with self._lock:
            stale = [
                oid
                for oid, sent in self._inflight.values()
                if now - sent > self.config.resend_after_s
            ]
            if stale:
                self._inflight = {m: e for m, e in self._inflight.items() if e[0] not in stale}
                self._last_sent = min(stale) - 1


def stamp(payload: bytes, epoch: str, seq: int) -> bytes:
    """The event's JSON with its delivery numbers (added when it is sent, since the number
    is given when the outbox stores it)."""
    head = f'{{"outbox_epoch":"{epoch}","outbox_seq":{seq},'.encode()
    body = payload.lstrip()
    return head + body[1:] if body[:1] == b"{" else payload
