"""Evidence through the API: pictures and clips are fetched once from the site's own edge
box and kept under the API's data folder. People in an office rarely reach a site box's
LAN, and the box deletes evidence after its retention period; the kept copy serves the
console, the printed notice and the 5-year record.

An event's `evidence_uri` comes from whoever may publish events, so it is never trusted:
the API fetches only URIs under the edge box registered for the site (the project's
`evidence_base_url`), within a total deadline and a size cap, and keeps only what is a
picture or a clip. Every refusal is counted (`siteguard_evidence_refused_total`)."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import anyio
import cv2
import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.documents.pictures import check_picture
from siteguard.api.errors import DomainError, NotFound
from siteguard.api.settings import EvidenceFetchSettings
from siteguard.api.store.tables import ProjectRow

log = logging.getLogger(__name__)

NO_EDGE_BOX = "evidence of this site cannot be fetched: no edge box registered"
REFUSAL_REASONS = (
    "no_edge_box",  # the site has no registered edge box (evidence_base_url)
    "outside_edge_box",  # the URI is not under the site's edge box: no request is made
    "deadline",  # the whole fetch took longer than its deadline
    "too_large",  # more bytes than the cap, or a picture of more pixels than allowed
    "encoded",  # a compressed transfer (Content-Encoding): never inflated
    "not_a_picture",
    "not_a_clip",
)
DEFAULT_PORTS = {"http": 80, "https": 443}
# what: (suffix of the kept copy, media type)
EVIDENCE_KINDS = {"picture": (".jpg", "image/jpeg"), "clip": (".mp4", "video/mp4")}


class EvidenceRefusals:
    """How many evidence fetches were refused, by reason; shared by the request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(REFUSAL_REASONS, 0)

    def add(self, reason: str) -> None:
        with self._lock:
            self._counts[reason] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


class Refused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class EdgeBox:
    """A site's edge box as the API may fetch from it ('' base URL: none registered)."""

    base_url: str
    limits: EvidenceFetchSettings
    refusals: EvidenceRefusals


def site_edge_box(
    s: Session, site_id: str, limits: EvidenceFetchSettings, refusals: EvidenceRefusals
) -> EdgeBox:
    """The edge box registered for the site's project (none: no project, or no base URL)."""
    base = s.scalar(select(ProjectRow.evidence_base_url).where(ProjectRow.site_id == site_id))
    return EdgeBox(base or "", limits, refusals)


def _has_dot_segment(raw_path: str) -> bool:
    return any(seg in (".", "..") for seg in unquote(raw_path).replace("\\", "/").split("/"))


def under_base_url(uri: str, base_url: str) -> bool:
    """Whether `uri` names a file under `base_url`: same scheme, host and port (default
    ports filled in), a path below the base path; no userinfo, query, fragment, '.' or '..'
    segment (encoded or not), backslash, space or non-ASCII character."""
    if not base_url or not uri.isascii() or any(c in uri for c in "\\ \t\r\n\x00?#"):
        return False
    try:
        url, base = httpx.URL(uri), httpx.URL(base_url)
        raw = urlsplit(uri)
    except (httpx.InvalidURL, ValueError):
        return False
    if url.scheme not in DEFAULT_PORTS or url.userinfo or raw.username is not None:
        return False
    if _has_dot_segment(raw.path) or "%00" in raw.path.lower():
        return False
    same_origin = (url.scheme, url.host, url.port or DEFAULT_PORTS[url.scheme]) == (
        base.scheme,
        base.host,
        base.port or DEFAULT_PORTS.get(base.scheme, 0),
    )
    return same_origin and url.path.startswith(base.path) and len(url.path) > len(base.path)


async def _download(uri: str, max_bytes: int, deadline_s: float) -> bytes | None:
    """The body behind `uri` (None: the box did not answer 200), read as it streams in:
    Refused past `max_bytes` (never more is held) or past `deadline_s` for the whole
    fetch, connect to last byte, however slowly the bytes drip in."""
    status, body = await _get(uri, max_bytes, deadline_s)
    return body if status == 200 and body else None


async def _get(uri: str, max_bytes: int, deadline_s: float) -> tuple[int, bytes]:
    """`_download` with the box's HTTP status (0: no answer; a body only with 200)."""
    body = bytearray()
    try:
        with anyio.fail_after(deadline_s):
            async with (
                httpx.AsyncClient(timeout=deadline_s, trust_env=False) as client,
                client.stream("GET", uri, headers={"Accept-Encoding": "identity"}) as r,
            ):
                if r.status_code != 200:
                    return r.status_code, b""
                if r.headers.get("content-encoding", "identity").lower() != "identity":
                    raise Refused("encoded", "a compressed transfer")
                declared = r.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise Refused("too_large", f"{declared} bytes, over {max_bytes}")
                async for chunk in r.aiter_raw():
                    if len(body) + len(chunk) > max_bytes:
                        raise Refused("too_large", f"over {max_bytes} bytes")
                    body += chunk
    except (TimeoutError, httpx.TimeoutException):
        raise Refused("deadline", f"not fetched within {deadline_s:g} s") from None
    except httpx.HTTPError:
        return 0, b""
    return 200, bytes(body)


