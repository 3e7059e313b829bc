"""The shipped models at run time: where they are, which is the default, a name -> file.

Imports neither ultralytics nor the training code (`siteguard.models.training`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml


def shipped_models_dir() -> Path:
    return Path(str(resources.files("siteguard.models")))


def default_model_path() -> Path:
    folder = shipped_models_dir()
    registry = yaml.safe_load((folder / "models.yaml").read_text("utf-8"))
    return folder / str(registry["default"])


def resolve_model(model: Path | str | None) -> Path:
    """A model file path, or the name of a shipped model (`siteguard-ppe-s320-int8`, with or
    without .onnx), or None for the default."""
    if model is None:
        return default_model_path()
    path = Path(model)
    if path.exists():
        return path
    shipped = shipped_models_dir() / (path.name if path.suffix == ".onnx" else f"{path.name}.onnx")
    return shipped if shipped.exists() and path.parent == Path(".") else path
