"""The training configuration file: validated, no torch needed to read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class TrainThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conf: float = Field(0.35, ge=0, le=1)
    iou: float = Field(0.5, ge=0, le=1)
    per_class: dict[str, float] = Field(default_factory=dict)


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    name: str = Field(description="Model name, used for the run folder and the ONNX file")
    model: str = Field(
        description="Architecture yaml (from scratch), a local .pt, or 'package:path' for a "
        "checkpoint shipped inside an installed Python package"
    )
    pretrained: str | None = Field(
        None,
        description="Weights loaded into the architecture ``model`` by matching names and "
        "shapes (a local .pt or 'package:path'), e.g. a COCO-pretrained YOLO11n-pose for a "
        "yolo11n.yaml detector: the backbone and neck transfer, the head starts fresh",
    )
    imgsz: int = Field(640, ge=32)
    epochs: int = Field(100, ge=1)
    time_hours: float | None = Field(None, gt=0, description="Wall-clock budget (overrides epochs)")
    batch: int = Field(16, ge=1)
    seed: int = 0
    workers: int = Field(8, ge=0)
    patience: int = Field(50, ge=0)
    cache: str | bool = False
    freeze: int | None = None
    run: str | None = Field(
        None,
        description="Run folder name under the project (defaults to name); a second "
        "stage that fine-tunes an earlier run's weights needs its own",
    )
    optimizer: str = Field("auto", description="ultralytics optimizer; 'auto' picks its own lr")
    lr0: float | None = Field(None, gt=0, description="initial learning rate (not with 'auto')")
    warmup_epochs: float | None = Field(None, ge=0)
    augment: dict[str, Any] = Field(default_factory=dict)
    oversample: dict[str, int] = Field(
        default_factory=dict,
        description="repeat training images: 'source' (every image of that source) or "
        "'source/class' (its images with at least one box of that class) -> how many times "
        "each is seen per epoch; the largest matching factor counts (validation and test "
        "are untouched)",
    )
    thresholds: TrainThresholds = Field(default_factory=TrainThresholds)

    @model_validator(mode="after")
    def _lr_needs_optimizer(self) -> TrainConfig:
        if self.lr0 is not None and self.optimizer == "auto":
            raise ValueError(
                "lr0 is ignored when optimizer is 'auto' (ultralytics picks its own): "
                "name the optimizer, e.g. optimizer: AdamW"
            )
        return self

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        return cls.model_validate(yaml.safe_load(Path(path).read_text("utf-8")))

    def resolve_model(self) -> str:
        """The checkpoint or yaml path to hand to ultralytics."""
        return _resolve("model", self.model)

    def resolve_pretrained(self) -> str | None:
        return None if self.pretrained is None else _resolve("pretrained", self.pretrained)


def _resolve(key: str, ref: str) -> str:
    """A local path, or 'package:path' inside an installed Python package."""
    if ":" not in ref or Path(ref).exists():
        return ref
    package, rel = ref.split(":", 1)
    from importlib import util

    spec = util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"{key} {ref!r}: Python package {package!r} is not installed "
            "(scripts/setup-train.sh installs the training extras)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / rel
    if not path.exists():
        raise FileNotFoundError(f"{key} {ref!r}: {path} does not exist")
    return str(path)
