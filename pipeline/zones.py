"""Camera zones drawn at commissioning: polygons in normalised image coordinates.

A person is *in* a zone when the bottom-centre of the box (the feet) lies inside it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from siteguard.pipeline.detections import Detections

Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class ZoneKind(StrEnum):
    EDGE = "edge"  # slab edges, openings (临边、洞口)
    SCAFFOLD = "scaffold"  # scaffold working levels (脚手架)
    EXCLUSION = "exclusion"  # machine swing / lifting areas


class Zone(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
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
        if polygon_area(np.array(v, np.float64)) < 1e-6:
            raise ValueError("zone polygon has no area (points are collinear or repeated)")
        return v

    def contains(
        self, points: npt.NDArray[np.floating], width: int, height: int
    ) -> npt.NDArray[np.bool_]:
        """Which pixel points (N, 2) lie inside this zone on a width x height frame."""
        norm = points / np.array([width, height], np.float64)
        return points_in_polygon(norm, np.array(self.polygon, np.float64))


def polygon_area(poly: npt.NDArray[np.float64]) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def points_in_polygon(
    points: npt.NDArray[np.floating], poly: npt.NDArray[np.floating]
) -> npt.NDArray[np.bool_]:
    """Even-odd ray casting for N points against an M-gon, vectorised over (N, M)."""
    if len(points) == 0:
        return np.zeros(0, bool)
    px, py = points[:, 0:1], points[:, 1:2]  # (N, 1)
    x1, y1 = poly[:, 0][None, :], poly[:, 1][None, :]  # (1, M)
    x2, y2 = np.roll(poly[:, 0], -1)[None, :], np.roll(poly[:, 1], -1)[None, :]
    straddles = (y1 > py) != (y2 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
    crossings = straddles & (px < x_cross)
    return np.asarray(crossings.sum(axis=1) % 2 == 1)


def people_in_zone(dets: Detections, zone: Zone, width: int, height: int) -> npt.NDArray[np.bool_]:
    """Mask over ``dets``: person boxes whose feet are inside ``zone``."""
    from siteguard.pipeline.taxonomy import default_taxonomy

    is_person = dets.class_id == default_taxonomy().id_of("person")
    inside = zone.contains(dets.anchors("bottom_center"), width, height)
    return np.asarray(is_person & inside)
