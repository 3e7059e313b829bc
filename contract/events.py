"""The hazard event: the versioned message the edge publishes and the API ingests.

Schema rules: within major version 1 changes are additive only (new optional fields);
consumers ignore fields they do not know, so a 1.x producer never breaks a 1.0 consumer.
Golden-JSON tests guard the wire form; `siteguard schema` exports the JSON schema.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from siteguard.contract.clock import plausible_time
from siteguard.contract.hazards import HazardLevel, HazardType

SCHEMA_VERSION = "1.1"  # 1.1: outbox_epoch and outbox_seq (end-to-end delivery)
INT32_MAX = 2_147_483_647  # sequence numbers are stored as 32-bit integers
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class EventState(StrEnum):
    START = "start"
    UPDATE = "update"
    END = "end"


class EventBox(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str = Field(pattern=r"^[a-z_]{1,32}$", description="Taxonomy class name")
    score: float = Field(ge=0, le=1)
    box: tuple[float, float, float, float] = Field(description="x1, y1, x2, y2 in frame pixels")
    track_id: int | None = Field(None, description="Tracker id of the person/object, if tracked")


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="ignore", protected_namespaces=())
    name: str
    version: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class HazardEvent(BaseModel):
    """One message about one hazard: start, any number of updates, end; same event_id."""

    model_config = ConfigDict(extra="ignore", protected_namespaces=())

    schema_version: str = Field(SCHEMA_VERSION, pattern=r"^1\.\d+$")
    event_id: str = Field(
        pattern=r"^[A-Za-z0-9_-]{8,64}$", description="Stable for the whole life of the hazard"
    )
    seq: int = Field(
        ge=0,
        le=INT32_MAX,
        description="0 for start, then +1 for every message of this event",
    )
    state: EventState
    site_id: Ident
    camera_id: Ident
    hazard_type: HazardType
    level: HazardLevel
    reason: str = Field(max_length=2000)
    score: float = Field(ge=0, le=1, description="Median violation score over the event so far")
    boxes: list[EventBox] = Field(default_factory=list, max_length=200)
    zones: list[Ident] = Field(default_factory=list, max_length=50)
    frame_width: int = Field(gt=0, le=100_000)
    frame_height: int = Field(gt=0, le=100_000)
    started_at: datetime = Field(description="Capture time of the first violating frame (UTC)")
    frame_time: datetime = Field(description="Capture time of the frame this message describes")
    ended_at: datetime | None = Field(None, description="Set on the end message")
    evidence_uri: str | None = Field(None, max_length=1000)
    evidence_missing: bool = Field(
        False, description="Evidence could not be stored (e.g. disk full)"
    )
    model: ModelInfo
    outbox_epoch: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="1.1: the edge outbox that numbered this message (new when the box's "
        "outbox is replaced); with outbox_seq, what the API confirms (contract.delivery)",
    )
    outbox_seq: int | None = Field(
        None,
        ge=1,
        le=INT32_MAX,
        description="1.1: 1, 2, 3, ... per outbox epoch over all of the site's events",
    )

    @field_validator("reason", "evidence_uri")
    @classmethod
    def _no_nul(cls, v: str | None) -> str | None:
        if v is not None and "\x00" in v:
            raise ValueError("NUL characters are not allowed in text")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> HazardEvent:
        for name in ("started_at", "frame_time", "ended_at"):
            t = getattr(self, name)
            if t is not None and t.tzinfo is None:
                raise ValueError(f"{name} must carry a time zone (use UTC)")
            if t is not None and not plausible_time(t):
                raise ValueError(f"{name} {t.isoformat()} is not a plausible capture time")
        if (self.state is EventState.START) != (self.seq == 0):
            raise ValueError("seq must be 0 exactly on the start message")
        if self.state is EventState.END and self.ended_at is None:
            raise ValueError("an end message needs ended_at")
        if self.state is not EventState.END and self.ended_at is not None:
            raise ValueError("only an end message has ended_at")
        if self.frame_time < self.started_at:
            raise ValueError("frame_time is before started_at")
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        return self

    @property
    def key(self) -> tuple[str, int]:
        """Idempotency key: a consumer that has seen (event_id, seq) ignores it again."""
        return self.event_id, self.seq

    def to_json(self) -> str:
        """The wire form: every v1.0 field (nulls included); the 1.1 delivery numbers only
        when set (the edge adds them as it sends)."""
        unset = {f for f in ("outbox_epoch", "outbox_seq") if getattr(self, f) is None}
        return self.model_dump_json(exclude_none=False, exclude=unset)


def event_json_schema() -> dict[str, Any]:
    schema = HazardEvent.model_json_schema()
    schema["$id"] = "https://siteguard.invalid/schema/hazard_event.v1.json"
    schema["title"] = "SiteGuard hazard event v1"
    return schema


def event_json_schema_text() -> str:
    return json.dumps(event_json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
