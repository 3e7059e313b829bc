"""Rectification proof photos: checked (size, a readable image) and stored by content hash
under the API's data folder, named relative to it (what the notice history records)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
from fastapi import HTTPException, UploadFile

MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 20


async def store_photos(data_dir: Path, notice_number: str, photos: list[UploadFile]) -> list[str]:
    """Store up to 20 photos; 413 for one over 10 MB, 422 for one that is not an image."""
    folder = data_dir / "proof" / notice_number
    stored = []
    for photo in photos[:MAX_PHOTOS]:
        data = await photo.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise HTTPException(413, detail=f"{photo.filename}: larger than 10 MB")
        if cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is None:
            raise HTTPException(422, detail=f"{photo.filename}: not a readable image")
        digest = hashlib.sha256(data).hexdigest()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{digest}.jpg").write_bytes(data)
        stored.append(f"proof/{notice_number}/{digest}.jpg")
    return stored
