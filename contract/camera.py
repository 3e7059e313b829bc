"""Camera status and heartbeat messages (``.../<camera>/status`` and ``.../<camera>/stats``).

The edge publishes a `CameraStatus` on every change of a camera's state (retained) and a
`CameraStats` heartbeat every ``stats_interval_s``; the API keeps the latest of each and
counts the camera-hours watched from them. A heartbeat names its period (``interval_s``),
so the API can tell a camera whose heartbeats stopped (edge box switched off) from one
that is merely quiet. Within version 1 fields are only added, and a consumer ignores
fields it does not know.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from siteguard.contract.clock import plausible_time


class CameraState(StrEnum):
    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"


class CameraMessage(BaseModel):
    """What every camera message carries."""

    model_config = ConfigDict(extra="ignore")
    camera_id: str = Field("", max_length=64, description="Also in the topic, which wins")
    state: str = Field(
        min_length=1,
        max_length=64,
        description="connecting / online / offline (unknown states are kept as text)",
    )
    at: datetime | None = Field(None, description="When the edge observed it (UTC)")

    @field_validator("state")
    @classmethod
    def _short_state(cls, v: str) -> str:
        return v.replace("\x00", "")[:16] or "unknown"

    @field_validator("at")
    @classmethod
    def _plausible(cls, v: datetime | None) -> datetime | None:
        if v is not None and not plausible_time(v):
            raise ValueError(f"{v.isoformat()} is not a plausible time")
        return v


class CameraStatus(CameraMessage):
    detail: str = Field("", description="Why (e.g. the stream's error); shown to people")

    @field_validator("detail")
    @classmethod
    def _plain_detail(cls, v: str) -> str:
        return v.replace("\x00", "")[:2000]


class CameraStats(CameraMessage):
    """A heartbeat: the camera's counters since the worker started."""

    model_config = ConfigDict(extra="allow")  # later counters are kept as they came
    frames_in: int | None = None
    frames_detected: int | None = None
    frames_dropped: int | None = None
    motion_skipped: int | None = None
    reconnects: int | None = None
    inference_ms: float | None = None
    events: int | None = None
    open_hazards: int | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    fps_in: float | None = None
    fps_detected: float | None = None
    outbox_depth: int | None = None
    interval_s: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="Seconds until the next heartbeat (the edge's stats_interval_s); "
        "absent from older edges",
    )
