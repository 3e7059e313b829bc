"""Rectification proof photos: checked (size, a readable image) and stored by content hash
under the API's data folder, named relative to it (what the notice history records)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

from siteguard.api.errors import Invalid, TooLarge

MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 20


def store_photos(data_dir: Path, notice_number: str, photos: list[tuple[str, bytes]]) -> list[str]:
    """Store up to 20 (filename, content) photos: TooLarge for one over 10 MB, Invalid for
    one that is not an image."""
    folder = data_dir / "proof" / notice_number
    stored = []
    for filename, data in photos[:MAX_PHOTOS]:
        if len(data) > MAX_BYTES:
            raise TooLarge(f"{filename}: larger than 10 MB")
        if cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is None:
            raise Invalid(f"{filename}: not a readable image")
        digest = hashlib.sha256(data).hexdigest()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{digest}.jpg").write_bytes(data)
        stored.append(f"proof/{notice_number}/{digest}.jpg")
    return stored
