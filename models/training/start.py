"""Starting checkpoints: a pretrained model of another task (YOLO11n-pose, say) turned into
a detector of the dataset's classes before training, so that every tensor whose name and
shape fit is taken (493 of 499 for YOLO11n-pose into a 4-class YOLO11n; loading it into
ultralytics' default 80-class head instead keeps 448). A detection checkpoint is used as
it is: training re-sizes its head. Training-side code: imports torch and ultralytics."""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from pathlib import Path

from siteguard.models.training import ultralytics_offline


def detector_start(src: Path, dst: Path, nc: int, arch: str) -> str:
    """Write the starting checkpoint for an ``nc``-class ``arch`` (e.g. yolo11n.yaml)
    detector to ``dst`` from the weights in ``src``; return what was done, for the log."""
    ultralytics_offline()
    import torch
    from ultralytics import __version__
    from ultralytics.nn.tasks import DetectionModel, attempt_load_one_weight

    weights, ckpt = attempt_load_one_weight(str(src))
    head = type(weights.model[-1]).__name__  # Detect, Pose, Segment...: the last layer
    task = "detect" if head in ("Detect", "v10Detect") else head.lower()
    if task == "detect":
        dst.write_bytes(Path(src).read_bytes())
        classes = len(weights.names)
        return f"{task} checkpoint used as it is ({classes} classes; training re-sizes to {nc})"
    model = DetectionModel(arch, nc=nc, verbose=False)
    theirs, ours = weights.float().state_dict(), model.state_dict()
    common = {k: v for k, v in theirs.items() if k in ours and v.shape == ours[k].shape}
    model.load_state_dict(common, strict=False)
    torch.save(
        {
            "model": deepcopy(model).half(),
            "train_args": {},
            "date": datetime.now().isoformat(),
            "version": __version__,
            "license": ckpt.get("license", "AGPL-3.0 (Ultralytics)"),
        },
        dst,
    )
    return (
        f"{task} checkpoint converted to a {arch} detector: {len(common)}/{len(ours)} tensors taken"
    )
