"""What people call a project and a camera: the names registered for them, the ids where
none is (a camera that reports before anyone registered it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.store.tables import CameraRow, ProjectRow


@dataclass(frozen=True)
class PlaceNames:
    projects: dict[str, str] = field(default_factory=dict)
    cameras: dict[tuple[str, str], str] = field(default_factory=dict)

    def project(self, site_id: str) -> str:
        return self.projects.get(site_id) or site_id

    def camera(self, site_id: str, camera_id: str) -> str:
        return self.cameras.get((site_id, camera_id)) or camera_id


def place_names(s: Session, site_ids: Iterable[str]) -> PlaceNames:
    """The names of these projects and of their cameras, in two queries."""
    sites = sorted(set(site_ids))
    if not sites:
        return PlaceNames()
    projects = s.execute(
        select(ProjectRow.site_id, ProjectRow.name).where(ProjectRow.site_id.in_(sites))
    ).all()
    return PlaceNames({site: name for site, name in projects if name}, _cameras(s, sites))


def camera_names(s: Session, site_id: str) -> dict[tuple[str, str], str]:
    """The registered names of one project's cameras, by (site id, camera id)."""
    return _cameras(s, [site_id])


def _cameras(s: Session, sites: list[str]) -> dict[tuple[str, str], str]:
    rows = s.execute(
        select(CameraRow.site_id, CameraRow.camera_id, CameraRow.name).where(
            CameraRow.site_id.in_(sites)
        )
    ).all()
    return {(site, cam): name for site, cam, name in rows if name}
