"""Zone geometry on frames (the zones themselves are `contract.zones`).

A person is *in* a zone when the bottom-centre of the box (the feet) lies inside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from siteguard.contract.zones import Zone

if TYPE_CHECKING:
    from siteguard.pipeline.detections import Detections


def zone_contains(
    zone: Zone, points: npt.NDArray[np.floating], width: int, height: int
) -> npt.NDArray[np.bool_]:
    """Which pixel points (N, 2) lie inside ``zone`` on a width x height frame."""
    norm = points / np.array([width, height], np.float64)
    return points_in_polygon(norm, np.array(zone.polygon, np.float64))


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
    inside = zone_contains(zone, dets.anchors("bottom_center"), width, height)
    return np.asarray(is_person & inside)
