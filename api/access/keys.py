"""API keys, roles and scopes.

| role | may see | may do |
| --- | --- | --- |
| admin | everything | everything, manage keys and projects |
| inspector | projects of its insurer | issue notices, re-inspect, reject, close, dismiss alarms |
| contractor | its own sites | acknowledge notices, submit rectification proof |
| regulator | projects in its jurisdiction | read |
| insurer | its insured projects | read |
| edge | its own sites | post hazard events |

A request carries ``Authorization: Bearer <key>`` (or a console session standing for a
key, `access.sessions`); only the key's sha256 is stored. The HTTP side (reading the
header, the CSRF check) is `api.deps`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.errors import Forbidden, NotFound
from siteguard.api.store.tables import ApiKeyRow, ProjectRow

Role = Literal["admin", "inspector", "contractor", "regulator", "insurer", "edge"]
ROLES: tuple[str, ...] = ("admin", "inspector", "contractor", "regulator", "insurer", "edge")


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    site_ids: frozenset[str] = frozenset()
    jurisdiction: str = ""
    insurer: str = ""

    def sees(self, project: ProjectRow | None, site_id: str) -> bool:
        """May this principal see (anything of) the site?"""
        if self.role == "admin":
            return True
        if self.role in ("contractor", "edge"):
            return site_id in self.site_ids
        if project is None:
            return False
        if self.role == "regulator":
            return bool(self.jurisdiction) and project.jurisdiction == self.jurisdiction
        if self.role in ("insurer", "inspector"):
            return bool(self.insurer) and project.insurer == self.insurer
        return False

    def require(self, *roles: str) -> None:
        if self.role not in roles and self.role != "admin":
            raise Forbidden(f"role {self.role} may not do this (needs {' or '.join(roles)})")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    s: Session,
    name: str,
    role: str,
    site_ids: list[str] | None = None,
    jurisdiction: str = "",
    insurer: str = "",
) -> str:
    """Store a new key and return it (the only time it is visible)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    key = "sg_" + secrets.token_urlsafe(24)
    s.add(
        ApiKeyRow(
            key_sha256=hash_key(key),
            name=name,
            role=role,
            site_ids=",".join(site_ids or []),
            jurisdiction=jurisdiction,
            insurer=insurer,
        )
    )
    s.flush()
    return key


def key_principal(s: Session, key_sha256: str) -> Principal | None:
    """The principal behind a stored key hash (None: no such key)."""
    row = s.scalar(select(ApiKeyRow).where(ApiKeyRow.key_sha256 == key_sha256))
    if row is None:
        return None
    return Principal(
        row.name,
        row.role,
        frozenset(x for x in row.site_ids.split(",") if x),
        row.jurisdiction,
        row.insurer,
    )


def check_site(s: Session, who: Principal, site_id: str) -> ProjectRow | None:
    """The project of a site the caller may see; 404 (not 403) so scopes leak no names."""
    project = s.scalar(select(ProjectRow).where(ProjectRow.site_id == site_id))
    if not who.sees(project, site_id):
        raise NotFound(f"no such site {site_id!r}")
    return project


def scope_filter(who: Principal) -> Any:
    """A SQL condition on ProjectRow for what the caller may list (None = everything)."""
    if who.role == "admin":
        return None
    if who.role in ("contractor", "edge"):
        return ProjectRow.site_id.in_(sorted(who.site_ids) or [""])
    if who.role == "regulator":
        return ProjectRow.jurisdiction == (who.jurisdiction or "\x00")
    return ProjectRow.insurer == (who.insurer or "\x00")


def visible_projects(s: Session, who: Principal) -> list[ProjectRow]:
    """The projects the caller may see, by site id."""
    q = select(ProjectRow).order_by(ProjectRow.site_id)
    cond = scope_filter(who)
    return list(s.scalars(q if cond is None else q.where(cond)))
