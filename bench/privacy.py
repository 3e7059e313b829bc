"""How many faces stored evidence leaves clear, on labelled site images held out from
training (the test split, seed 0, of each shared set).

For every labelled bare head and hard hat, its face region follows the set's box
convention: the lower 55 % of a box that holds the face (at least as tall as wide), else
the band under the box (a hard-hat shell, the top of a head), 0.8 of its width tall. The
detector runs once per image at the lowest score asked for; the pixelation of each rule is
computed from its detections, and a face counts as clear when less than half of its region
is pixelated (the evidence left clear inside a region, the top of a reported bare head or
hard hat, counts as clear). Printed per source, side by side in one run:

* ``previous``: the rule shipped until 2026-12-02 (face by the box's shape, and the head
  end of detected people whose head was not boxed), operating thresholds;
* ``geometry``: the shipped rule's regions (`pipeline/privacy.py`) from the reported
  detections only (operating thresholds);
* ``>= S``: the shipped rule with the people, heads and hard hats found at score S or more
  (``--min-scores``; the product's default `PrivacyConfig.min_score` is marked ``*``);
* ``+ tiles N``: that, plus the people, heads and hard hats found at the shipped score on
  an N x N grid of tiles (``--tiles``; `privacy.small_faces`, what stored pictures get:
  `PrivacyConfig.still_tiles`, marked ``*``; clip frames and the live view do not);
* ``+ scene B``: that (the shipped tiles), plus the scene outside the evidence (each
  reported box and a margin, `privacy.evidence_boxes`) coarsened to B blocks along the
  picture's longer side (``--scene``; `PrivacyConfig.scene_blocks`, marked ``*``). A face
  counts as covered by the scene only when it is at most `privacy.BLOCKS_ACROSS` blocks
  across (as coarse as a detected face is pixelated); a larger one must be covered by its
  own region. Its ``area`` is the face regions' share; ``scene`` the coarsened share.

Each column: faces left clear (share of all faces), and in brackets those of heads at
least ``--identifiable`` pixels tall or wide; ``area``: the mean share of each picture
that is pixelated (what over-pixelation costs the evidence); ``ms``: the mean time to
compute and pixelate the regions on the image as it is and scaled to fit 1920 x 1080.

    python bench/privacy.py [--model M] [--per-source 120] [--min-scores 0.1,0.05,0.02]
                            [--tiles 2,3] [--scene 160,320,640] [--dump DIR]

``--dump DIR`` writes each face the last rule leaves clear, cropped with its surroundings
from the pixelated picture (its region outlined), to look at what is left.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from siteguard.datasets.importers import read_dataset
from siteguard.datasets.mapping import load_mapping
from siteguard.datasets.split import split_of
from siteguard.models.registry import resolve_model
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.evidence import encode_jpeg
from siteguard.pipeline.privacy import (
    BLOCKS_ACROSS,
    FaceMask,
    PrivacyConfig,
    detect_with_candidates,
    evidence_boxes,
    face_mask,
    pixelate,
    pixelate_scene,
    scene_block,
    small_faces,
)
from siteguard.pipeline.taxonomy import default_taxonomy

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


def previous(dets: Detections) -> FaceMask:
    """The rule shipped until 2026-12-02: the face inside a head/hard-hat box at least as
    tall as wide (below its top 30/40 %), else the band under it (0.9 of its width), 10 %
    margins; the head end of each person without a head or hard hat in its top part."""
    tax = default_taxonomy()
    heads = dets.xyxy[dets.class_id == tax.id_of("head")]
    hats = dets.xyxy[dets.class_id == tax.id_of("hardhat")]

    def face(boxes: np.ndarray, keep_top: float) -> np.ndarray:
        out = boxes.copy()
        w, h = out[:, 2] - out[:, 0], out[:, 3] - out[:, 1]
        tall = h >= w
        out[:, 0] -= 0.1 * w
        out[:, 2] += 0.1 * w
        out[:, 1] += np.where(tall, keep_top * h, 0.5 * h)
        out[:, 3] += np.where(tall, 0.15 * h, 0.9 * w)
        return out

    boxed = np.concatenate([heads, hats]).reshape(-1, 4)
    cx, cy = (boxed[:, 0] + boxed[:, 2]) / 2, (boxed[:, 1] + boxed[:, 3]) / 2
    people = []
    for x1, y1, x2, y2 in dets.xyxy[dets.class_id == tax.id_of("person")]:
        w, h = x2 - x1, y2 - y1
        standing = h > 1.6 * w
        top = y1 + (0.25 if standing else 0.45) * h
        if np.any((cx >= x1) & (cx <= x2) & (cy >= y1) & (cy <= top)):
            continue
        inset = 0.1 * w if standing else 0.0
        people.append((x1 + inset, y1, x2 - inset, top))
    regions = np.concatenate(
        [face(heads, 0.3), face(hats, 0.4), np.array(people, np.float32).reshape(-1, 4)]
    )
    return FaceMask(regions, np.zeros((0, 4), np.float32))


def pixelated_mask(mask: FaceMask, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    out = np.zeros((h, w), bool)
    for boxes, value in ((mask.regions, True), (mask.keep, False)):
        for x1, y1, x2, y2 in np.clip(np.round(boxes), 0, [w, h, w, h]).astype(int):
            out[y1:y2, x1:x2] = value
    return out


def covered(face: np.ndarray, pixelated: np.ndarray) -> float:
    h, w = pixelated.shape
    x1, y1, x2, y2 = np.clip(np.round(face), 0, [w, h, w, h]).astype(int)
    if x2 <= x1 or y2 <= y1:
        return 1.0  # outside the picture: nothing to show
    return float(pixelated[y1:y2, x1:x2].mean())


def cost_ms(image: np.ndarray, dets: Detections, candidates: Detections) -> list[float]:
    """Milliseconds to compute the regions and pixelate them: the image as it is, and
    scaled to fit 1920 x 1080 (a main-stream picture); then, for scale, the JPEG encoding
    of that picture."""
    out = []
    h, w = image.shape[:2]
    for k in (1.0, min(1920 / w, 1080 / h)):
        img = cv2.resize(image, None, fx=k, fy=k) if k != 1 else image.copy()
        d, c = (_scaled(x, k) for x in (dets, candidates))
        t0 = time.perf_counter()
        mask = face_mask(d, c)
        pixelate(img, mask.regions, mask.keep)
        out.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    encode_jpeg(img)
    out.append((time.perf_counter() - t0) * 1000)
    return out


def _scaled(d: Detections, k: float) -> Detections:
    return Detections(d.xyxy * k, d.confidence, d.class_id)


def dump(
    folder: Path,
    source: str,
    stem: str,
    image: np.ndarray,
    mask: FaceMask,
    face: np.ndarray,
    scene: tuple[int, np.ndarray] | None = None,
) -> None:
    """The clear face in its surroundings, as the pixelated picture shows it (with
    ``scene``, (block, evidence boxes), the scene pass first), outlined."""
    out = image.copy()
    if scene is not None:
        pixelate_scene(out, *scene)
    out = pixelate(out, mask.regions, mask.keep)
    x1, y1, x2, y2 = (int(v) for v in np.round(face))
    cv2.rectangle(out, (x1, y1), (x2, y2), (0, 0, 255), 1)
    h, w = out.shape[:2]
    pad = max(40, 2 * max(x2 - x1, y2 - y1))
    crop = out[max(0, y1 - pad) : min(h, y2 + pad), max(0, x1 - pad) : min(w, x2 + pad)]
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{source}-{stem}-{x1}-{y1}-{x2 - x1}x{y2 - y1}.png"
    cv2.imwrite(
        str(folder / name),
        cv2.resize(crop, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
        if crop.shape[0] < 150
        else crop,
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default=None)
    ap.add_argument("--per-source", type=int, default=120)
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--min-scores", default="0.1,0.05,0.02")
    ap.add_argument("--identifiable", type=int, default=10, help="pixels (default 10)")
    ap.add_argument("--tiles", default="2,3", help="tile grids to add (comma-separated)")
    ap.add_argument("--scene", default="160,320,640", help="scene blocks to add (comma-separated)")
    ap.add_argument("--dump", type=Path, default=None, help="write the clear faces' crops here")
    args = ap.parse_args()
    scores = [float(s) for s in args.min_scores.split(",")]
    grids = [int(g) for g in args.tiles.split(",") if g.strip()]
    shipped, shipped_grid = PrivacyConfig().min_score, PrivacyConfig().still_tiles
    det = OnnxDetector(resolve_model(args.model), provider="cpu")
    rules = ["previous", "geometry", *(f">= {s:g}{'*' if s == shipped else ''}" for s in scores)]
    tiled = [f"+ tiles {g}{'*' if g == shipped_grid else ''}" for g in grids]
    rules += tiled
    shipped_scene = PrivacyConfig().scene_blocks
    scenes = [int(b) for b in args.scene.split(",") if b.strip()]
    sceneful = [f"+ scene {b}{'*' if b == shipped_scene else ''}" for b in scenes]
    rules += sceneful
    print(f"model {det.card.name} {det.card.version}; test split (seed 0) of each set")
    print(f"faces clear (share) [clear of heads >= {args.identifiable} px]; area pixelated")
    for mapping_file in sorted(MAPPINGS.glob("*.yaml")):
        mapping = load_mapping(mapping_file)
        root = args.data / mapping.source
        if not root.is_dir():
            print(f"{mapping.source:<26} (not found under {args.data})")
            continue
        samples = [s for s in read_dataset(root, mapping) if split_of(s.group, 0) == "test"]
        samples = samples[: args.per_source]
        faces = big = 0
        clear = dict.fromkeys(rules, 0)
        clear_big = dict.fromkeys(rules, 0)
        area = dict.fromkeys(rules, 0.0)
        scene_area = dict.fromkeys(sceneful, 0.0)
        ms: list[list[float]] = []
        tile_ms: dict[int, list[float]] = {}
        for sample in samples:
            image = cv2.imread(str(sample.image))
            if image is None:
                continue
            h, w = image.shape[:2]
            # one inference at the lowest score; the other columns are subsets of it
            dets, lowest = detect_with_candidates(det, [image], min(scores))[0]
            masks = {"previous": previous(dets), "geometry": face_mask(dets)}
            for rule, s in zip(rules[2 : 2 + len(scores)], scores, strict=True):
                masks[rule] = face_mask(dets, lowest[lowest.confidence >= s])
            at_shipped = lowest[lowest.confidence >= shipped]
            for rule, g in zip(tiled, grids, strict=True):
                t0 = time.perf_counter()
                small = small_faces(det, image, g, shipped)
                tile_ms.setdefault(g, []).append((time.perf_counter() - t0) * 1000)
                masks[rule] = face_mask(dets, Detections.concat([at_shipped, small]))
            if min(scores) <= shipped:
                ms.append(cost_ms(image, dets, lowest[lowest.confidence >= shipped]))
            # the scene rows add to the shipped tiles' regions (or the last rule's)
            base = next((r for r in tiled if r.endswith("*")), rules[len(rules) - len(scenes) - 1])
            for rule in sceneful:
                masks[rule] = masks[base]
            pixelated = {r: pixelated_mask(m, (h, w)) for r, m in masks.items()}
            for r in rules:
                area[r] += float(pixelated[r].mean())
            outside = ~pixelated_mask(FaceMask(evidence_boxes(dets), np.zeros((0, 4))), (h, w))
            scene_cover = {}
            for rule, b in zip(sceneful, scenes, strict=True):
                block = scene_block((h, w), b)
                scene_cover[rule] = (outside if block > 1 else np.zeros_like(outside), block)
                scene_area[rule] += float(scene_cover[rule][0].mean())
            for label, box in zip(sample.labels, sample.boxes, strict=True):
                if label not in ("head", "hardhat"):
                    continue
                b = np.array(box) * [w, h, w, h]
                face = face_of(b)
                faces += 1
                identifiable = max(b[2] - b[0], b[3] - b[1]) >= args.identifiable
                big += identifiable
                side = max(face[2] - face[0], face[3] - face[1])
                for r in rules:
                    cover = pixelated[r]
                    if r in scene_cover and side <= BLOCKS_ACROSS * scene_cover[r][1]:
                        cover = cover | scene_cover[r][0]
                    is_clear = covered(face, cover) < 0.5
                    clear[r] += is_clear
                    clear_big[r] += is_clear and identifiable
                    if is_clear and r == rules[-1] and args.dump is not None:
                        scene = (
                            (scene_cover[r][1], evidence_boxes(dets)) if r in scene_cover else None
                        )
                        dump(
                            args.dump,
                            mapping.source,
                            sample.image.stem,
                            image,
                            masks[r],
                            face,
                            scene,
                        )
        n = max(len(samples), 1)
        print(
            f"\n{mapping.source}: {len(samples)} images, {faces} faces ({big} >= "
            f"{args.identifiable} px)"
        )
        for r in rules:
            print(
                f"  {r:<10} {clear[r]:4d} ({clear[r] / max(faces, 1):5.1%}) "
                f"[{clear_big[r]:3d}]  area {area[r] / n:5.1%}"
                + (f"  scene {scene_area[r] / n:5.1%}" if r in scene_area else ""),
                flush=True,
            )
        if ms:
            a, b, jpeg = np.mean(ms, axis=0)
            print(
                f"  pixelation (shipped rule): {a:.2f} ms/image as is, {b:.2f} ms at 1080p "
                f"(JPEG encoding at 1080p: {jpeg:.2f} ms)"
            )
        for g, times in tile_ms.items():
            print(f"  tiles {g}x{g}: {np.mean(times):.0f} ms/picture ({g * g} inferences)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
