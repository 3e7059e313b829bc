"""Zones drawn in the web console reach the edge: at start, and then every `api.refresh_s`,
a worker with `api.url` and an edge key fetches its site's cameras from the API and uses
the zones registered there for every camera the API knows. If the API cannot be reached,
the zones it has stand (and the worker says so): a site box never waits on the office to
watch its cameras."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from siteguard.contract.zones import Zone

log = logging.getLogger(__name__)


class ApiLink(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(None, description="The SiteGuard API, e.g. https://api.example")
    key: SecretStr | None = Field(None, description="An edge key for this site")
    timeout_s: float = Field(5.0, gt=0)
    refresh_s: float = Field(
        60.0, ge=0, description="check the API for changed zones this often; 0: only at start"
    )


class ZoneSyncError(RuntimeError):
    pass


def fetch_zones(link: ApiLink, site_id: str) -> dict[str, list[Zone]]:
    """camera id -> zones, for the cameras registered in the API."""
    if not link.url:
        return {}
    headers = {"Authorization": f"Bearer {link.key.get_secret_value()}"} if link.key else {}
    url = f"{link.url.rstrip('/')}/api/v1/projects/{site_id}/cameras"
    try:
        r = httpx.get(url, headers=headers, timeout=link.timeout_s)
    except httpx.HTTPError as exc:
        raise ZoneSyncError(f"cannot reach the API at {link.url}: {exc}") from exc
    if r.status_code != 200:
        raise ZoneSyncError(f"the API answered {r.status_code} for {url}: {r.text[:200]}")
    out: dict[str, list[Zone]] = {}
    cameras: list[dict[str, Any]] = r.json()
    for cam in cameras:
        if not cam.get("registered", True):
            continue  # known only from its heartbeats: nothing was drawn for it
        try:
            out[cam["camera_id"]] = [Zone.model_validate(z) for z in cam.get("zones", [])]
        except (KeyError, ValidationError) as exc:
            raise ZoneSyncError(f"the API sent invalid zones: {exc}") from exc
    return out
