"""Camera zones drawn at commissioning: polygons in normalised image coordinates.

Zones are drawn in the console (or imported from the edge's site.yaml), stored by the API
and fetched by the edge; normalised coordinates make them independent of the stream's
resolution. The geometry (who stands in a zone) is the pipeline's (`pipeline.zones`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
ZONE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class ZoneKind(StrEnum):
    EDGE = "edge"  # slab edges, openings (临边、洞口)
    SCAFFOLD = "scaffold"  # scaffold working levels (脚手架)
    EXCLUSION = "exclusion"  # machine swing / lifting areas


def polygon_area(points: list[tuple[float, float]]) -> float:
    """The shoelace area of a polygon given as (x, y) points."""
    n = len(points)
    twice = sum(
        points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1]
        for i in range(n)
    )
    return abs(twice) / 2


class Zone(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=ZONE_ID)
    kind: ZoneKind
    polygon: list[tuple[Unit, Unit]] = Field(
        min_length=3, description="(x, y) in 0..1, image-relative"
    )
    protected: bool = Field(
        False, description="Protection (guardrail, net, cover) was present at commissioning"
    )

    @field_validator("polygon")
    @classmethod
    def _has_area(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if polygon_area(v) < 1e-6:
            raise ValueError("zone polygon has no area (points are collinear or repeated)")
        return v
