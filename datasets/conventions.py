"""Box conventions: how each source draws each class's boxes, measured and shown.

The shared sets draw a bare head or a helmet differently (the helmet shell only, the head
with its face, the top of the head). `measure` gives per source and class the quartiles of
box height over width in pixels, the box size in pixels and, where people are labelled (or
pseudo-labelled), the box size relative to its person's box. `write_sheets` draws sample
crops with their boxes, the mapping's redrawn box beside the original, so a person can see
what a rule does before a model is trained on it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from siteguard.datasets.build import PseudoBoxes, SourceSpec
from siteguard.datasets.importers import read_dataset
from siteguard.datasets.mapping import Box
from siteguard.pipeline.detections import box_ioa

HEAD_CLASSES = ("hardhat", "head")
PERSON_UPPER = 0.5  # a head lies in the upper half of its person box (as the no-helmet rule)
PERSON_IOA = 0.5  # at least half of the head box inside that upper part
MIN_SHEET_PX = 16  # boxes narrower than this are too small to judge on a crop


def quartiles(values: Iterable[float]) -> tuple[float, float, float] | None:
    a = np.asarray(list(values), np.float64)
    if not len(a):
        return None
    q1, q2, q3 = np.percentile(a, [25, 50, 75])
    return (round(float(q1), 3), round(float(q2), 3), round(float(q3), 3))


@dataclass
class ClassStats:
    """One source's boxes of one class: quartiles (q1, median, q3) of each measure."""

    source: str
    label: str
    boxes: int
    h_w: tuple[float, float, float] | None
    width_px: tuple[float, float, float] | None
    height_px: tuple[float, float, float] | None
    with_person: int = 0
    w_of_person: tuple[float, float, float] | None = None
    h_of_person: tuple[float, float, float] | None = None


@dataclass
class _Collected:
    h_w: list[float] = field(default_factory=list)
    w: list[float] = field(default_factory=list)
    h: list[float] = field(default_factory=list)
    w_rel: list[float] = field(default_factory=list)
    h_rel: list[float] = field(default_factory=list)


@dataclass
class SheetSample:
    image: Path
    box: Box  # as labelled (normalised xyxy)
    redrawn: Box  # after the mapping's rule (the same box when it has none)


@dataclass
class Measurement:
    stats: list[ClassStats]
    samples: dict[tuple[str, str], list[SheetSample]]

    def table(self) -> str:
        head = (
            f"{'source':26} {'class':8} {'boxes':>6}  {'h/w q1':>6} {'median':>6} {'q3':>6}"
            f"  {'w px':>5} {'h px':>5}  {'w/person':>8} {'h/person':>8} {'(n)':>6}"
        )
        rows = [head, "-" * len(head)]
        for s in self.stats:
            q = s.h_w or (0.0, 0.0, 0.0)
            wp = f"{s.width_px[1]:5.0f}" if s.width_px else f"{'':5}"
            hp = f"{s.height_px[1]:5.0f}" if s.height_px else f"{'':5}"
            rel = (
                f"{s.w_of_person[1]:8.3f} {s.h_of_person[1]:8.3f} {s.with_person:>6}"
                if s.w_of_person and s.h_of_person
                else f"{'-':>8} {'-':>8} {'':>6}"
            )
            rows.append(
                f"{s.source:26} {s.label:8} {s.boxes:>6}  {q[0]:6.2f} {q[1]:6.2f} {q[2]:6.2f}"
                f"  {wp} {hp}  {rel}"
            )
        return "\n".join(rows)

    def to_json(self) -> list[dict[str, object]]:
        return [asdict(s) for s in self.stats]


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"{path}: not a readable image")
    return int(img.shape[1]), int(img.shape[0])


def person_of(head: Box, persons: list[Box]) -> Box | None:
    """The smallest person box whose upper part holds most of ``head`` (or None)."""
    if not persons:
        return None
    p = np.asarray(persons, np.float32).reshape(-1, 4)
    upper = p.copy()
    upper[:, 3] = p[:, 1] + (p[:, 3] - p[:, 1]) * PERSON_UPPER
    ioa = box_ioa(np.asarray([head], np.float32), upper)[0]
    ok = np.flatnonzero(ioa >= PERSON_IOA)
    if not len(ok):
        return None
    areas = (p[ok, 2] - p[ok, 0]) * (p[ok, 3] - p[ok, 1])
    best = p[ok[int(np.argmin(areas))]]
    return (float(best[0]), float(best[1]), float(best[2]), float(best[3]))


