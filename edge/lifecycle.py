"""Per-frame violations -> hazard events with a life: start, updates, end.

A violation must persist (``min_duration_s`` and ``min_frames``, with a median score of at
least ``min_median_score``) before its event starts, so a single noisy frame raises
nothing; once started, it sends an update when its level rises or every
``update_interval_s``, and ends ``end_grace_s`` after it was last seen. One hazard, one
event id, sequence numbers 0, 1, 2, ... Pure logic: time is passed in.
"""

from __future__ import annotations

import secrets
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from siteguard.contract.events import EventBox, EventState, HazardEvent, ModelInfo
from siteguard.contract.hazards import HazardLevel, HazardType
from siteguard.pipeline.detector import ModelRef


class LifecycleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_duration_s: float = Field(
        2.0, ge=0, description="Seconds a violation must persist to start"
    )
    min_duration_by_type: dict[HazardType, float] = Field(
        default_factory=lambda: {HazardType.PROTECTION_MISSING: 30.0},
        description="Per hazard type persistence (a rail hidden for a moment is not gone)",
    )
    min_frames: int = Field(2, ge=1, description="Frames it must be seen in to start")
    min_median_score: float = Field(0.4, ge=0, le=1, description="Median score needed to start")
    end_grace_s: float = Field(10.0, gt=0, description="Seconds unseen before the event ends")
    update_interval_s: float = Field(30.0, gt=0, description="Heartbeat updates while ongoing")
    major_after_s: dict[HazardType, float] = Field(
        default_factory=dict,
        description="Escalate a hazard type to major once it has lasted this many seconds",
    )


@dataclass(frozen=True)
class Observation:
    """One violation seen in one frame, keyed by what it is about (track, zone)."""

    key: str  # e.g. "no_helmet/track-7" or "protection_missing/zone-slab-3f"
    hazard_type: HazardType
    level: HazardLevel
    score: float
    reason: str
    boxes: tuple[EventBox, ...] = ()
    zones: tuple[str, ...] = ()


@dataclass
class _Hazard:
    first: Observation
    first_seen: float
    first_wall: datetime
    last_seen: float
    last: Observation
    scores: list[float] = field(default_factory=list)
    event_id: str | None = None
    seq: int = -1
    level: HazardLevel = HazardLevel.GENERAL
    last_emit: float = 0.0


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


class HazardLifecycle:
    """Tracks the hazards of one camera."""

    def __init__(
        self,
        site_id: str,
        camera_id: str,
        model: ModelRef,
        config: LifecycleConfig | None = None,
        id_factory: Callable[[], str] = new_event_id,
    ) -> None:
        self.site_id, self.camera_id = site_id, camera_id
        self.model = ModelInfo(name=model.name, version=model.version, sha256=model.sha256)
        self.config = config or LifecycleConfig()
        self._ids = id_factory
        self._open: dict[str, _Hazard] = {}

    @property
    def open_hazards(self) -> int:
        return sum(1 for h in self._open.values() if h.event_id is not None)

    def observe(
        self,
        observations: list[Observation],
        t: float,
        wall: datetime,
        frame_size: tuple[int, int],
        evidence_uri: Callable[[str, int], str | None] | None = None,
    ) -> list[HazardEvent]:
        """Feed one analysed frame (``t`` monotonic seconds, ``wall`` its UTC capture time)."""
        cfg = self.config
        events: list[HazardEvent] = []
        for ob in observations:
            h = self._open.get(ob.key)
            if h is None:
                h = self._open[ob.key] = _Hazard(ob, t, wall, t, ob, level=ob.level)
            h.last, h.last_seen = ob, t
            h.scores.append(ob.score)
            level = self._level(h, t)
            if h.event_id is None:
                if (
                    t - h.first_seen
                    >= cfg.min_duration_by_type.get(ob.hazard_type, cfg.min_duration_s)
                    and len(h.scores) >= cfg.min_frames
                    and statistics.median(h.scores) >= cfg.min_median_score
                ):
                    h.event_id, h.seq, h.level = self._ids(), 0, level
                    events.append(
                        self._event(h, EventState.START, t, wall, frame_size, evidence_uri)
                    )
            elif level != h.level or t - h.last_emit >= cfg.update_interval_s:
                h.level = level
                h.seq += 1
                events.append(self._event(h, EventState.UPDATE, t, wall, frame_size, evidence_uri))
        events.extend(self._expire(t, wall, frame_size, evidence_uri))
        return events

    def close_all(self, t: float, wall: datetime, frame_size: tuple[int, int]) -> list[HazardEvent]:
        """End every open event (camera removed, worker shutting down)."""
        out = []
        for key, h in list(self._open.items()):
            if h.event_id is not None:
                h.seq += 1
                out.append(self._event(h, EventState.END, t, wall, frame_size, None))
            del self._open[key]
        return out

    def _level(self, h: _Hazard, t: float) -> HazardLevel:
        """Levels only rise: major once seen major, or once it lasted ``major_after_s``."""
        limit = self.config.major_after_s.get(h.first.hazard_type)
        lasted = limit is not None and t - h.first_seen >= limit
        if HazardLevel.MAJOR in (h.level, h.last.level) or lasted:
            return HazardLevel.MAJOR
        return HazardLevel.GENERAL

    def _expire(
        self,
        t: float,
        wall: datetime,
        size: tuple[int, int],
        uri: Callable[[str, int], str | None] | None,
    ) -> list[HazardEvent]:
        out = []
        for key, h in list(self._open.items()):
            if t - h.last_seen < self.config.end_grace_s:
                continue
            if h.event_id is not None:
                h.seq += 1
                out.append(self._event(h, EventState.END, t, wall, size, uri))
            del self._open[key]
        return out

    def _event(
        self,
        h: _Hazard,
        state: EventState,
        t: float,
        wall: datetime,
        size: tuple[int, int],
        uri: Callable[[str, int], str | None] | None,
    ) -> HazardEvent:
        h.last_emit = t
        assert h.event_id is not None
        ob = h.last
        ended = wall if state is EventState.END else None
        return HazardEvent(
            event_id=h.event_id,
            seq=h.seq,
            state=state,
            site_id=self.site_id,
            camera_id=self.camera_id,
            hazard_type=ob.hazard_type,
            level=h.level,
            reason=ob.reason,
            score=round(statistics.median(h.scores), 4),
            boxes=list(ob.boxes) if state is not EventState.END else [],
            zones=list(ob.zones),
            frame_width=size[0],
            frame_height=size[1],
            started_at=h.first_wall.astimezone(UTC),
            frame_time=max(wall, h.first_wall).astimezone(UTC),
            ended_at=ended.astimezone(UTC) if ended else None,
            evidence_uri=uri(h.event_id, h.seq) if uri and state is not EventState.END else None,
            model=self.model,
        )
