"""The bundled sample clip (a short real site video; provenance in cli/data/README.md)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def sample_video_path() -> Path:
    return Path(str(resources.files("siteguard").joinpath("data/sample-site.mp4")))
