"""Camera status and heartbeats from the edge: the latest state per camera, and the
intervals it was online, from which the risk model counts camera-hours watched.

The edge publishes ``<prefix>/<site>/<camera>/status`` (retained, on every change) and
``.../stats`` (every ``stats_interval_s``). An online status or an online heartbeat opens
or extends the camera's current interval; an offline status closes it. A gap longer than
``max_gap`` between heartbeats (edge box switched off, network down) ends the interval at
the last heartbeat: silence is never counted as watching.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siteguard.api.tables import CameraRow, CameraStatusRow, CameraUptimeRow

ID_MAX = 64


class CameraMessageError(ValueError):
    """A status or stats message that cannot be used (kept as a dead letter by the caller)."""


def parse_topic(topic: str) -> tuple[str, str, str]:
    """``<prefix>/<site>/<camera>/<kind>`` -> (site, camera, kind)."""
    parts = topic.split("/")
    if len(parts) < 4 or not parts[-3] or not parts[-2]:
        raise CameraMessageError(f"topic {topic!r} is not <prefix>/<site>/<camera>/<kind>")
    site, camera, kind = parts[-3], parts[-2], parts[-1]
    if len(site) > ID_MAX or len(camera) > ID_MAX:
        raise CameraMessageError("site or camera id longer than 64 characters")
    return site, camera, kind


def _time(value: Any, received: datetime) -> datetime:
    if not isinstance(value, str):
        return received
    try:
        t = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CameraMessageError(f"'at' is not an ISO time: {value[:40]!r}") from exc
    t = t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t
    # an edge clock far ahead must not buy hours that have not happened
    return min(t, received + timedelta(minutes=5))


def record(
    s: Session,
    topic: str,
    payload: bytes,
    received: datetime,
    max_gap: timedelta = timedelta(seconds=60),
) -> None:
    """Apply one status or stats message (raises CameraMessageError on bad input)."""
    site, camera, kind = parse_topic(topic)
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CameraMessageError(f"{kind} message is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("state"), str):
        raise CameraMessageError(f"{kind} message has no 'state'")
    state = data["state"][:16]
    at = _time(data.get("at"), received)
    row = s.scalar(
        select(CameraStatusRow).where(
            CameraStatusRow.site_id == site, CameraStatusRow.camera_id == camera
        )
    )
    if row is None:
        row = CameraStatusRow(site_id=site, camera_id=camera, state=state, detail="", at=at)
        s.add(row)
    if kind == "stats":
        row.stats = json.dumps(data)[:8192]
    if at >= row.at or kind == "status":
        row.state, row.at = state, max(at, row.at)
        if kind == "status":
            row.detail = str(data.get("detail", ""))[:2000]
    _uptime(s, site, camera, state == "online", at, max_gap)


def _uptime(
    s: Session, site: str, camera: str, online: bool, at: datetime, max_gap: timedelta
) -> None:
    last = s.scalar(
        select(CameraUptimeRow)
        .where(CameraUptimeRow.site_id == site, CameraUptimeRow.camera_id == camera)
        .order_by(CameraUptimeRow.start.desc())
        .limit(1)
    )
    if last is not None and at < last.start:
        return  # a late message from before the current interval changes nothing
    if online:
        if last is not None and last.open and at - last.end <= max_gap:
            last.end = max(last.end, at)
        else:
            if last is not None:
                last.open = False
            s.add(CameraUptimeRow(site_id=site, camera_id=camera, start=at, end=at, open=True))
    elif last is not None and last.open:
        if at - last.end <= max_gap:
            last.end = max(last.end, at)
        last.open = False


def camera_hours_by_site(
    s: Session, sites: list[str], start: datetime, end: datetime
) -> dict[str, float]:
    """Per site: hours of camera coverage watched within [start, end), summed over its
    cameras (one query for all the sites)."""
    out = dict.fromkeys(sites, 0.0)
    rows = s.execute(
        select(CameraUptimeRow.site_id, CameraUptimeRow.start, CameraUptimeRow.end).where(
            CameraUptimeRow.site_id.in_(sites),
            CameraUptimeRow.start < end,
            CameraUptimeRow.end > start,
        )
    ).all()
    for site, b, e in rows:
        out[site] += max((min(e, end) - max(b, start)).total_seconds(), 0.0) / 3600
    return out


def scheduled_hours_by_site(
    s: Session, sites: list[str], start: datetime, end: datetime
) -> dict[str, float]:
    """Per site: hours its cameras should have watched within [start, end): every known
    camera, all the time, from the site's first heartbeat (or the period start, if it began
    watching earlier)."""
    cameras: dict[str, set[str]] = {site: set() for site in sites}
    for site, cam in s.execute(
        select(CameraRow.site_id, CameraRow.camera_id).where(CameraRow.site_id.in_(sites))
    ):
        cameras[site].add(cam)
    for site, cam in s.execute(
        select(CameraUptimeRow.site_id, CameraUptimeRow.camera_id)
        .where(CameraUptimeRow.site_id.in_(sites))
        .distinct()
    ):
        cameras[site].add(cam)
    first: dict[str, datetime] = {
        site: at
        for site, at in s.execute(
            select(CameraUptimeRow.site_id, func.min(CameraUptimeRow.start))
            .where(CameraUptimeRow.site_id.in_(sites))
            .group_by(CameraUptimeRow.site_id)
        )
    }
    out = {}
    for site in sites:
        begin = max(start, first[site]) if first.get(site) is not None else start
        out[site] = len(cameras[site]) * max((end - begin).total_seconds(), 0.0) / 3600
    return out


def latest(s: Session, site_id: str) -> dict[str, dict[str, Any]]:
    """camera id -> {state, detail, at, stats} for a site."""
    return {
        r.camera_id: {
            "state": r.state,
            "detail": r.detail,
            "at": r.at.replace(tzinfo=UTC).isoformat(),
            "stats": json.loads(r.stats or "{}"),
        }
        for r in s.scalars(select(CameraStatusRow).where(CameraStatusRow.site_id == site_id))
    }
