"""Projects: a site under watch with its insurer, contractor, responsible person and
jurisdiction (the site id is the edge's)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.errors import Invalid
from siteguard.api.records import audit
from siteguard.api.store.tables import ProjectRow

SITE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# scheme, host (name, IPv4 or [IPv6]), optional port, a path ending in '/'; no userinfo,
# query, fragment, spaces or backslashes
EVIDENCE_BASE_URL = re.compile(
    r"https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%!$&'()*+,;=:-]*)*/"
)


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    address: str = Field("", max_length=300)
    permit_no: str = Field("", max_length=100)
    policy_no: str = Field("", max_length=100)
    insurer: str = Field("", max_length=200)
    contractor: str = Field("", max_length=200)
    responsible_person: str = Field("", max_length=100)
    responsible_phone: str = Field("", max_length=50)
    jurisdiction: str = Field("", max_length=100)
    risk_product: str = Field(
        "default", max_length=64, description="premium rate/band configuration (api settings)"
    )
    evidence_base_url: str = Field(
        "",
        max_length=300,
        description="The site's edge box, e.g. http://10.1.2.3:8090/evidence/ (ends in '/'): "
        "the API fetches evidence only from URIs under it; empty: none is fetched",
    )

    @field_validator("evidence_base_url")
    @classmethod
    def _edge_box_url(cls, v: str) -> str:
        if not v:
            return v
        dots = any(seg in (".", "..") for seg in urlsplit(v).path.split("/"))
        if not EVIDENCE_BASE_URL.fullmatch(v) or dots or (urlsplit(v).port or 1) > 65535:
            raise ValueError(
                "must be empty or an http(s) URL ending in '/', without user, query or fragment"
            )
        return v


class ProjectOut(ProjectIn):
    model_config = ConfigDict(extra="forbid")
    site_id: str


def project_json(p: ProjectRow) -> dict[str, Any]:
    return {"site_id": p.site_id, **{k: getattr(p, k) for k in ProjectIn.model_fields}}


def save_project(
    s: Session, site_id: str, body: ProjectIn, actor: str, risk_products: Iterable[str]
) -> ProjectRow:
    """Register or update a project (its risk product must be configured)."""
    products = list(risk_products)
    if body.risk_product not in products:
        raise Invalid(
            f"unknown risk_product {body.risk_product!r} (configured: {', '.join(products)})"
        )
    p = s.scalar(select(ProjectRow).where(ProjectRow.site_id == site_id))
    if p is None:
        p = ProjectRow(site_id=site_id, **body.model_dump())
        s.add(p)
    else:
        for k, v in body.model_dump().items():
            setattr(p, k, v)
    audit.append(s, actor, "project.saved", "project", site_id, body.model_dump())
    return p
