"""Each visible project at a glance: open and major hazards, cameras online."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal, visible_projects
from siteguard.api.settings import CameraSettings
from siteguard.api.sites.cameras import site_cameras
from siteguard.api.statuses import OPEN_STATUSES
from siteguard.api.store.tables import HazardRow


def project_overview(
    s: Session, who: Principal, cameras: CameraSettings, now: datetime | None = None
) -> list[dict[str, Any]]:
    projects = []
    for p in visible_projects(s, who):
        open_h = list(
            s.scalars(
                select(HazardRow.level).where(
                    HazardRow.site_id == p.site_id, HazardRow.status.in_(OPEN_STATUSES)
                )
            )
        )
        cams = site_cameras(s, p.site_id, cameras, now)
        projects.append(
            {
                "site_id": p.site_id,
                "name": p.name,
                "contractor": p.contractor,
                "open": len(open_h),
                "open_major": sum(x == "major" for x in open_h),
                "cameras": len(cams),
                "online": sum(bool(c["status"] and c["status"]["state"] == "online") for c in cams),
            }
        )
    return projects
