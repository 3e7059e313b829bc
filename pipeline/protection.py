"""Protection integrity against the commissioned reference view.

Nothing in the training data labels guardrails, nets or covers, so protection is checked
the way an inspector compares two photos: at commissioning the camera's view of each
protected zone is stored; live frames are compared on the *structure* inside the zone
(edges of rails, toe boards, net meshes), not on colours, with people and machines masked
out. The score is the share of the reference's structure pixels that still have structure
nearby in the live frame: rails taken away -> their edges vanish -> the score drops.

What this measures, honestly: "the lines that were there at commissioning are still
there". It cannot tell a rail from any other fixed structure, it needs a fixed camera
(small shake is tolerated), and a zone mostly hidden by people yields no verdict (None).
A trained guardrail detector, when one is configured, replaces or backs this check.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from siteguard.pipeline.detections import Detections
from siteguard.pipeline.taxonomy import default_taxonomy
from siteguard.pipeline.zones import points_in_polygon

Image = npt.NDArray[np.uint8]


class ProtectionCheckConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_score: float = Field(0.45, ge=0, le=1, description="Below this, protection counts as gone")
    max_occluded: float = Field(0.6, ge=0, le=1, description="More of the zone hidden: no verdict")
    tolerance_px: int = Field(3, ge=0, le=20, description="Camera shake tolerated, in pixels")
    min_reference_edges: int = Field(
        50, ge=1, description="A reference with fewer edge pixels is refused"
    )
    mode: Literal["reference", "detector", "both"] = Field(
        "reference",
        description="reference: compare with the commissioned view; detector: a model with "
        "guardrail/safety_net classes must see protection in the zone; both: missing only "
        "when both agree (fewer false alarms)",
    )


def zone_mask(shape: tuple[int, int], polygon: list[tuple[float, float]]) -> npt.NDArray[np.bool_]:
    h, w = shape
    pts = np.round(np.array(polygon, np.float64) * [w - 1, h - 1]).astype(np.int32)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [pts], 1)
    return mask.astype(bool)


def structure(image: Image) -> npt.NDArray[np.bool_]:
    """Edges of real structure: smoothed first, so texture and sensor noise do not count,
    with fixed gradient thresholds, so a brightness change moves no edge."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    grey = cv2.GaussianBlur(grey, (5, 5), 1.5)
    return np.asarray(cv2.Canny(grey, 40, 100) > 0)


class ProtectionReference:
    """The commissioned view of one zone."""

    def __init__(
        self,
        reference: Image,
        polygon: list[tuple[float, float]],
        config: ProtectionCheckConfig | None = None,
    ) -> None:
        self.config = config or ProtectionCheckConfig()
        self.shape = reference.shape[:2]
        self.mask = zone_mask(self.shape, polygon)
        self.edges = structure(reference) & self.mask
        if int(self.edges.sum()) < self.config.min_reference_edges:
            raise ValueError(
                f"the reference view shows almost no structure in this zone "
                f"({int(self.edges.sum())} edge pixels): re-commission with the protection visible"
            )

    def live_structure(self, live: Image) -> npt.NDArray[np.bool_]:
        """The live frame's structure at the reference size, widened by the shake tolerance.
        Zones of one camera share it: compute once per frame, pass to `score`."""
        if live.shape[:2] != self.shape:
            live = cv2.resize(live, (self.shape[1], self.shape[0]), interpolation=cv2.INTER_AREA)
        k = 2 * self.config.tolerance_px + 1
        return np.asarray(
            cv2.dilate(structure(live).astype(np.uint8), np.ones((k, k), np.uint8)) > 0
        )

    def score(
        self,
        live: Image,
        occluders: npt.NDArray[np.floating] | None = None,
        near: npt.NDArray[np.bool_] | None = None,
    ) -> float | None:
        """Share of the reference structure still present (0..1), or None if mostly hidden.

        ``occluders``: (N, 4) boxes in live-frame pixels (people, machines) left out of the
        comparison. ``near``: `live_structure(live)` when already computed for this frame.
        """
        visible = self.mask.copy()
        if occluders is not None and len(occluders):
            h, w = self.shape
            sx, sy = w / live.shape[1], h / live.shape[0]  # live pixels -> reference pixels
            boxes = np.asarray(occluders, np.float64) * np.array([sx, sy, sx, sy])
            for x1, y1, x2, y2 in np.round(boxes).astype(int):
                visible[max(0, y1) : min(h, y2), max(0, x1) : min(w, x2)] = False
        ref = self.edges & visible
        if self.mask.sum() == 0 or visible.sum() / self.mask.sum() < 1 - self.config.max_occluded:
            return None
        if ref.sum() < self.config.min_reference_edges // 2:
            return None
        if near is None:
            near = self.live_structure(live)
        return float((ref & near).sum() / ref.sum())

    def missing(
        self, live: Image, occluders: npt.NDArray[np.floating] | None = None
    ) -> bool | None:
        s = self.score(live, occluders)
        return None if s is None else s < self.config.min_score


PROTECTION_CLASSES = ("guardrail", "safety_net")


def protection_seen(
    dets: Detections, polygon: list[tuple[float, float]], width: int, height: int
) -> bool:
    """Does a trained protection detector see a guardrail or safety net in the zone
    (a detection whose box centre lies inside the zone polygon)?"""
    tax = default_taxonomy()
    rows = np.isin(dets.class_id, [tax.id_of(n) for n in PROTECTION_CLASSES])
    if not rows.any():
        return False
    centres = dets[rows].anchors("center") / np.array([width, height], np.float64)
    return bool(points_in_polygon(centres, np.array(polygon, np.float64)).any())
