"""Workers' faces in evidence pictures: where they are, and pixelating them.

Privacy needs recall, not precision. What is detected and reported keeps the model's
operating thresholds; what is pixelated also takes the people, bare heads and hard hats the
model saw with far less confidence (down to `PrivacyConfig.min_score`), from the same
inference. A spurious box costs a pixelated patch of scaffold; a missed face is a worker
shown in the evidence (bench/privacy.py counts them on the labelled test splits).

What stays clear is the evidence: the top of each reported bare head (the hair that shows
there is no helmet) and the shell of each reported hard hat.

A face the model does not see at all (a far worker a few pixels tall, a driver in a cab)
has no box to pixelate, so a stored picture is also coarsened outside the evidence (with
faces pixelated, `blur_faces`): what is not a reported detection (with a small margin), a
violation's box or a zone the hazard is about is pixelated to `PrivacyConfig.scene_blocks`
blocks along the picture's longer side (`pixelate_scene`). The scene stays readable (a
1080p picture becomes 320 x 180 blocks of 6 px); a face up to eight blocks across (48 px
at 1080p) is as coarse there as a detected one. An unseen face inside what is kept sharp
(beside a reported worker, in the hazard's zone) stays as it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from siteguard.pipeline.detections import Detections
from siteguard.pipeline.model_card import ModelCard
from siteguard.pipeline.taxonomy import default_taxonomy
from siteguard.pipeline.tiling import tile_windows

Image = npt.NDArray[np.uint8]
Boxes = npt.NDArray[np.float32]

FACE_CLASSES = ("person", "head", "hardhat")
HEAD_KEEP_TOP = 0.3  # the top of a bare-head box stays visible: the evidence
HAT_KEEP_TOP = 0.4  # the shell of a hard hat
SIDE_MARGIN = 0.2  # detected boxes are a few pixels off at the sides
BAND_BELOW = 0.9  # the face under a flat box (a shell, the top of a head), x its width
BLOCKS_ACROSS = 8  # at most this many pixelation blocks along a region's longer side
MIN_BLOCK_PX = 8
SMALL_AT_INPUT = 48  # tiles add heads at most this many model pixels in the whole frame
PERSON_SMALL_FACTOR = 3.0  # and people at most this many times that
TILE_OVERLAP = 0.25  # neighbouring tiles share a quarter of a side: a small head is whole in one
EVIDENCE_MARGIN = 0.2  # a reported box stays sharp this share of its shorter side around it


class PrivacyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_score: float = Field(
        0.02,
        ge=0,
        le=1,
        description="People, bare heads and hard hats found at this score or more are "
        "pixelated in evidence (what is reported keeps the operating thresholds)",
    )
    still_tiles: int = Field(
        3,
        ge=1,
        le=4,
        description="Stored pictures (not clip frames) are also searched on an N x N grid "
        "of overlapping tiles for people and heads too small for the whole frame, and "
        "those are pixelated too (1 = off; 3 costs 9 more inferences per stored picture, "
        "which is taken at an event's start and updates, not on every frame)",
    )
    scene_blocks: int = Field(
        320,
        ge=0,
        le=4000,
        description="With blur_faces, stored pictures and clips are pixelated outside the "
        "evidence (the reported detections with a small margin, the violations, the zones "
        "the hazard is about) to this many blocks "
        "along the picture's longer side, for the faces the model does not see at all "
        "(320: 6 px blocks at 1080p, 2 px on a 640 px picture; 0 = off: only the faces of "
        "what was seen are pixelated)",
    )


class Detector(Protocol):
    """What `detect_with_candidates` needs: an `OnnxDetector` or a `TiledDetector`."""

    @property
    def card(self) -> ModelCard: ...

    def detect(
        self, frames: Sequence[npt.NDArray[np.uint8]], conf: float | None = None
    ) -> list[Detections]: ...


def detect_with_candidates(
    detector: Detector,
    frames: Sequence[npt.NDArray[np.uint8]],
    min_score: float = PrivacyConfig().min_score,
    conf: float | None = None,
) -> list[tuple[Detections, Detections]]:
    """One inference per frame -> (what is reported, the privacy candidates).

    The reported detections are exactly what ``detector.detect(frames, conf)`` returns
    (greedy class-aware NMS never lets a lower score suppress a higher one, so decoding at
    a lower floor and filtering afterwards keeps the same boxes); the candidates are the
    people, bare heads and hard hats at ``min_score`` or more."""
    card = detector.card
    tax = default_taxonomy()
    thresholds = {tax.id_of(c): card.threshold_for(c) for c in card.classes}
    operating = min(thresholds.values()) if conf is None else conf
    face_ids = [tax.id_of(n) for n in FACE_CLASSES]
    out = []
    for d in detector.detect(frames, conf=min(min_score, operating)):
        if conf is None:
            needed = np.array([thresholds[int(c)] for c in d.class_id], np.float32)
        else:
            needed = np.full(len(d), conf, np.float32)
        reported = d[d.confidence >= needed.reshape(-1)]
        candidates = d[np.isin(d.class_id, face_ids) & (d.confidence >= min_score)]
        out.append((reported, candidates))
    return out


def small_faces(
    detector: Detector,
    image: Image,
    grid: int,
    min_score: float = PrivacyConfig().min_score,
    lock: AbstractContextManager[object] | None = None,
) -> Detections:
    """People, bare heads and hard hats at ``min_score`` or more on a ``grid`` x ``grid``
    grid of overlapping tiles of ``image`` (frame pixels): the far ones the whole frame
    shrinks to a few pixels (a 4 MP picture letterboxed to 416 px), seen up to ``grid``
    times larger. Privacy candidates only: none of it is reported. Boxes cut by a tile's
    edge are kept (a cut face is still a face; the overlap shows it whole in a
    neighbour too). A `TiledDetector`'s own model is used, on these tiles only. With
    ``lock`` (a shared detector's), each tile's inference takes it on its own, so other
    cameras' frames go between them instead of waiting for the whole grid."""
    if grid < 2:
        return Detections.empty()
    model = getattr(detector, "detector", detector)  # a TiledDetector's OnnxDetector
    h, w = image.shape[:2]
    windows = tile_windows(w, h, grid, TILE_OVERLAP)
    crops = [image[y0:y1, x0:x1] for x0, y0, x1, y1 in windows]
    tax = default_taxonomy()
    face_ids = [tax.id_of(n) for n in FACE_CLASSES]
    # what the whole frame shows larger than SMALL_AT_INPUT model pixels was its to find: a
    # tile's view of it is a close-up whose low-score boxes would pixelate the scene
    head_max = SMALL_AT_INPUT * max(w, h) / max(getattr(model, "input_size", (416, 416)))
    limit = np.array(
        [PERSON_SMALL_FACTOR * head_max if n == "person" else head_max for n in tax.names],
        np.float32,
    )
    found: list[Detections] = []
    for crop in crops:
        with lock if lock is not None else nullcontext():
            found += model.detect([crop], conf=min_score)
    parts = []
    for (x0, y0, _x1, _y1), d in zip(windows, found, strict=True):
        side = np.maximum(d.xyxy[:, 2] - d.xyxy[:, 0], d.xyxy[:, 3] - d.xyxy[:, 1])
        d = d[np.isin(d.class_id, face_ids) & (side <= limit[d.class_id])]
        parts.append(
            Detections(d.xyxy + np.array([x0, y0, x0, y0], np.float32), d.confidence, d.class_id)
        )
    return Detections.concat(parts)


@dataclass(frozen=True)
class FaceMask:
    """Regions to pixelate and, inside them, the evidence left clear (xyxy rows)."""

    regions: Boxes
    keep: Boxes


def face_mask(
    dets: Detections, candidates: Detections | None = None, persons: bool = True
) -> FaceMask:
    """Where faces may be: in and under every bare head and hard hat, reported or
    candidate, and (with ``persons``) the head end of every person whose head is not
    boxed by a reported head or hard hat."""
    tax = default_taxonomy()
    head, hat, person = (tax.id_of(n) for n in ("head", "hardhat", "person"))
    seen = dets if candidates is None else Detections.concat([dets, candidates])
    reported_heads = dets.xyxy[dets.class_id == head]
    reported_hats = dets.xyxy[dets.class_id == hat]
    parts = [
        face_of(seen.xyxy[seen.class_id == head], HEAD_KEEP_TOP),
        face_of(seen.xyxy[seen.class_id == hat], HAT_KEEP_TOP),
    ]
    if persons:
        boxed = np.concatenate([reported_heads, reported_hats]).reshape(-1, 4)
        parts.append(person_heads(seen.xyxy[seen.class_id == person], boxed))
    return FaceMask(np.concatenate(parts).reshape(-1, 4), _top_of(reported_heads, HEAD_KEEP_TOP))


def face_of(boxes: Boxes, keep_top: float) -> Boxes:
    """The face in or under head/hard-hat boxes. Training sets draw them two ways: a box
    that holds the face (its top ``keep_top`` is the hat or the hair) and a flatter one
    that is the shell or the top of the head, the face in a band under it about as tall as
    the box is wide; a detected box may follow either, so both are covered: from
    ``keep_top`` down through the box and the band under it, with a margin at the sides."""
    out = boxes.astype(np.float32).reshape(-1, 4).copy()
    w, h = out[:, 2] - out[:, 0], out[:, 3] - out[:, 1]
    out[:, 0] -= SIDE_MARGIN * w
    out[:, 2] += SIDE_MARGIN * w
    out[:, 1] += keep_top * h
    out[:, 3] += BAND_BELOW * w
    return out


def person_heads(people: Boxes, boxed: Boxes) -> Boxes:
    """The head end of each person box without a reported head or hard hat in it: the
    top 30 % of a standing person, the top half of a crouching or cut-off one, a tenth of
    its width beyond each side (a turned head, a loose box)."""
    out = []
    cx, cy = (boxed[:, 0] + boxed[:, 2]) / 2, (boxed[:, 1] + boxed[:, 3]) / 2
    for x1, y1, x2, y2 in people:
        w, h = x2 - x1, y2 - y1
        top = y1 + (0.3 if h > 1.6 * w else 0.5) * h
        if np.any((cx >= x1) & (cx <= x2) & (cy >= y1) & (cy <= top)):
            continue  # its head is boxed: that box's face region covers it
        out.append((x1 - 0.1 * w, y1, x2 + 0.1 * w, top))
    return np.array(out, np.float32).reshape(-1, 4)


def _top_of(boxes: Boxes, share: float) -> Boxes:
    out = boxes.astype(np.float32).reshape(-1, 4).copy()
    out[:, 3] = out[:, 1] + share * (out[:, 3] - out[:, 1])
    return out


def pixelate(image: Image, regions: Boxes, keep: Boxes | None = None) -> Image:
    """Pixelate each region in place, except the ``keep`` rows inside them. Blocks grow
    with the region (at most `BLOCKS_ACROSS` along its longer side, at least
    `MIN_BLOCK_PX`): a large face gets as few blocks as a small one, and coarse blocks
    cannot be sharpened back. A region inside another one with blocks as coarse is
    skipped (the same head is often a person's top, a bare head and a hard hat at low
    scores)."""
    h, w = image.shape[:2]
    kept = [(s, image[s].copy()) for s in _slices(keep, w, h)] if keep is not None else []
    rects = [(ys, xs) for ys, xs in _slices(regions, w, h) if _side(ys) >= 2 <= _side(xs)]
    blocks = [
        max(MIN_BLOCK_PX, math.ceil(max(_side(ys), _side(xs)) / BLOCKS_ACROSS)) for ys, xs in rects
    ]
    for i in _outermost(rects, blocks):
        block = blocks[i]
        ys, xs = (_whole_blocks(s, block, n) for s, n in zip(rects[i], (h, w), strict=True))
        rh, rw = _side(ys), _side(xs)
        small = cv2.resize(  # whole blocks: OpenCV's fast integer-factor path
            image[ys, xs],
            (max(1, round(rw / block)), max(1, round(rh / block))),
            interpolation=cv2.INTER_AREA,
        )
        image[ys, xs] = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_NEAREST)
    for s, pixels in kept:
        image[s] = pixels
    return image


