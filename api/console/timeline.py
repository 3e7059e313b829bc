"""The site page's timeline: open hazards as bars on a 7-day axis (red: major)."""

from __future__ import annotations

from datetime import datetime, timedelta

from markupsafe import Markup, escape

from siteguard.api.store.clock import china_time
from siteguard.api.store.tables import HazardRow
from siteguard.contract.hazards import hazard_name


def timeline_svg(
    hazards: list[HazardRow], now: datetime, days: int = 7, lang: str = "zh"
) -> Markup:
    start = now - timedelta(days=days)
    width, row_h = 600, 14
    height = 24 + max(len(hazards), 1) * row_h
    span = (now - start).total_seconds()
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for d in range(days + 1):
        x = 40 + (width - 50) * d / days
        label = china_time(start + timedelta(days=d)).strftime("%m-%d")
        parts.append(
            f'<line x1="{x:.0f}" x2="{x:.0f}" y1="12" y2="{height}" stroke="#e5e7eb"/>'
            f'<text x="{x:.0f}" y="10" font-size="9" text-anchor="middle">{label}</text>'
        )
    for i, h in enumerate(hazards):
        a = max((h.first_seen - start).total_seconds(), 0) / span
        b = max((h.last_seen - start).total_seconds(), 0) / span
        x1 = 40 + (width - 50) * a
        w = max((width - 50) * (b - a), 3)
        colour = "#dc2626" if h.level == "major" else "#2563eb"
        title = f"#{h.id} {escape(hazard_name(h.hazard_type, lang))} {escape(h.camera_id)}"
        parts.append(
            f'<text x="0" y="{24 + i * row_h + 9}" font-size="9">#{h.id}</text>'
            f'<rect x="{x1:.1f}" y="{16 + i * row_h + 2}" width="{w:.1f}" height="{row_h - 4}" '
            f'fill="{colour}"><title>{title}</title></rect>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
