"""Where frames come from for offline detection: image files, folders and video files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".m4v", ".ts", ".flv", ".webm", ".mpg", ".mpeg"}


@dataclass(frozen=True)
class VideoFrame:
    """One frame to detect on, or the reason a source could not be read (``image`` None)."""

    source: str  # the path as the user gave it (or the file inside a given folder)
    frame_id: int | None  # index within a video; None for still images
    timestamp: float | None  # seconds from the video's start
    image: npt.NDArray[np.uint8] | None
    error: str | None = None


def count_frames(path: str) -> int:
    """How many frames `iter_frames(path)` will yield (approximately, for video)."""
    p = Path(path)
    if p.is_dir():
        return sum(1 for _ in folder_images(p))
    if p.suffix.lower() in VIDEO_SUFFIXES:
        cap = cv2.VideoCapture(str(p))
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
        cap.release()
        return max(n, 1)
    return 1


def iter_frames(path: str, every: int = 1) -> Iterator[VideoFrame]:
    """Frames of an image, a folder of images (sorted, recursive) or a video (every Nth)."""
    p = Path(path)
    if not p.exists():
        yield VideoFrame(path, None, None, None, f"{path}: no such file or folder")
    elif p.is_dir():
        found = False
        for img in folder_images(p):
            found = True
            yield _read_image(str(img))
        if not found:
            yield VideoFrame(path, None, None, None, f"{path}: folder holds no images")
    elif p.suffix.lower() in VIDEO_SUFFIXES:
        yield from _read_video(path, every)
    else:
        yield _read_image(path)


def folder_images(folder: Path) -> Iterator[Path]:
    """Every image file under ``folder``, at any depth, in path order."""
    return (
        f for f in sorted(folder.rglob("*")) if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
    )


def _read_image(path: str) -> VideoFrame:
    data = np.fromfile(path, dtype=np.uint8) if Path(path).is_file() else None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
    if img is None:
        return VideoFrame(
            path, None, None, None, f"{path}: not a readable image (corrupt or unsupported format)"
        )
    return VideoFrame(path, None, None, img)


def _read_video(path: str, every: int) -> Iterator[VideoFrame]:
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        yield VideoFrame(path, None, None, None, f"{path}: not a readable video")
        return
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    index = 0
    got_any = False
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            got_any = True
            if index % every == 0:
                yield VideoFrame(path, index, index / fps, frame)
            index += 1
    finally:
        cap.release()
    if not got_any:
        yield VideoFrame(path, None, None, None, f"{path}: video has no decodable frames")