def _check_clip(data: bytes, max_pixels: int) -> None:
    """An MP4 (an 'ftyp' box at offset 4) of which at least one frame decodes."""
    if data[4:8] != b"ftyp":
        raise Refused("not_a_clip", "not an MP4 (no 'ftyp' box)")
    with tempfile.TemporaryDirectory(prefix="siteguard-clip-") as tmp:
        path = Path(tmp) / "clip.mp4"
        path.write_bytes(data)
        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        try:
            width = cap.get(cv2.CAP_PROP_FRAME_WIDTH)
            height = cap.get(cv2.CAP_PROP_FRAME_HEIGHT)
            if cap.isOpened() and width * height > max_pixels:
                raise Refused("too_large", f"frames of {width:g}x{height:g} pixels")
            readable = cap.isOpened() and cap.read()[0]
        finally:
            cap.release()
    if not readable:
        raise Refused("not_a_clip", "no frame of it decodes")


def _check_content(what: str, data: bytes, limits: EvidenceFetchSettings) -> None:
    if what == "clip":
        _check_clip(data, limits.max_pixels)
        return
    try:
        check_picture("evidence picture", data, limits.max_pixels)
    except DomainError as exc:
        reason = "too_large" if exc.status == 413 else "not_a_picture"
        raise Refused(reason, exc.detail) from None


def fetch_evidence(uri: str, box: EdgeBox, what: str = "picture") -> bytes | None:
    """The evidence (picture or clip) behind a URI on the site's edge box, checked (None:
    the box cannot be reached or has no such file now; Refused: not to be fetched or
    not evidence)."""
    if not box.base_url:
        raise Refused("no_edge_box", NO_EDGE_BOX)
    if not under_base_url(uri, box.base_url):
        raise Refused("outside_edge_box", "not under the site's edge box")
    limits = box.limits
    if what == "clip":
        max_bytes, deadline_s = limits.clip_max_bytes, limits.clip_deadline_s
    else:
        max_bytes, deadline_s = limits.picture_max_bytes, limits.picture_deadline_s
    # an event loop of its own (the routes are sync, in the thread pool): there a deadline
    # cancels whatever read is pending, which httpx's per-read timeouts cannot do
    data = anyio.run(_download, uri, max_bytes, deadline_s)
    if data is not None:
        _check_content(what, data, limits)
    return data


def fetch_live_picture(uri: str, box: EdgeBox) -> tuple[int, bytes]:
    """A picture the box makes on request (a camera's live frame), with the same checks
    and limits as `fetch_evidence` and never kept: (the box's HTTP status, 0 when it did
    not answer; the checked picture with 200). Refusals are counted and raised."""
    try:
        if not box.base_url:
            raise Refused("no_edge_box", NO_EDGE_BOX)
        if not under_base_url(uri, box.base_url):
            raise Refused("outside_edge_box", "not under the site's edge box")
        limits = box.limits
        status, data = anyio.run(_get, uri, limits.picture_max_bytes, limits.picture_deadline_s)
        if status == 200:
            if not data:
                raise Refused("not_a_picture", "an empty answer")
            _check_content("picture", data, limits)
    except Refused as exc:
        box.refusals.add(exc.reason)
        log.warning("live picture %s refused (%s): %s", uri, exc.reason, exc.detail)
        raise
    return status, data


def clip_uri(evidence_uri: str | None) -> str | None:
    """The event's clip: the edge keeps it beside the event's pictures, written once when
    the event starts (edge/evidence_store.py)."""
    if not evidence_uri or not evidence_uri.endswith(".jpg"):
        return None
    return evidence_uri.rsplit("/", 1)[0] + "/clip.mp4"


def _kept_path(data_dir: Path, uri: str, what: str) -> Path:
    suffix = EVIDENCE_KINDS[what][0]
    return data_dir / "evidence" / f"{hashlib.sha256(uri.encode()).hexdigest()}{suffix}"


def _fetch_and_keep(path: Path, uri: str, box: EdgeBox, what: str) -> bytes | None:
    try:
        data = fetch_evidence(uri, box, what)
    except Refused as exc:
        box.refusals.add(exc.reason)
        log.warning("evidence %s refused (%s): %s", uri, exc.reason, exc.detail)
        raise
    if data is not None:  # only checked, complete evidence is written, never a part
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{threading.get_ident()}.part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return data


def cached_evidence(data_dir: Path, uri: str, box: EdgeBox, what: str = "picture") -> bytes | None:
    """The file behind `uri`, from the API's copy or fetched now (None: not to be had)."""
    path = _kept_path(data_dir, uri, what)
    if path.is_file():
        return path.read_bytes()
    try:
        return _fetch_and_keep(path, uri, box, what)
    except Refused:
        return None


def kept_evidence(
    data_dir: Path, hazard_id: int, uri: str | None, what: str, box: EdgeBox
) -> tuple[bytes, str]:
    """A hazard's picture or clip with its media type, from the API's copy, fetched from the
    site's edge box the first time (NotFound: none, refused, or not to be had now)."""
    if not uri:
        raise NotFound(f"hazard {hazard_id} has no evidence {what}")
    media_type = EVIDENCE_KINDS[what][1]
    path = _kept_path(data_dir, uri, what)
    if path.is_file():  # kept earlier: served even when the box is gone or unregistered
        return path.read_bytes(), media_type
    try:
        data = _fetch_and_keep(path, uri, box, what)
    except Refused as exc:
        if exc.reason == "no_edge_box":
            raise NotFound(NO_EDGE_BOX) from None
        raise NotFound(
            f"the {what} of hazard {hazard_id} cannot be fetched: {exc.detail}"
        ) from None
    if data is None:
        raise NotFound(f"the {what} of hazard {hazard_id} cannot be fetched from {uri} now")
    return data, media_type
