"""The MQTT topic layout: ``<prefix>/<site>/<camera>/<kind>`` and ``<prefix>/<site>/available``.

The edge publishes under its own site; the API subscribes to every site through a shared
subscription. Both build their topics here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ID_MAX = 64


class MessageKind(StrEnum):
    EVENTS = "events"  # hazard events (contract.events), QoS 1
    STATUS = "status"  # camera status on every change (contract.camera), retained
    STATS = "stats"  # camera heartbeat every stats_interval_s (contract.camera)


class TopicError(ValueError):
    """A topic that is not ``<prefix>/<site>/<camera>/<kind>``."""


@dataclass(frozen=True)
class Topics:
    """The topics of one site."""

    prefix: str
    site_id: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.site_id}"

    def of(self, camera_id: str, kind: MessageKind) -> str:
        return f"{self.base}/{camera_id}/{kind.value}"

    def events(self, camera_id: str) -> str:
        return self.of(camera_id, MessageKind.EVENTS)

    def status(self, camera_id: str) -> str:
        return self.of(camera_id, MessageKind.STATUS)

    def stats(self, camera_id: str) -> str:
        return self.of(camera_id, MessageKind.STATS)

    @property
    def available(self) -> str:
        """The site's last will: "online" / "offline", retained."""
        return f"{self.base}/available"

    @property
    def delivery(self) -> str:
        """The API's receipts for the site's events (contract.delivery), retained."""
        return f"{self.base}/delivery"


def subscriptions(prefix: str, share_group: str) -> list[str]:
    """What a consumer of every site subscribes to (MQTT 5 shared subscription)."""
    return [f"$share/{share_group}/{prefix}/+/+/{kind.value}" for kind in MessageKind]


def parse_topic(topic: str) -> tuple[str, str, str]:
    """``<prefix>/<site>/<camera>/<kind>`` -> (site, camera, kind)."""
    parts = topic.split("/")
    if len(parts) < 4 or not parts[-3] or not parts[-2]:
        raise TopicError(f"topic {topic!r} is not <prefix>/<site>/<camera>/<kind>")
    site, camera, kind = parts[-3], parts[-2], parts[-1]
    if len(site) > ID_MAX or len(camera) > ID_MAX:
        raise TopicError(f"site or camera id longer than {ID_MAX} characters")
    return site, camera, kind


def is_events(topic: str) -> bool:
    """Is this a hazard-event topic (else camera status or stats)?"""
    return topic.rsplit("/", 1)[-1] == MessageKind.EVENTS.value
