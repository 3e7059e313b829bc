"""`siteguard train`: ultralytics training driven by a config file (training-side only)."""

from __future__ import annotations

from pathlib import Path

from siteguard.models.training import ultralytics_offline
from siteguard.models.training.train_config import TrainConfig


def train(
    config: TrainConfig,
    data_yaml: Path,
    project: Path,
    device: str | None = None,
    resume: Path | None = None,
) -> Path:
    """Train (or resume) and return the run folder holding weights/best.pt."""
    ultralytics_offline()
    from ultralytics import YOLO

    if resume is not None:
        model = YOLO(str(resume))
        model.train(resume=True)
        return Path(model.trainer.save_dir)
    arch = config.resolve_model()
    run_dir = Path(project) / (config.run or config.name)
    if (weights := config.resolve_pretrained()) is not None:
        # another task's weights (e.g. YOLO11n-pose) as a detector of this data's classes
        import yaml

        from siteguard.models.training.start import detector_start

        nc = len(yaml.safe_load(Path(data_yaml).read_text("utf-8"))["names"])
        start = run_dir / "start.pt"
        start.parent.mkdir(parents=True, exist_ok=True)
        print(detector_start(Path(weights), start, nc, arch), flush=True)
        arch = str(start)
    if config.oversample:
        from siteguard.models.training.oversample import oversampled_data

        data_yaml, summary = oversampled_data(data_yaml, config.oversample, run_dir / "data")
        print(summary, flush=True)
    model = YOLO(arch)
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
