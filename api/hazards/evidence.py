"""Evidence through the API: pictures and clips are fetched once from the edge box's URI
and kept under the API's data folder. People in an office rarely reach a site box's LAN,
and the box deletes evidence after its retention period; the kept copy serves the
console, the printed notice and the 5-year record."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from siteguard.api.errors import NotFound


def fetch_evidence(uri: str, timeout_s: float = 3.0) -> bytes | None:
    """The evidence (picture or clip) behind a URI served by the edge box, or None if it
    cannot be had now: the notice is printed anyway, naming the URI."""
    if not uri.startswith(("http://", "https://")):
        return None
    try:
        r = httpx.get(uri, timeout=timeout_s)
    except httpx.HTTPError:
        return None
    return r.content if r.status_code == 200 and r.content else None


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


# what: (suffix of the kept copy, media type, seconds to wait for the edge box)
EVIDENCE_KINDS = {"picture": (".jpg", "image/jpeg", 3.0), "clip": (".mp4", "video/mp4", 15.0)}


def kept_evidence(data_dir: Path, hazard_id: int, uri: str | None, what: str) -> tuple[bytes, str]:
    """A hazard's picture or clip with its media type, from the API's copy, fetched from the
    edge box the first time (NotFound: none, or the box cannot be reached now)."""
    if not uri:
        raise NotFound(f"hazard {hazard_id} has no evidence {what}")
    suffix, media_type, wait_s = EVIDENCE_KINDS[what]
    data = cached_evidence(data_dir, uri, suffix, wait_s)
    if data is None:
        raise NotFound(f"the {what} of hazard {hazard_id} cannot be fetched from {uri} now")
    return data, media_type