def measure(
    specs: list[SourceSpec],
    pseudo_person: PseudoBoxes | None = None,
    redrawn: bool = False,
    samples_per_class: int = 30,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Measurement:
    """Box shape and size per source and class; ``redrawn`` measures after the box rules.

    Person boxes are the labelled ones, plus ``pseudo_person`` boxes (the JSON of
    `siteguard pseudo-label`) for sources whose people are not labelled exhaustively.
    Sample boxes for the sheets are drawn at random (seeded) among those at least
    ``MIN_SHEET_PX`` wide.
    """
    rng = random.Random(seed)
    collected: dict[tuple[str, str], _Collected] = {}
    samples: dict[tuple[str, str], list[SheetSample]] = {}
    seen: dict[tuple[str, str], int] = {}
    for spec in specs:
        mapping = spec.mapping
        extra_people = "person" not in mapping.complete and pseudo_person is not None
        for sample in read_dataset(spec.root, mapping):
            if progress:
                progress(1)
            if not sample.boxes:
                continue
            width, height = image_size(sample.image)
            pairs = list(zip(sample.labels, sample.boxes, strict=True))
            boxes = [(lab, mapping.redraw(lab, b) if redrawn else b, b) for lab, b in pairs]
            persons = [b for lab, b, _ in boxes if lab == "person"]
            if extra_people and pseudo_person is not None:
                persons += pseudo_person.get(str(sample.image), [])
            for label, box, original in boxes:
                key = (mapping.source, label)
                c = collected.setdefault(key, _Collected())
                w, h = (box[2] - box[0]) * width, (box[3] - box[1]) * height
                if w <= 0 or h <= 0:
                    continue
                c.h_w.append(h / w)
                c.w.append(w)
                c.h.append(h)
                if label in HEAD_CLASSES:
                    person = person_of(box, persons)
                    if person is not None:
                        c.w_rel.append((box[2] - box[0]) / max(person[2] - person[0], 1e-9))
                        c.h_rel.append((box[3] - box[1]) / max(person[3] - person[1], 1e-9))
                if (original[2] - original[0]) * width >= MIN_SHEET_PX:
                    _reservoir(
                        samples.setdefault(key, []),
                        SheetSample(sample.image, original, mapping.redraw(label, original)),
                        seen,
                        key,
                        samples_per_class,
                        rng,
                    )
    stats = [
        ClassStats(
            source=src,
            label=label,
            boxes=len(c.h_w),
            h_w=quartiles(c.h_w),
            width_px=quartiles(c.w),
            height_px=quartiles(c.h),
            with_person=len(c.w_rel),
            w_of_person=quartiles(c.w_rel),
            h_of_person=quartiles(c.h_rel),
        )
        for (src, label), c in sorted(collected.items())
    ]
    return Measurement(stats, samples)


def _reservoir(
    bucket: list[SheetSample],
    item: SheetSample,
    seen: dict[tuple[str, str], int],
    key: tuple[str, str],
    k: int,
    rng: random.Random,
) -> None:
    n = seen.get(key, 0) + 1
    seen[key] = n
    if len(bucket) < k:
        bucket.append(item)
    else:
        j = rng.randrange(n)
        if j < k:
            bucket[j] = item


LABELLED = (0, 200, 0)  # BGR: the box as the source drew it
REDRAWN = (255, 0, 255)  # the box after the mapping's rule


def crop_tile(image: np.ndarray, sample: SheetSample, size: int = 128) -> np.ndarray:
    """A square tile around the box and its redrawn box (2.2 times their size), the labelled
    box green, the redrawn box magenta where the rule moved it."""
    h, w = image.shape[:2]
    both = (*sample.box, *sample.redrawn)
    x1, x2 = min(both[0], both[4]) * w, max(both[2], both[6]) * w
    y1, y2 = min(both[1], both[5]) * h, max(both[3], both[7]) * h
    side = max(x2 - x1, y2 - y1) * 2.2
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = round(cx - side / 2), round(cy - side / 2)
    s = max(round(side), 1)
    canvas = np.zeros((s, s, 3), np.uint8)
    sx1, sy1, sx2, sy2 = max(left, 0), max(top, 0), min(left + s, w), min(top + s, h)
    if sx2 > sx1 and sy2 > sy1:
        canvas[sy1 - top : sy2 - top, sx1 - left : sx2 - left] = image[sy1:sy2, sx1:sx2]
    scale = size / s
    tile = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)

    def draw(box: Box, colour: tuple[int, int, int]) -> None:
        p1 = (round((box[0] * w - left) * scale), round((box[1] * h - top) * scale))
        p2 = (round((box[2] * w - left) * scale), round((box[3] * h - top) * scale))
        cv2.rectangle(tile, p1, p2, colour, 1)

    if sample.redrawn != sample.box:
        draw(sample.redrawn, REDRAWN)
    draw(sample.box, LABELLED)
    return tile


def write_sheets(
    measurement: Measurement, out: Path, columns: int = 6, size: int = 128
) -> list[Path]:
    """One PNG contact sheet per source and class: ``out/<source>__<class>.png``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for (source, label), items in sorted(measurement.samples.items()):
        tiles = []
        for item in items:
            img = cv2.imread(str(item.image))
            if img is None:
                raise ValueError(f"{item.image}: not a readable image")
            tiles.append(crop_tile(img, item, size))
        rows = []
        for i in range(0, len(tiles), columns):
            row = tiles[i : i + columns]
            row += [np.zeros_like(tiles[0])] * (columns - len(row))
            rows.append(np.hstack(row))
        sheet = np.vstack(rows)
        path = out / f"{source}__{label}.png"
        cv2.imwrite(str(path), sheet)
        written.append(path)
    return written


def load_pseudo(path: Path) -> PseudoBoxes:
    raw = json.loads(path.read_text())
    return {k: [tuple(b) for b in v] for k, v in raw.items()}
