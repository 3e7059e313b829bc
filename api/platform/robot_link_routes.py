"""The evidence pictures that 钉钉 messages link to: served without a login to whoever
holds a link the API signed (`robot_formats.picture_link`), for that one hazard's picture
and until the link expires. A wrong or expired signature is refused (403) before anything
is looked up, so the links reveal nothing about other hazards. People open these links on
their phones: a refusal is a page in their language (the console's error page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from siteguard.api.console.deps import lang_of, render
from siteguard.api.console.text import translator
from siteguard.api.deps import Db, RecordId, ServicesDep
from siteguard.api.errors import DomainError, NotFound
from siteguard.api.hazards.evidence import kept_evidence, site_edge_box
from siteguard.api.platform.robot_formats import picture_link_valid
from siteguard.api.platform.robots import DEFAULT_LINK_SECRETS
from siteguard.api.store.tables import HazardRow

router = APIRouter(prefix="/links", tags=["robots"])


@router.get(
    "/evidence/{hazard_id}.jpg",
    summary="A hazard's evidence picture through a signed, expiring link (钉钉 messages)",
    response_class=Response,
)
def linked_evidence(
    request: Request,
    hazard_id: RecordId,
    expires: Annotated[int, Query(ge=0, le=2**40)],
    sig: Annotated[str, Query(min_length=64, max_length=64)],
    db: Db,
    services: ServicesDep,
) -> Response:
    settings = services.settings
    secret = settings.robots.link_secret.get_secret_value()
    unset = secret.strip().lower() in DEFAULT_LINK_SECRETS  # links are off: forgeable
    if unset or not picture_link_valid(secret, hazard_id, expires, sig):
        detail = translator(lang_of(request))("link_invalid")
        return render(request, "error.html", status=403, code=0, detail=detail)
    try:
        h = db.get(HazardRow, hazard_id)
        if h is None:
            raise NotFound(f"no hazard {hazard_id}")
        box = site_edge_box(db, h.site_id, settings.evidence, services.evidence_refusals)
        body, media_type = kept_evidence(
            settings.data_dir, hazard_id, h.evidence_uri, "picture", box
        )
    except DomainError as exc:  # told without its detail: no edge box address to strangers
        detail = translator(lang_of(request))("link_no_picture")
        return render(request, "error.html", status=exc.status, code=0, detail=detail)
    return Response(body, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})
