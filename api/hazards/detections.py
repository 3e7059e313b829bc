"""What the model saw of a hazard, for its page: the latest event message that carried
detection boxes, and the latest score.

Not every message carries boxes: an end message has none, and a rule about a zone
(`protection_missing`: the guardrail is gone) has none at all, while the evidence picture
is annotated with every detection of the frame. Messages are taken newest first by the
time of their frame, not by arrival (the edge's outbox may deliver an old message late,
after a reconnect), and an unreadable payload is skipped, not fatal to the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from siteguard.api.store.tables import EventRow, HazardRow


@dataclass(frozen=True)
class Detection:
    boxes: list[dict[str, Any]] = field(default_factory=list)  # label, score, box, track_id
    at: datetime | None = None  # the frame's time (naive UTC) of the message with the boxes
    seq: int | None = None
    score: float | None = None  # the violation score of the newest message
    zones: list[str] = field(default_factory=list)  # zones the newest message names


def _payload(e: EventRow) -> dict[str, Any]:
    try:
        doc = json.loads(e.payload)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def latest_detection(h: HazardRow) -> Detection:
    """The boxes of the newest message that had any, with the newest score and zones."""
    newest = sorted(h.events, key=lambda e: (e.frame_time, e.id), reverse=True)
    score: float | None = None
    zones: list[str] = []
    for n, e in enumerate(newest):
        doc = _payload(e)
        if n == 0 or score is None:
            value = doc.get("score")
            score = float(value) if isinstance(value, int | float) else score
        if not zones and isinstance(doc.get("zones"), list):
            zones = [str(z) for z in doc["zones"]]
        boxes = [b for b in doc.get("boxes") or [] if isinstance(b, dict) and "box" in b]
        if boxes:
            return Detection(boxes, e.frame_time, e.seq, score, zones)
    return Detection(score=score, zones=zones)
