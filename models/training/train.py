"""`siteguard train`: ultralytics training driven by a config file (training-side only)."""

from __future__ import annotations

import os
from pathlib import Path

from siteguard.models.training.train_config import TrainConfig


def train(
    config: TrainConfig,
    data_yaml: Path,
    project: Path,
    device: str | None = None,
    resume: Path | None = None,
) -> Path:
    """Train (or resume) and return the run folder holding weights/best.pt."""
    os.environ.setdefault("YOLO_OFFLINE", "1")  # never reach for hub weights or fonts
    from ultralytics import YOLO

    if resume is not None:
        model = YOLO(str(resume))
        model.train(resume=True)
        return Path(model.trainer.save_dir)
    model = YOLO(config.resolve_model())
    kwargs = dict(
        data=str(data_yaml),
        imgsz=config.imgsz,
        epochs=config.epochs,
        batch=config.batch,
        seed=config.seed,
        deterministic=True,
        workers=config.workers,
        patience=config.patience,
        cache=config.cache,
        project=str(project),
        name=config.run or config.name,
        exist_ok=True,
        plots=False,
        amp=True,
        verbose=True,
        **config.augment,
    )
    if config.time_hours:
        kwargs["time"] = config.time_hours
    if config.optimizer != "auto":
        kwargs["optimizer"] = config.optimizer
    for key in ("lr0", "warmup_epochs"):
        if getattr(config, key) is not None:
            kwargs[key] = getattr(config, key)
    if config.freeze is not None:
        kwargs["freeze"] = config.freeze
    if device is not None:
        kwargs["device"] = device
    model.train(**kwargs)
    return Path(model.trainer.save_dir)
