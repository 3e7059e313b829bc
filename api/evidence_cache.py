"""Evidence pictures through the API: fetched once from the edge box's URI and kept under
the API's data folder. People in an office rarely reach a site box's LAN, and the box
deletes evidence after its retention period; the kept copy serves the console, the
printed notice and the 5-year record."""

from __future__ import annotations

import hashlib
from pathlib import Path

from siteguard.api.notice_pdf import fetch_evidence


def cached_evidence(data_dir: Path, uri: str) -> bytes | None:
    """The picture behind `uri`, from the API's copy or fetched now (None: not to be had)."""
    path = data_dir / "evidence" / f"{hashlib.sha256(uri.encode()).hexdigest()}.jpg"
    if path.is_file():
        return path.read_bytes()
    data = fetch_evidence(uri)
    if data is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # never a half-written copy
    return data
