"""Everything one API process owns: engine, sessions, ingest, the MQTT consumer, the pusher.

Built by `create_app(settings)`, never at import time; routes reach it through the typed
dependencies in `api.deps`.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from siteguard.api.hazards.evidence import EvidenceRefusals
from siteguard.api.intake.events import Ingestor
from siteguard.api.intake.mqtt import MqttIngest
from siteguard.api.platform.escalation import escalate_overdue
from siteguard.api.platform.push import Pusher
from siteguard.api.platform.robot_delivery import EvidencePictures, RobotDeliverer
from siteguard.api.platform.robots import attach as attach_robots
from siteguard.api.records.anchors import ANCHOR_FILE, publish_anchor
from siteguard.api.risk.bands import check_bands
from siteguard.api.risk.warmer import RiskWarmer
from siteguard.api.settings import ApiSettings
from siteguard.api.store.db import create_schema, make_engine, make_sessions


class Services:
    def __init__(self, settings: ApiSettings, replica: str = "0") -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        create_schema(self.engine)
        self.sessions: sessionmaker[Session] = make_sessions(self.engine)
        attach_robots(self.sessions, settings.robots)  # push.enqueue queues their copies
        self.ingestor = Ingestor(
            self.sessions,
            settings.hazard_window_s,
            settings.max_payload_bytes,
            settings.max_messages_per_site_per_minute,
        )
        self.mqtt = (
            MqttIngest(settings.mqtt, self.ingestor, replica) if settings.mqtt.enabled else None
        )
        self.pusher = Pusher(
            self.sessions,
            settings.push,
            name=f"api-{replica}",
            periodic=self.escalate,
        )

        self.evidence_refusals = EvidenceRefusals()  # /metrics
        self.robots = RobotDeliverer(
            self.sessions,
            settings.robots,
            EvidencePictures(
                self.sessions, settings.data_dir, settings.evidence, self.evidence_refusals
            ),
        )
        self.risk_warmer = RiskWarmer(self.sessions, settings) if settings.warm_risk else None
        self._last_risk_check = 0.0
        self._last_anchor = time.monotonic()  # the first anchor an interval after start

    def escalate(self) -> None:
        """The pusher's periodic job: overdue escalations, premium bands and audit anchors
        now and then."""
        escalate_overdue(self.sessions)
        if time.monotonic() - self._last_anchor >= self.settings.audit_anchor_s:
            self._last_anchor = time.monotonic()
            publish_anchor(self.sessions, self.settings.data_dir / ANCHOR_FILE)
        if time.monotonic() - self._last_risk_check >= self.settings.risk_check_s:
            self._last_risk_check = time.monotonic()
            check_bands(self.sessions, self.settings)

    def start(self) -> None:
        if self.mqtt:
            self.mqtt.start()
        self.pusher.start()
        self.robots.start()
        if self.risk_warmer:
            self.risk_warmer.start()

    def stop(self) -> None:
        if self.risk_warmer:
            self.risk_warmer.stop()
        self.robots.stop()
        self.pusher.stop()
        if self.mqtt:
            self.mqtt.stop()
        self.engine.dispose()
