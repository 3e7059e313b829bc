"""MQTT ingest: an MQTT 5 shared subscription, so API replicas split the edge's events.

The session is persistent (clean_start off, one-day expiry): events published while the
API is down wait at the broker. paho acknowledges a QoS 1 message after on_message
returns, i.e. after the event is stored (at least once; ingest is idempotent).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from siteguard.api.ingest import Ingestor
from siteguard.api.settings import MqttIngestSettings

log = logging.getLogger(__name__)


class MqttIngest:
    def __init__(
        self, settings: MqttIngestSettings, ingestor: Ingestor, replica: str = "0"
    ) -> None:
        self.settings = settings
        self.ingestor = ingestor
        shared = f"$share/{settings.share_group}/{settings.prefix}/+/+"
        self.topics = [(f"{shared}/{kind}", 1) for kind in ("events", "status", "stats")]
        self.connected = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{settings.client_id}-{replica}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.connected.clear()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 30)

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 86400
        self.client.connect_async(
            self.settings.host,
            self.settings.port,
            keepalive=30,
            clean_start=False,
            properties=props,
        )
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT broker refused the API consumer: %s", reason)
            return
        client.subscribe(self.topics)
        self.connected.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            if msg.topic.endswith("/events"):
                self.ingestor.ingest_raw(msg.payload, f"mqtt:{msg.topic}")
            else:  # status and stats: camera state and camera-hours watched
                self.ingestor.ingest_camera(msg.topic, bytes(msg.payload))
        except Exception:  # a database hiccup must not kill the consumer loop
            log.exception("could not ingest a message from %s", msg.topic)