def _side(s: slice) -> int:
    return int(s.stop - s.start)


def _whole_blocks(s: slice, block: int, limit: int) -> slice:
    """``s`` grown to a whole number of blocks, moved back inside ``limit`` if need be
    (a picture smaller than that keeps its size)."""
    size = math.ceil(_side(s) / block) * block
    start = max(0, min(int(s.start), limit - size))
    return slice(start, min(limit, start + size))


def _outermost(rects: list[tuple[slice, slice]], blocks: list[int]) -> list[int]:
    """Indices of the regions not inside another region with blocks at least as coarse
    (of two equal ones, the first)."""
    if not rects:
        return []
    b = np.array([(xs.start, ys.start, xs.stop, ys.stop) for ys, xs in rects])
    coarse = np.array(blocks)
    inside = (
        (b[:, None, 0] >= b[None, :, 0])
        & (b[:, None, 1] >= b[None, :, 1])
        & (b[:, None, 2] <= b[None, :, 2])
        & (b[:, None, 3] <= b[None, :, 3])
        & (coarse[:, None] <= coarse[None, :])
    )
    n = len(rects)
    equal = (b[:, None, :] == b[None, :, :]).all(axis=2) & (coarse[:, None] == coarse[None, :])
    later = np.arange(n)[:, None] > np.arange(n)[None, :]
    inside &= ~equal | later  # of two equal regions keep the first
    np.fill_diagonal(inside, False)
    return [i for i in range(n) if not inside[i].any()]


