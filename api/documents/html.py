"""The Jinja templates of the printable pages and the console (`api/templates`)."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from siteguard.api.store.clock import china_text, utc_naive


@cache
def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("siteguard.api", "templates"), autoescape=select_autoescape()
    )
    env.filters["china"] = china_of_iso
    return env


def china_of_iso(value: str) -> str:
    """A payload time (ISO 8601 UTC) as people on site read it: China time."""
    try:
        return china_text(utc_naive(datetime.fromisoformat(value)))
    except (TypeError, ValueError):
        return str(value)
