"""How many faces stored evidence leaves clear, on labelled site images held out from
training (the test split, seed 0, of each shared set).

For every labelled bare head and hard hat, its face region follows the set's box
convention: the lower 55 % of a box that holds the face (at least as tall as wide), else
the band under the box (a hard-hat shell, the top of a head), 0.8 of its width tall. The
detector runs on the image, the evidence's pixelation regions are computed from its
detections (`pipeline/evidence.py`), and a face counts as clear when less than half of its
region is pixelated. Printed per
source: faces, clear (share), for the pixelation of detected bare heads and hard hats only
and for the shipped rule that adds the head end of every detected person whose head was
not boxed.

    python bench/privacy.py [--model M] [--per-source 150]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from siteguard.datasets.importers import read_dataset
from siteguard.datasets.mapping import load_mapping
from siteguard.datasets.split import split_of
from siteguard.models.registry import resolve_model
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.evidence import face_regions

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
MAPPINGS = Path(__file__).resolve().parents[1] / "datasets" / "mappings"


def face_of(box: np.ndarray) -> np.ndarray:
    """The labelled head's face: inside a box that holds it (at least as tall as wide:
    Hard Hat Workers, helmet-workwear bare heads), else the band under the box (hard-hat
    shells, Construction Site Safety's tops of heads), as tall as the box is wide."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    if h >= w:
        return np.array([x1, y1 + 0.45 * h, x2, y2])
    return np.array([x1, y2, x2, y2 + 0.8 * w])


def before_this_change(dets) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The rule shipped until 2026-12-02: the lower 70 % of head boxes, and from 40 % down
    a hard hat's box to 0.6 of its height below it; people without a head box not at all."""
    from siteguard.pipeline.taxonomy import default_taxonomy

    tax = default_taxonomy()
    heads = dets.xyxy[dets.class_id == tax.id_of("head")].copy()
    hats = dets.xyxy[dets.class_id == tax.id_of("hardhat")].copy()
    heads[:, 1] += 0.3 * (heads[:, 3] - heads[:, 1])
    h = hats[:, 3] - hats[:, 1]
    hats[:, 1] += 0.4 * h
    hats[:, 3] += 0.6 * h
    return np.concatenate([heads, hats]).reshape(-1, 4)


def covered(face: np.ndarray, regions: np.ndarray, shape: tuple[int, int]) -> float:
    h, w = shape
    x1, y1, x2, y2 = np.clip(np.round(face), 0, [w, h, w, h]).astype(int)
    if x2 <= x1 or y2 <= y1:
        return 1.0  # outside the picture: nothing to show
    mask = np.zeros((y2 - y1, x2 - x1), bool)
    for rx1, ry1, rx2, ry2 in np.round(regions).astype(int):
        mask[max(ry1 - y1, 0) : max(ry2 - y1, 0), max(rx1 - x1, 0) : max(rx2 - x1, 0)] = True
    return float(mask.mean())


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default=None)
    ap.add_argument("--per-source", type=int, default=150)
    ap.add_argument("--data", type=Path, default=SHARED)
    args = ap.parse_args()
    det = OnnxDetector(resolve_model(args.model), provider="cpu")
    print(f"model {det.card.name} {det.card.version}; test split (seed 0) of each set")
    print(
        f"{'source':<26} {'images':>6} {'faces':>6} {'clear: before':>14} "
        f"{'heads only':>13} {'shipped':>13}"
    )
    for mapping_file in sorted(MAPPINGS.glob("*.yaml")):
        mapping = load_mapping(mapping_file)
        root = args.data / mapping.source
        if not root.is_dir():
            print(f"{mapping.source:<26} (not found under {args.data})")
            continue
        samples = [s for s in read_dataset(root, mapping) if split_of(s.group, 0) == "test"]
        samples = samples[: args.per_source]
        faces = clear_before = clear_old = clear_new = 0
        for sample in samples:
            image = cv2.imread(str(sample.image))
            if image is None:
                continue
            h, w = image.shape[:2]
            dets = det.detect([image])[0]
            before = before_this_change(dets)
            old = face_regions(dets, persons=False)
            new = face_regions(dets)
            for label, box in zip(sample.labels, sample.boxes, strict=True):
                if label not in ("head", "hardhat"):
                    continue
                face = face_of(np.array(box) * [w, h, w, h])
                faces += 1
                clear_before += covered(face, before, (h, w)) < 0.5
                clear_old += covered(face, old, (h, w)) < 0.5
                clear_new += covered(face, new, (h, w)) < 0.5
        print(
            f"{mapping.source:<26} {len(samples):6d} {faces:6d} "
            f"{clear_before:5d} ({clear_before / max(faces, 1):5.1%}) "
            f"{clear_old:5d} ({clear_old / max(faces, 1):5.1%}) "
            f"{clear_new:5d} ({clear_new / max(faces, 1):5.1%})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
