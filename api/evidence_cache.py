"""Evidence through the API: pictures and clips are fetched once from the edge box's URI
and kept under the API's data folder. People in an office rarely reach a site box's LAN,
and the box deletes evidence after its retention period; the kept copy serves the
console, the printed notice and the 5-year record."""

from __future__ import annotations

import hashlib
from pathlib import Path

from siteguard.api.notice_pdf import fetch_evidence


def clip_uri(evidence_uri: str | None) -> str | None:
    """The event's clip: the edge keeps it beside the event's pictures, written once when
    the event starts (edge/evidence_store.py)."""
    if not evidence_uri or not evidence_uri.endswith(".jpg"):
        return None
    return evidence_uri.rsplit("/", 1)[0] + "/clip.mp4"


def cached_evidence(
    data_dir: Path, uri: str, suffix: str = ".jpg", timeout_s: float = 3.0
) -> bytes | None:
    """The file behind `uri`, from the API's copy or fetched now (None: not to be had)."""
    path = data_dir / "evidence" / f"{hashlib.sha256(uri.encode()).hexdigest()}{suffix}"
    if path.is_file():
        return path.read_bytes()
    data = fetch_evidence(uri, timeout_s)
    if data is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # never a half-written copy
    return data
