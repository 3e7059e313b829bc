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


def face_regions(dets: Detections, persons: bool = True) -> npt.NDArray[np.float32]:
    """Where faces are: the lower part of bare heads, just under each hard hat, and (with
    ``persons``) the head of every detected person whose head the model did not box: a
    face turned away, masked or too small for the head classes is still pixelated."""
    tax = default_taxonomy()
    heads = dets.xyxy[dets.class_id == tax.id_of("head")]
    hats = dets.xyxy[dets.class_id == tax.id_of("hardhat")]
    parts = [_face_of(heads, keep_top=0.3), _face_of(hats, keep_top=0.4)]
    if persons:
        parts.append(_person_heads(dets.xyxy[dets.class_id == tax.id_of("person")], heads, hats))
    return np.concatenate(parts).reshape(-1, 4)


def _face_of(boxes: npt.NDArray[np.float32], keep_top: float) -> npt.NDArray[np.float32]:
    """The face below or inside head/hard-hat boxes. Training sets draw them two ways: a box
    at least as tall as wide holds the face (its top ``keep_top`` stays visible: the hat or
    the bare head is the evidence); a flatter one is the shell or the top of the head, and
    the face is the band under it, about as tall as the box is wide."""
    out = boxes.copy()
    w, h = out[:, 2] - out[:, 0], out[:, 3] - out[:, 1]
    tall = h >= w
    out[:, 0] -= 0.1 * w  # a margin: boxes are a few pixels off at the edges
    out[:, 2] += 0.1 * w
    out[:, 1] += np.where(tall, keep_top * h, 0.5 * h)
    out[:, 3] += np.where(tall, 0.15 * h, 0.9 * w)
    return out


def _person_heads(
    people: npt.NDArray[np.float32], heads: npt.NDArray[np.float32], hats: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """The head end of each person box without a head or hard-hat box in its top part:
    the top quarter of a standing person (the middle 80 % of its width), the top 45 % of a
    crouching or cut-off one (its whole width)."""
    boxed = np.concatenate([heads, hats]).reshape(-1, 4)
    out = []
    for x1, y1, x2, y2 in people:
        w, h = x2 - x1, y2 - y1
        standing = h > 1.6 * w
        top = y1 + (0.25 if standing else 0.45) * h
        if len(boxed):
            cx, cy = (boxed[:, 0] + boxed[:, 2]) / 2, (boxed[:, 1] + boxed[:, 3]) / 2
            if np.any((cx >= x1) & (cx <= x2) & (cy >= y1) & (cy <= top)):
                continue  # its head is boxed: pixelated above, the hat or bare head kept
        inset = 0.1 * w if standing else 0.0
        out.append((x1 + inset, y1, x2 - inset, top))
    return np.array(out, np.float32).reshape(-1, 4)


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
