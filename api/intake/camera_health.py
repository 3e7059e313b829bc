"""Camera status and heartbeats from the edge: the latest state per camera, and the
intervals it was online, from which the risk model counts camera-hours watched.

The edge publishes ``<prefix>/<site>/<camera>/status`` (retained, on every change) and
``.../stats`` (every ``stats_interval_s``). An online status or an online heartbeat opens
or extends the camera's current interval; an offline status closes it. A gap longer than
``max_gap`` between heartbeats (edge box switched off, network down) ends the interval at
the last heartbeat: silence is never counted as watching.

The stored state is what the edge last said; what every view shows is derived when read
(`latest`): a camera that sent neither heartbeat nor status for more than
``cameras.missed_heartbeats`` of its heartbeat intervals (the heartbeat's ``interval_s``,
else ``cameras.heartbeat_interval_s``) is offline, whatever it said last, until it is
heard from again.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siteguard.api.settings import CameraSettings
from siteguard.api.store.clock import iso, now_naive, utc_naive
from siteguard.api.store.tables import CameraRow, CameraStatusRow, CameraUptimeRow
from siteguard.contract.camera import CameraStats, CameraStatus
from siteguard.contract.topics import TopicError, parse_topic


class CameraMessageError(ValueError):
    """A status or stats message that cannot be used (kept as a dead letter by the caller)."""


def _at(value: datetime | None, received: datetime) -> datetime:
    if value is None:
        return received
    t = utc_naive(value)
    # an edge clock far ahead must not buy hours that have not happened
    return min(t, received + timedelta(minutes=5))


def parse(kind: str, payload: bytes) -> CameraStatus | CameraStats:
    """A status or stats message as its contract model (CameraMessageError if unusable)."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CameraMessageError(f"{kind} message is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("state"), str):
        raise CameraMessageError(f"{kind} message has no 'state'")
    model: type[CameraStatus | CameraStats] = CameraStats if kind == "stats" else CameraStatus
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if where == "at" and "parsing" in first["type"]:
            raise CameraMessageError(f"'at' is not an ISO time: {str(data['at'])[:40]!r}") from None
        raise CameraMessageError(f"{kind} message: {where}: {first['msg']}") from None


def record(
    s: Session,
    topic: str,
    payload: bytes,
    received: datetime,
    max_gap: timedelta = timedelta(seconds=60),
) -> None:
    """Apply one status or stats message (raises CameraMessageError on bad input)."""
    try:
        site, camera, kind = parse_topic(topic)
    except TopicError as exc:
        raise CameraMessageError(str(exc)) from None
    message = parse(kind, payload)
    if message.camera_id and message.camera_id != camera:
        raise CameraMessageError(
            f"published for camera {camera!r} but the message names {message.camera_id!r}"
        )
    state = message.state
    at = _at(message.at, received)
    row = s.scalar(
        select(CameraStatusRow).where(
            CameraStatusRow.site_id == site, CameraStatusRow.camera_id == camera
        )
    )
    if row is None:
        row = CameraStatusRow(site_id=site, camera_id=camera, state=state, detail="", at=at)
        s.add(row)
    if isinstance(message, CameraStats):
        row.stats = message.model_dump_json(exclude_none=True)[:8192]
    if at >= row.at or kind == "status":
        row.state, row.at = state, max(at, row.at)
        if isinstance(message, CameraStatus):
            row.detail = message.detail
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


def heartbeat_interval(stats: dict[str, Any], cameras: CameraSettings) -> float:
    """The camera's heartbeat period: what its latest heartbeat named, else the default."""
    named = stats.get("interval_s")
    if isinstance(named, int | float) and not isinstance(named, bool) and named > 0:
        return float(named)
    return cameras.heartbeat_interval_s


def effective_state(
    state: str,
    detail: str,
    at: datetime,
    stats: dict[str, Any],
    cameras: CameraSettings,
    now: datetime,
) -> tuple[str, str]:
    """(state, detail) to show: offline once the camera has been silent for more than
    `missed_heartbeats` intervals since its last heartbeat or status (`at`)."""
    if state == "offline":
        return state, detail
    interval = heartbeat_interval(stats, cameras)
    silent = (now - at).total_seconds()
    if silent <= cameras.missed_heartbeats * interval:
        return state, detail
    return "offline", f"no heartbeat since {iso(at)} ({int(silent // interval)} missed)"


def latest(
    s: Session, site_id: str, cameras: CameraSettings, now: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """camera id -> {state, detail, at, stats, reported_state} for a site: `state` and
    `detail` as of `now` (default: the current time), `reported_state` what the edge last
    said, `at` when it last spoke."""
    when = utc_naive(now) if now is not None else now_naive()
    out = {}
    for r in s.scalars(select(CameraStatusRow).where(CameraStatusRow.site_id == site_id)):
        stats = json.loads(r.stats or "{}")
        state, detail = effective_state(r.state, r.detail, r.at, stats, cameras, when)
        out[r.camera_id] = {
            "state": state,
            "detail": detail,
            "at": iso(r.at),
            "stats": stats,
            "reported_state": r.state,
        }
    return out
