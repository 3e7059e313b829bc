"""Evidence on the edge box: an annotated JPEG per event message and a short clip of the
frames that led up to the start, stored under ``<dir>/<event_id>/`` with retention, and
referenced from the event by URI (served by the worker's HTTP endpoint).

Storage trouble (disk full, read-only disk) never stops events: the store returns no URI,
counts the failure, and the event goes out with ``evidence_missing`` set.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from siteguard.edge.clip_encoder import write_h264
from siteguard.pipeline.labels import LabelLang
from siteguard.pipeline.privacy import PrivacyConfig

log = logging.getLogger(__name__)
CLIP_NAME = "clip.mp4"


class EvidenceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dir: Path = Field(Path("edge-data/evidence"), description="Where evidence files are kept")
    base_url: str = Field(
        "http://127.0.0.1:8090/evidence", description="URL prefix the API fetches evidence from"
    )
    blur_faces: bool = Field(True, description="Pixelate faces in stored evidence (privacy)")
    privacy: PrivacyConfig = Field(
        default_factory=PrivacyConfig,
        description="People and heads pixelated though found below the operating thresholds",
    )
    labels: LabelLang = Field("zh", description="Language of the box labels on pictures")
    jpeg_quality: int = Field(85, ge=30, le=100)
    clip_seconds: float = Field(
        8.0, ge=0, description="Seconds of analysed frames before the start"
    )
    clip_max_width: int = Field(
        1280,
        ge=160,
        description="Clips made from analysed frames are scaled down to at most this width "
        "(a 1440p camera's 16-frame clip held 177 MB and took a core-second to encode; the "
        "picture keeps the full resolution). Main-stream clips of a substream camera are "
        "copied as the camera sent them",
    )
    clip_from_main_stream: bool = Field(
        False,
        description="A substream camera's clip is the main stream's own packets (full "
        "resolution and frame rate, no decoding) even while blur_faces is on: faces are NOT "
        "pixelated in such a clip, which cannot be pixelated without decoding and encoding "
        "it again. Off: with blur_faces the clip is made from the analysed frames, "
        "pixelated; without blur_faces the main stream's clip is used anyway",
    )
    retention_days: float = Field(30.0, gt=0)
    max_total_mb: float = Field(2000.0, gt=0, description="Oldest evidence goes first beyond this")


class EvidenceStore:
    def __init__(self, config: EvidenceConfig) -> None:
        self.config = config
        self.failures = 0
        self.saved = 0

    def _folder(self, event_id: str) -> Path:
        if not event_id.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"unsafe event id {event_id!r}")
        if event_id.lower() == "live":  # /evidence/live/ serves the cameras' live frames
            raise ValueError(f"reserved event id {event_id!r}")
        return self.config.dir / event_id

    def save_snapshot(self, event_id: str, seq: int, image: npt.NDArray[np.uint8]) -> str | None:
        try:
            folder = self._folder(event_id)
            folder.mkdir(parents=True, exist_ok=True)
            ok, buf = cv2.imencode(
                ".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.config.jpeg_quality]
            )
            if not ok:
                raise OSError("JPEG encoding failed")
            tmp = folder / f".{seq}.jpg.tmp"
            tmp.write_bytes(buf.tobytes())
            tmp.replace(folder / f"{seq}.jpg")
        except OSError as exc:
            self.failures += 1
            log.warning("evidence for %s not stored: %s", event_id, exc)
            return None
        self.saved += 1
        return self.picture_uri(event_id, seq)

    def picture_uri(self, event_id: str, seq: int) -> str:
        """The URL the API fetches the picture of the event's message ``seq`` from."""
        return f"{self.config.base_url.rstrip('/')}/{event_id}/{seq}.jpg"

    def clip_path(self, event_id: str) -> Path:
        """Where the event's clip lives (``<dir>/<event_id>/clip.mp4``); the folder is made.
        Raises ValueError for an unsafe id, OSError when the folder cannot be made."""
        folder = self._folder(event_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / CLIP_NAME

    def clip_uri(self, event_id: str) -> str:
        """The URL the API fetches the event's clip from."""
        return f"{self.config.base_url.rstrip('/')}/{event_id}/{CLIP_NAME}"

    def copy_clip(self, from_event: str, to_event: str) -> str | None:
        """The same clip for another event that started on the same frames; its URI, or
        None when storage fails (counted, never raised)."""
        try:
            src, dst = self.clip_path(from_event), self.clip_path(to_event)
            tmp = dst.with_name(f".{dst.name}.copy.tmp")
            shutil.copyfile(src, tmp)
            tmp.replace(dst)
        except (OSError, ValueError) as exc:
            self.failures += 1
            log.warning("evidence clip for %s not stored: %s", to_event, exc)
            return None
        return self.clip_uri(to_event)

    def save_clip(
        self, event_id: str, frames: Sequence[npt.NDArray[np.uint8]], fps: float
    ) -> str | None:
        """Encode the frames as the event's H.264 clip (edge/clip_encoder.py); its URI, or
        None when there are no frames or storage fails (counted, never raised)."""
        if not frames:
            return None
        try:
            write_h264(self.clip_path(event_id), frames, fps if fps > 0 else 1.0)
        except OSError as exc:
            self.failures += 1
            log.warning("evidence clip for %s not stored: %s", event_id, exc)
            return None
        return self.clip_uri(event_id)

    def resolve(self, rel: str) -> Path | None:
        """A served path inside the store, or None (no traversal out of it)."""
        root = self.config.dir.resolve()
        path = (root / rel).resolve()
        if root not in path.parents or not path.is_file():
            return None
        return path

    def enforce_retention(self, now: float | None = None) -> int:
        """Delete event folders older than the retention or beyond the size cap; return count."""
        root = self.config.dir
        if not root.is_dir():
            return 0
        try:
            return self._expire(root, now or time.time())
        except OSError as exc:
            log.warning("evidence retention skipped: %s", exc)
            return 0

    def _expire(self, root: Path, now: float) -> int:
        folders = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        sizes = {p: sum(f.stat().st_size for f in p.iterdir() if f.is_file()) for p in folders}
        total = sum(sizes.values())
        removed = 0
        for p in folders:
            too_old = now - p.stat().st_mtime > self.config.retention_days * 86400
            too_big = total > self.config.max_total_mb * 1e6
            if not (too_old or too_big):
                break
            shutil.rmtree(p, ignore_errors=True)
            total -= sizes[p]
            removed += 1
        return removed
