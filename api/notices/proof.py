"""Rectification proof photos: checked (size, pixel count from the header, a readable
image) and stored by content hash under the API's data folder, named relative to it (what
the notice history records)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from siteguard.api.documents.pictures import check_picture
from siteguard.api.errors import TooLarge

MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 20
MAX_PIXELS = 40_000_000  # the default of ApiSettings.proof_max_pixels


def read_photos(files: Iterable[tuple[str | None, BinaryIO]]) -> list[tuple[str, bytes]]:
    """Uploaded (filename, file) pairs as (filename, content), at most 20 (more: TooLarge,
    nothing is kept), each read up to one byte over the size limit (so an oversized one is
    refused without reading it all)."""
    photos: list[tuple[str, bytes]] = []
    for filename, file in files:
        if len(photos) == MAX_PHOTOS:
            raise TooLarge(
                f"at most {MAX_PHOTOS} photos per reply: send the others in another",
                f"每次回复最多 {MAX_PHOTOS} 张照片，其余请另行回复",
            )
        photos.append((filename or "upload", file.read(MAX_BYTES + 1)))
    return photos


def check_photo(filename: str, data: bytes, max_pixels: int = MAX_PIXELS) -> None:
    """TooLarge over 10 MB or over `max_pixels` (read from the header, before any decode);
    Invalid for one that is not a readable JPEG or PNG. Seconds for a big photo: call it
    off the event loop."""
    if len(data) > MAX_BYTES:
        raise TooLarge(f"{filename}: larger than 10 MB", f"{filename}：超过 10 MB")
    check_picture(filename, data, max_pixels)


def store_photos(
    data_dir: Path,
    notice_number: str,
    photos: list[tuple[str, bytes]],
    max_pixels: int = MAX_PIXELS,
) -> list[str]:
    """Store up to 20 (filename, content) photos once every one of them passed
    `check_photo` (one bad photo, or more than 20: nothing is stored)."""
    if len(photos) > MAX_PHOTOS:
        raise TooLarge(
            f"at most {MAX_PHOTOS} photos per reply: send the others in another",
            f"每次回复最多 {MAX_PHOTOS} 张照片，其余请另行回复",
        )
    for filename, data in photos:
        check_photo(filename, data, max_pixels)
    folder = data_dir / "proof" / notice_number
    stored = []
    for _filename, data in photos:
        digest = hashlib.sha256(data).hexdigest()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{digest}.jpg").write_bytes(data)
        stored.append(f"proof/{notice_number}/{digest}.jpg")
    return stored


STORED = re.compile(r"proof/(SG-[^/\\]+)/([0-9a-f]{64})\.jpg")


def proof_path(data_dir: Path, stored: str) -> Path | None:
    """The file of a stored proof photo named as the replies record it
    (``proof/<notice number>/<sha256>.jpg``); None for any other name or a missing file."""
    if STORED.fullmatch(stored) is None:  # starts with SG-: never "." or ".."
        return None
    path = data_dir / stored
    return path if path.is_file() else None


def read_proof(data_dir: Path, stored: str) -> bytes | None:
    """The stored proof photo's bytes (None: no such photo)."""
    path = proof_path(data_dir, stored)
    return path.read_bytes() if path is not None else None