def scene_block(shape: tuple[int, ...], scene_blocks: int) -> int:
    """The block side (pixels) `pixelate_scene` uses on a picture of ``shape``: the
    longer side over ``scene_blocks``, rounded up (0: no scene pass)."""
    if scene_blocks <= 0:
        return 0
    return max(1, math.ceil(max(shape[:2]) / scene_blocks))


def evidence_boxes(dets: Detections, extra: Boxes | None = None) -> Boxes:
    """What a stored picture keeps sharp: every reported box with a margin of
    `EVIDENCE_MARGIN` of its shorter side around it (a box a few pixels off still shows
    whole; a tall person's box does not grow by a fifth of its height), and the ``extra``
    boxes as they are (violations)."""
    out = dets.xyxy.astype(np.float32).reshape(-1, 4).copy()
    side = np.minimum(out[:, 2] - out[:, 0], out[:, 3] - out[:, 1]) * EVIDENCE_MARGIN
    out += np.stack([-side, -side, side, side], axis=1)
    more = np.zeros((0, 4), np.float32) if extra is None else np.asarray(extra, np.float32)
    return np.concatenate([out, more.reshape(-1, 4)])


def pixelate_scene(
    image: Image,
    block: int,
    keep: Boxes,
    keep_polygons: Sequence[npt.NDArray[np.float32]] = (),
) -> Image:
    """Pixelate all of ``image`` (in place) into ``block``-pixel blocks except the
    ``keep`` rows (xyxy) and the ``keep_polygons`` (N x 2 pixel points each, grown by a
    block so their outline stays sharp). Block 1 or less leaves the picture as it is."""
    if block <= 1:
        return image
    h, w = image.shape[:2]
    kept = [(s, image[s].copy()) for s in _slices(keep, w, h)]
    inside = None
    if len(keep_polygons):
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(
            mask, [np.round(p).astype(np.int32).reshape(-1, 1, 2) for p in keep_polygons], 1
        )
        mask = cv2.dilate(mask, np.ones((2 * block + 1, 2 * block + 1), np.uint8))
        inside = mask.astype(bool)
        sharp = image[inside]
    small = cv2.resize(
        image, (max(1, math.ceil(w / block)), max(1, math.ceil(h / block))), cv2.INTER_AREA
    )
    image[:] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    for s, pixels in kept:
        image[s] = pixels
    if inside is not None:
        image[inside] = sharp
    return image


def obscure_faces(
    image: Image,
    dets: Detections,
    candidates: Detections | None = None,
    *,
    scene_blocks: int = 0,
    evidence: Boxes | None = None,
    evidence_polygons: Sequence[npt.NDArray[np.float32]] = (),
) -> Image:
    """Pixelate the faces of ``dets`` and ``candidates`` in ``image`` (in place); with
    ``scene_blocks``, first everything outside the evidence (``dets`` and the
    ``evidence`` boxes, `evidence_boxes`, and the ``evidence_polygons``: the zones the
    hazard is about) too (`pixelate_scene`)."""
    block = scene_block(image.shape, scene_blocks)
    if block > 1:
        pixelate_scene(image, block, evidence_boxes(dets, evidence), evidence_polygons)
    mask = face_mask(dets, candidates)
    return pixelate(image, mask.regions, mask.keep)


def _slices(boxes: Boxes, w: int, h: int) -> list[tuple[slice, slice]]:
    out = []
    for x1, y1, x2, y2 in np.round(np.asarray(boxes).reshape(-1, 4)).astype(int):
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
        if x2 > x1 and y2 > y1:
            out.append((slice(y1, y2), slice(x1, x2)))
    return out
