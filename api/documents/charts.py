"""Small server-rendered SVG charts (no JavaScript, no chart library): bars and a line.

Text is escaped; the SVG scales with its container (viewBox) so it reads on a phone.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2")


def bar_chart(data: dict[str, float], title: str = "", width: int = 480, bar_h: int = 22) -> Markup:
    """Horizontal bars, one per key, labelled with its value."""
    if not data:
        return Markup(f'<p class="empty">{escape(title)}: —</p>')
    label_w, pad = 150, 6
    top = 22 if title else 4
    height = top + len(data) * (bar_h + pad) + 4
    peak = max(max(data.values()), 1e-9)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if title:
        parts.append(f'<text x="0" y="15" font-size="14" font-weight="bold">{escape(title)}</text>')
    for i, (k, v) in enumerate(data.items()):
        y = top + i * (bar_h + pad)
        w = (width - label_w - 60) * v / peak
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.1f}" font-size="12" '
            f'text-anchor="end">{escape(str(k))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h * 0.7:.1f}" '
            f'font-size="12">{v:g}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    points: list[tuple[str, float]],
    title: str = "",
    lo: float | None = None,
    hi: float | None = None,
    width: int = 480,
    height: int = 160,
) -> Markup:
    """A line over labelled x positions, y from lo to hi (e.g. the premium band)."""
    if not points:
        return Markup(f'<p class="empty">{escape(title)}: —</p>')
    values = [v for _, v in points]
    lo = min(values) if lo is None else lo
    hi = max(values) if hi is None else hi
    span = (hi - lo) or 1.0
    left, right, top, bottom = 44, 12, 24 if title else 8, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h * (1 - (v - lo) / span)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if title:
        parts.append(f'<text x="0" y="15" font-size="14" font-weight="bold">{escape(title)}</text>')
    for v in (lo, (lo + hi) / 2, hi):
        _, y = xy(0, v)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{v:.2f}</text>'
        )
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(values)))
    parts.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    for i, (label, v) in enumerate(points):
        x, y = xy(i, v)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{PALETTE[0]}"><title>'
            f"{escape(label)}: {v:.3f}</title></circle>"
            f'<text x="{x:.1f}" y="{height - 6}" font-size="10" text-anchor="middle">'
            f"{escape(label[-5:])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
