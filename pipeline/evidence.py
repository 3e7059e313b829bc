"""Annotated evidence images: boxes and labels in the reader's language, violations
highlighted, faces pixelated (`pipeline/privacy.py`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from siteguard.pipeline.detections import Detections
from siteguard.pipeline.labels import (
    LabelLang,
    LabelPainter,
    detection_text,
    label_painter,
    violation_text,
)
from siteguard.pipeline.privacy import face_mask, obscure_faces, pixelate
from siteguard.pipeline.rules import Violation

Image = npt.NDArray[np.uint8]

COLOURS = {  # BGR
    "person": (200, 160, 40),
    "hardhat": (60, 200, 60),
    "head": (0, 165, 255),
    "vest": (200, 200, 0),
}
VIOLATION_COLOUR = (0, 0, 255)


def face_regions(dets: Detections, persons: bool = True) -> npt.NDArray[np.float32]:
    """Where the faces of ``dets`` are (`privacy.face_mask`'s regions): in and under
    every bare head and hard hat, and (with ``persons``) the head end of every person
    whose head is not boxed."""
    return face_mask(dets, persons=persons).regions


def blur_regions(image: Image, regions: npt.NDArray[np.float32]) -> Image:
    """Pixelate each region in place (coarse blocks cannot be sharpened back)."""
    return pixelate(image, regions)


def scaled_detections(dets: Detections, sx: float, sy: float) -> Detections:
    """Boxes found on one frame, placed on a larger or smaller view of the same scene."""
    return dataclasses.replace(dets, xyxy=dets.xyxy * np.array([sx, sy, sx, sy], np.float32))


def scaled(
    dets: Detections, violations: Sequence[Violation], sx: float, sy: float
) -> tuple[Detections, list[Violation]]:
    """Boxes found on one frame, placed on a larger or smaller view of the same scene (a
    camera's main stream when the analysis read its substream)."""

    def box(b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return (b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy)

    moved = [
        dataclasses.replace(
            v, box=box(v.box), person_box=box(v.person_box) if v.person_box else None
        )
        for v in violations
    ]
    return scaled_detections(dets, sx, sy), moved


def annotate(
    image: Image,
    dets: Detections,
    violations: Sequence[Violation] = (),
    blur_faces: bool = True,
    *,
    candidates: Detections | None = None,
    lang: LabelLang = "zh",
    painter: LabelPainter | None = None,
    scene_blocks: int = 0,
    evidence_polygons: Sequence[npt.NDArray[np.float32]] = (),
) -> Image:
    """A copy of ``image`` with the detections drawn and violations in red, labelled in
    ``lang`` (English when the label font is missing). With ``blur_faces`` the faces of
    ``dets`` and of the privacy ``candidates`` (`privacy.detect_with_candidates`: people
    and heads seen below the operating thresholds) are pixelated first, and with
    ``scene_blocks`` everything but the evidence (the detections, a violation's box being
    its detection's, and the ``evidence_polygons``: the zones the hazard is about) is
    coarsened (`privacy.pixelate_scene`)."""
    out = as_bgr(image)
    if blur_faces:
        obscure_faces(
            out, dets, candidates, scene_blocks=scene_blocks, evidence_polygons=evidence_polygons
        )
    paint = painter or label_painter()
    thick = max(1, round(max(out.shape[:2]) / 400))
    shown = {v.detection_index for v in violations}  # their label says more
    for i, (label, score, box) in enumerate(
        zip(dets.labels(), dets.confidence, dets.xyxy, strict=True)
    ):
        if i in shown:
            cv2.rectangle(out, *_corners(box), COLOURS.get(label, (180, 180, 180)), thick)
            continue
        paint.draw(
            out,
            box,
            COLOURS.get(label, (180, 180, 180)),
            detection_text(label, float(score), lang),
            thick,
            fallback=detection_text(label, float(score), "en"),
        )
    for v in violations:
        paint.draw(
            out,
            np.array(v.box, np.float32),
            VIOLATION_COLOUR,
            violation_text(v.type, v.level, lang),
            thick + 1,
            fallback=violation_text(v.type, v.level, "en"),
        )
    return out


def as_bgr(image: Image) -> Image:
    """A 3-channel BGR copy of ``image``: grey and BGRA pictures are drawn on in colour."""
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image.copy()


def _corners(box: npt.NDArray[np.float32]) -> tuple[tuple[int, int], tuple[int, int]]:
    x1, y1, x2, y2 = (round(float(v)) for v in box)
    return (x1, y1), (x2, y2)


def encode_jpeg(image: Image, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the evidence image as JPEG")
    return bytes(buf.tobytes())
