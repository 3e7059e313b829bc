"""The Jinja templates of the printable pages and the console (`api/templates`)."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape


@cache
def templates() -> Environment:
    return Environment(
        loader=PackageLoader("siteguard.api", "templates"), autoescape=select_autoescape()
    )
