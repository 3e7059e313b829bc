"""Where the shipped defaults live (the default model, the bundled sample clip)."""

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


def sample_video_path() -> Path:
    return Path(str(resources.files("siteguard").joinpath("data/sample-site.mp4")))
