"""Annotated evidence images: boxes and labels, violations highlighted, faces blurred."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from siteguard.pipeline.detections import Detections
from siteguard.pipeline.rules import Violation
from siteguard.pipeline.taxonomy import default_taxonomy

Image = npt.NDArray[np.uint8]

COLOURS = {  # BGR
    "person": (200, 160, 40),
    "hardhat": (60, 200, 60),
    "head": (0, 165, 255),
    "vest": (200, 200, 0),
}
VIOLATION_COLOUR = (0, 0, 255)


def face_regions(dets: Detections) -> npt.NDArray[np.float32]:
    """Where faces are: the lower part of bare heads, and just under each hard hat."""
    tax = default_taxonomy()
    heads = dets.xyxy[dets.class_id == tax.id_of("head")].copy()
    hats = dets.xyxy[dets.class_id == tax.id_of("hardhat")].copy()
    h_heads = heads[:, 3] - heads[:, 1]
    heads[:, 1] += 0.3 * h_heads  # keep the top of the head visible: it is the evidence
    h_hats = hats[:, 3] - hats[:, 1]
    hats[:, 1] += 0.4 * h_hats
    hats[:, 3] += 0.6 * h_hats
    return np.concatenate([heads, hats]).reshape(-1, 4)


def blur_regions(image: Image, regions: npt.NDArray[np.float32]) -> Image:
    """Pixelate each region in place (coarse blocks cannot be sharpened back)."""
    h, w = image.shape[:2]
    for x1, y1, x2, y2 in np.round(regions).astype(int):
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        roi = image[y1:y2, x1:x2]
        small = cv2.resize(
            roi, (max(1, (x2 - x1) // 8), max(1, (y2 - y1) // 8)), interpolation=cv2.INTER_AREA
        )
        image[y1:y2, x1:x2] = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
    return image


def scaled(
    dets: Detections, violations: Sequence[Violation], sx: float, sy: float
) -> tuple[Detections, list[Violation]]:
    """Boxes found on one frame, placed on a larger or smaller view of the same scene (a
    camera's main stream when the analysis read its substream)."""
    k = np.array([sx, sy, sx, sy], np.float32)
    out = dataclasses.replace(dets, xyxy=dets.xyxy * k)

    def box(b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return (b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy)

    moved = [
        dataclasses.replace(
            v, box=box(v.box), person_box=box(v.person_box) if v.person_box else None
        )
        for v in violations
    ]
    return out, moved


def annotate(
    image: Image,
    dets: Detections,
    violations: Sequence[Violation] = (),
    blur_faces: bool = True,
) -> Image:
    """A copy of ``image`` with the detections drawn and violations in red."""
    out = image.copy()
    if blur_faces:
        blur_regions(out, face_regions(dets))
    thick = max(1, round(max(out.shape[:2]) / 400))
    for label, score, box in zip(dets.labels(), dets.confidence, dets.xyxy, strict=True):
        _box(out, box, COLOURS.get(label, (180, 180, 180)), f"{label} {score:.2f}", thick)
    for v in violations:
        _box(out, np.array(v.box), VIOLATION_COLOUR, f"{v.type} ({v.level.value})", thick + 1)
    return out


def _box(
    img: Image, box: npt.NDArray[np.float32], colour: tuple[int, int, int], text: str, thick: int
) -> None:
    x1, y1, x2, y2 = (round(float(v)) for v in box)
    cv2.rectangle(img, (x1, y1), (x2, y2), colour, thick)
    # text size follows the image, not the line thickness
    scale = 0.4 * max(1, round(max(img.shape[:2]) / 400))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    ty = y1 - 2 if y1 - th - base - 2 >= 0 else y2 + th + 2
    cv2.rectangle(img, (x1, ty - th - base), (x1 + tw, ty + base - 1), colour, -1)
    cv2.putText(
        img, text, (x1, ty - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
    )


def encode_jpeg(image: Image, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the evidence image as JPEG")
    return bytes(buf.tobytes())
