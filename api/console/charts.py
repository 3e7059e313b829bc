"""Server-drawn SVG charts for the console (no script, readable on any phone)."""

from __future__ import annotations

from markupsafe import Markup

from siteguard.api.overview.figures import DayCount

MAJOR, GENERAL = "#dc2626", "#2563eb"


def trend_svg(days: list[DayCount], top: int) -> Markup:
    """New hazards per day as stacked bars (major on top of general), with the day's count
    over each bar and a date under every bar (every fifth on a 30-day chart)."""
    width, height, left, base = 600, 170, 8, 140
    slot = (width - 2 * left) / max(len(days), 1)
    bar = max(slot * 0.7, 2)
    every = 1 if len(days) <= 10 else 5
    parts = [
        f'<svg class="chart" id="trend-chart" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" x2="{width - left}" y1="{base}" y2="{base}" stroke="#9ca3af"/>',
    ]
    for i, d in enumerate(days):
        x = left + i * slot + (slot - bar) / 2
        h_general = 110 * d.general / top
        h_major = 110 * d.major / top
        label = d.day[5:]
        parts.append(
            f'<g class="day" data-day="{d.day}" data-general="{d.general}" '
            f'data-major="{d.major}"><title>{d.day}: {d.total}</title>'
            f'<rect x="{x:.1f}" y="{base - h_general:.1f}" width="{bar:.1f}" '
            f'height="{h_general:.1f}" fill="{GENERAL}"/>'
            f'<rect x="{x:.1f}" y="{base - h_general - h_major:.1f}" width="{bar:.1f}" '
            f'height="{h_major:.1f}" fill="{MAJOR}"/>'
        )
        if d.total:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{base - h_general - h_major - 3:.1f}" '
                f'font-size="10" text-anchor="middle">{d.total}</text>'
            )
        if i % every == 0 or i == len(days) - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{base + 14}" font-size="10" '
                f'text-anchor="middle">{label}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))
