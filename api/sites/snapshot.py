"""A camera's live view: the latest frame its edge box analysed, unannotated (faces
pixelated on the box), fetched on request for the zone editor.

The box serves it at ``<evidence_base_url>/live/<camera>.jpg``, under the evidence base on
purpose: the fetch goes through the same allow-list, deadline, size cap and picture check
as evidence (`api/hazards/evidence.py`), and only to the site's registered edge box.

The last live frame fetched of each camera is kept (one file per camera, replaced by the
next; ``<data_dir>/snapshots/``), so the zone editor still has the camera's view while the
camera or its box is offline (`stored_snapshot`).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal, check_site
from siteguard.api.errors import NotFound
from siteguard.api.hazards.evidence import (
    EvidenceRefusals,
    Refused,
    fetch_live_picture,
    site_edge_box,
)
from siteguard.api.settings import ApiSettings
from siteguard.api.sites.cameras import site_cameras


@dataclass(frozen=True)
class StoredSnapshot:
    jpeg: bytes
    at: datetime  # when it was fetched (naive UTC)


def _stored_path(data_dir: Path, site_id: str, camera_id: str) -> Path:
    key = hashlib.sha256(f"{site_id}/{camera_id}".encode()).hexdigest()
    return data_dir / "snapshots" / f"{key}.jpg"


def keep_snapshot(data_dir: Path, site_id: str, camera_id: str, jpeg: bytes) -> None:
    """Keep a checked live frame as the camera's last one (written whole, then renamed)."""
    path = _stored_path(data_dir, site_id, camera_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{threading.get_ident()}.part")
    tmp.write_bytes(jpeg)
    tmp.replace(path)


def stored_snapshot(data_dir: Path, site_id: str, camera_id: str) -> StoredSnapshot | None:
    """The camera's last live frame kept by the API (None: never fetched)."""
    path = _stored_path(data_dir, site_id, camera_id)
    try:
        jpeg, mtime = path.read_bytes(), path.stat().st_mtime
    except FileNotFoundError:
        return None
    return StoredSnapshot(jpeg, datetime.fromtimestamp(mtime, UTC).replace(tzinfo=None))


def live_uri(base_url: str, camera_id: str) -> str:
    """Where the site's edge box serves the camera's live frame."""
    return f"{base_url.rstrip('/')}/live/{camera_id}.jpg"


def live_snapshot(
    s: Session,
    who: Principal,
    site_id: str,
    camera_id: str,
    settings: ApiSettings,
    refusals: EvidenceRefusals,
) -> bytes:
    """The camera's live frame as JPEG bytes from its edge box, kept as its last one
    (NotFound saying why not: unknown camera, no edge box registered, the box unreachable
    or without a frame)."""
    check_site(s, who, site_id)
    if camera_id not in {c["camera_id"] for c in site_cameras(s, site_id, settings.cameras)}:
        raise NotFound(f"site {site_id!r} has no camera {camera_id!r}")
    box = site_edge_box(s, site_id, settings.evidence, refusals)
    why = f"no live frame of camera {camera_id!r}"
    if not box.base_url:
        raise NotFound(f"{why}: site {site_id!r} has no edge box registered (evidence_base_url)")
    uri = live_uri(box.base_url, camera_id)
    try:
        status, data = fetch_live_picture(uri, box)
    except Refused as exc:
        raise NotFound(f"{why}: refused: {exc.detail}") from None
    if status == 0:
        raise NotFound(f"{why}: the site's edge box cannot be reached ({uri})")
    if status == 404:
        raise NotFound(
            f"{why}: the edge box has no frame of it (not running there, or none analysed yet)"
        )
    if status != 200:
        raise NotFound(f"{why}: the edge box answered HTTP {status}")
    keep_snapshot(settings.data_dir, site_id, camera_id, data)
    return data
