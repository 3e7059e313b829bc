"""End-to-end delivery: the API says what it has stored, the edge keeps the rest.

A broker may forget (a restart that drops shared-subscription sessions, a kill -9 before
its autosave, an API that had never subscribed), so the edge does not trust it: each
event carries ``outbox_epoch`` and ``outbox_seq`` (1, 2, 3, ... per epoch), the edge
keeps every event until the API confirms it, and re-sends what stays unconfirmed. After
storing, the API publishes a `DeliveryReceipt` (retained, QoS 1) on
``<prefix>/<site>/delivery``: everything of that epoch up to ``stored_through`` is stored
(or kept as a dead letter). ``missing_after`` says a later message arrived while one
before it did not: the edge re-sends from ``stored_through + 1`` at once.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

EPOCH_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class DeliveryReceipt(BaseModel):
    model_config = ConfigDict(extra="ignore")
    epoch: str = Field(pattern=EPOCH_PATTERN)
    stored_through: int = Field(ge=0, description="Every seq <= this is stored")
    missing_after: bool = Field(
        False, description="A later seq is stored but stored_through + 1 is not: re-send it"
    )
    at: datetime | None = None
