"""The web console: server-rendered pages over the same data, roles and scopes as the API.

Log in with an API key: the console keeps a random session token in an HttpOnly cookie
(only its sha256 is stored) that stands for the key, so every page sees exactly what the
key may see. Every form that changes something carries the session's CSRF token. Chinese
by default, English with ?lang=en (remembered in a cookie). Works on a phone-sized screen.
Pages by family: login, home (the dashboard), sites (and zones), hazards, the inbox,
notices, alarms (告警中心, every role), bulletin, insurer (risk).
"""

from __future__ import annotations

from fastapi import APIRouter

from siteguard.api.console import (
    alarm_routes,
    bulletin_routes,
    hazard_routes,
    home_routes,
    inbox_routes,
    insurer_routes,
    login_routes,
    notice_routes,
    site_routes,
)

router = APIRouter(prefix="/console", include_in_schema=False)
FAMILIES = (
    login_routes,
    home_routes,
    site_routes,
    hazard_routes,
    inbox_routes,
    notice_routes,
    alarm_routes,
    bulletin_routes,
    insurer_routes,
)
for family in FAMILIES:
    router.include_router(family.router)
