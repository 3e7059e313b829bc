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

A key may expire (``expires_at``) and be revoked (``revoked_at``, `revoke_keys`); from
then on it is refused (401), and so is every console session opened with it: both go
through `key_principal`. An edge key stands for a box on site, not a person: it may only
call `EDGE_ROUTES` (post its events, read its site's cameras for the zone sync); every
other call is refused (403) in one place, `Principal.check_route`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.errors import Forbidden, NotFound, Unauthorized
from siteguard.api.store.clock import iso, now_naive, utc_naive
from siteguard.api.store.tables import ApiKeyRow, ProjectRow

Role = Literal["admin", "inspector", "contractor", "regulator", "insurer", "edge"]
ROLES: tuple[str, ...] = ("admin", "inspector", "contractor", "regulator", "insurer", "edge")

# (method, route path) an edge key may call: post its hazard events, and read its site's
# cameras and zones (edge/zone_sync.py). Everything else (hazards, notices with the
# responsible person's phone, projects, insurer and regulator views, dead letters) is
# refused: a key copied off a site box must not read the office's records.
# the roles of people (every role but an edge box's key); admin passes every `require`
PEOPLE = ("regulator", "inspector", "insurer", "contractor")
EDGE_ROUTES = frozenset({("POST", "/api/v1/events"), ("GET", "/api/v1/projects/{site_id}/cameras")})


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
            raise Forbidden(
                f"role {self.role} may not do this (needs {' or '.join(roles)})",
                "当前角色无权执行此操作",
            )

    def check_route(self, method: str, route: str) -> None:
        """Refuse a call the role may never make, whatever the scope: for an edge key,
        anything outside `EDGE_ROUTES` (``route`` is the route's path template)."""
        method = "GET" if method == "HEAD" else method
        if self.role == "edge" and (method, route) not in EDGE_ROUTES:
            raise Forbidden(
                "role edge may only post events and read its site's cameras "
                "(POST /api/v1/events, GET /api/v1/projects/{site_id}/cameras)"
            )


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    s: Session,
    name: str,
    role: str,
    site_ids: list[str] | None = None,
    jurisdiction: str = "",
    insurer: str = "",
    expires_at: datetime | None = None,
) -> str:
    """Store a new key and return it (the only time it is visible); ``expires_at``: it is
    refused from then on (None: until revoked)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    now = now_naive()
    if expires_at is not None and utc_naive(expires_at) <= now:
        raise ValueError(f"the expiry {iso(expires_at)} is not in the future")
    key = "sg_" + secrets.token_urlsafe(24)
    s.add(
        ApiKeyRow(
            key_sha256=hash_key(key),
            name=name,
            role=role,
            site_ids=",".join(site_ids or []),
            jurisdiction=jurisdiction,
            insurer=insurer,
            created_at=now,
            expires_at=None if expires_at is None else utc_naive(expires_at),
        )
    )
    s.flush()
    return key


def refusal(row: ApiKeyRow | None, now: datetime | None = None) -> str | None:
    """Why a key is refused (None: it is valid now)."""
    now = now or now_naive()
    if row is None:
        return "unknown API key"
    if row.revoked_at is not None:
        return f"API key revoked at {iso(row.revoked_at)}"
    if row.expires_at is not None and row.expires_at <= now:
        return f"API key expired at {iso(row.expires_at)}"
    return None


def authenticate(s: Session, key_sha256: str) -> Principal:
    """The principal behind a key hash; Unauthorized if unknown, revoked or expired."""
    row = s.scalar(select(ApiKeyRow).where(ApiKeyRow.key_sha256 == key_sha256))
    why = refusal(row)
    if why is not None or row is None:
        raise Unauthorized(why or "unknown API key")
    return _principal(row)


def key_principal(s: Session, key_sha256: str) -> Principal | None:
    """The principal behind a stored key hash (None: no such key, or one revoked or
    expired, so a console session stops working with its key)."""
    row = s.scalar(select(ApiKeyRow).where(ApiKeyRow.key_sha256 == key_sha256))
    if row is None or refusal(row) is not None:
        return None
    return _principal(row)


def list_keys(s: Session) -> list[ApiKeyRow]:
    """Every key ever made (revoked and expired ones too), oldest first."""
    return list(s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)))


def revoke_keys(s: Session, name_or_id: str, now: datetime | None = None) -> list[ApiKeyRow]:
    """Revoke the key with this id (a number) or every key held under this name; the
    keys matched (those revoked before keep their time). NotFound if none matches."""
    cond = (
        ApiKeyRow.id == int(name_or_id)
        if name_or_id.isdigit() and len(name_or_id) < 10
        else ApiKeyRow.name == name_or_id
    )
    rows = list(s.scalars(select(ApiKeyRow).where(cond).order_by(ApiKeyRow.id)))
    if not rows:
        raise NotFound(f"no API key with id or name {name_or_id!r}")
    at = utc_naive(now) if now else now_naive()
    for row in rows:
        if row.revoked_at is None:
            row.revoked_at = at
    s.flush()
    return rows


def _principal(row: ApiKeyRow) -> Principal:
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
