"""Small server-rendered SVG charts (no JavaScript, no chart library): bars and a line.

Text is escaped; the SVG scales with its container (viewBox) so it reads on a phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from markupsafe import Markup

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2")


def bar_chart(data: dict[str, float], title: str = "", width: int = 480, bar_h: int = 22) -> Markup:
    """Horizontal bars, one per key, labelled with its value."""
    if not data:
        return Markup(f'<p class="empty">{escape(title)}: —</p>')
    label_w, pad = _label_width(data, width), 6
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
    points: Sequence[tuple[str, float | None]],
    title: str = "",
    lo: float | None = None,
    hi: float | None = None,
    width: int = 480,
    height: int = 160,
    font: int = 12,
) -> Markup:
    """A line over labelled x positions, y from lo to hi (e.g. the premium band). A value of
    None is no point (no data yet there): the line starts at the first value. The SVG is
    drawn at most at its own size, so `font` is the smallest size a label is shown at when
    the container is at least `width` wide."""
    values = [v for _, v in points if v is not None]
    if not values:
        return Markup(f'<p class="empty">{escape(title)}: —</p>')
    lo = min(values) if lo is None else lo
    hi = max(values) if hi is None else hi
    span = (hi - lo) or 1.0
    # room for half a label left and right: every x label is centred on its point
    left, right, top, bottom = max(4 + 3 * font, 3 * font), 3 * font, 24 if title else 10, font + 12
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h * (1 - (v - lo) / span)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" style="max-width:{width}px" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if title:
        parts.append(f'<text x="0" y="15" font-size="14" font-weight="bold">{escape(title)}</text>')
    for tick in (lo, (lo + hi) / 2, hi):
        _, y = xy(0, tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + font / 3:.1f}" font-size="{font}" '
            f'text-anchor="end">{tick:.2f}</text>'
        )
    path = " ".join(
        f"{x:.1f},{y:.1f}"
        for x, y in (xy(i, v) for i, (_, v) in enumerate(points) if v is not None)
    )
    parts.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    shown = _labels_that_fit([label for label, _ in points], left, step, font)
    for i, (label, v) in enumerate(points):
        x = left + i * step
        if v is not None:
            _, y = xy(i, v)
            parts.append(
                f'<circle class="point" data-value="{v:.4f}" cx="{x:.1f}" cy="{y:.1f}" r="3.5" '
                f'fill="{PALETTE[0]}"><title>{escape(label)}: {v:.3f}</title></circle>'
            )
        if i not in shown:
            continue  # it would overlap a neighbour's label: the point keeps its tooltip
        parts.append(
            f'<text x="{x:.1f}" y="{height - 6}" font-size="{font}" '
            f'text-anchor="{_anchor(i, len(points))}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def gauge_chart(
    value: float, lo: float, hi: float, label: str, width: int = 360, font: int = 12
) -> Markup:
    """Where `value` sits inside [lo, hi] (a factor inside its premium band): a bar from
    green (lo) through grey (the middle) to red (hi) with a marker and the three limits."""
    height = 2 * font + 40
    left, right, bar_y, bar_h = 10, 10, font + 8, 14
    span = (hi - lo) or 1.0
    clamped = min(max(value, lo), hi)

    def x(v: float) -> float:
        return left + (width - left - right) * (v - lo) / span

    mid = (lo + hi) / 2
    parts = [
        f'<svg class="chart gauge" viewBox="0 0 {width} {height}" style="max-width:{width}px" '
        f'role="img" aria-label="{escape(label)}" data-value="{value:.4f}" '
        'xmlns="http://www.w3.org/2000/svg">',
        '<defs><linearGradient id="band" x1="0" x2="1"><stop offset="0" stop-color="#16a34a"/>'
        '<stop offset="0.5" stop-color="#e5e7eb"/><stop offset="1" stop-color="#dc2626"/>'
        "</linearGradient></defs>",
        f'<rect x="{left}" y="{bar_y}" width="{width - left - right}" height="{bar_h}" '
        'rx="4" fill="url(#band)"/>',
        f'<line x1="{x(mid):.1f}" x2="{x(mid):.1f}" y1="{bar_y - 3}" y2="{bar_y + bar_h + 3}" '
        'stroke="#6b7280"/>',
        f'<path d="M{x(clamped) - 7:.1f},{bar_y - 8} L{x(clamped) + 7:.1f},{bar_y - 8} '
        f'L{x(clamped):.1f},{bar_y + 2} Z" fill="#1f2937"/>',
        f'<line x1="{x(clamped):.1f}" x2="{x(clamped):.1f}" y1="{bar_y}" '
        f'y2="{bar_y + bar_h}" stroke="#1f2937" stroke-width="3"/>',
    ]
    ty = bar_y + bar_h + font + 4
    for v, anchor in ((lo, "start"), (mid, "middle"), (hi, "end")):
        parts.append(
            f'<text x="{x(v):.1f}" y="{ty}" font-size="{font}" text-anchor="{anchor}">'
            f"{v:.2f}</text>"
        )
    vx = min(max(x(clamped), left + 2 * font), width - right - 2 * font)
    parts.append(
        f'<text x="{vx:.1f}" y="{font}" font-size="{font}" font-weight="bold" '
        f'text-anchor="middle">{value:.3f}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def waterfall_chart(
    steps: list[tuple[str, int]],
    start_label: str,
    end_label: str,
    width: int = 360,
    font: int = 12,
) -> Markup:
    """A factor's waterfall from 1.000: one row per step (text, change in thousandths), a
    bar from the running total before the step to after it (red raises, green lowers), and
    the total. Each row's text sits above its bar, so long words fit a phone."""
    totals = [1000]
    for _, milli in steps:
        totals.append(totals[-1] + milli)
    pad = max((max(totals) - min(totals)) * 0.08, 5.0)
    lo, hi = min(totals) - pad, max(totals) + pad
    row = 2 * font + 14
    height = row * (len(steps) + 2) + 4
    left, right = 4, 60

    def x(milli: float) -> float:
        return left + (width - left - right) * (milli - lo) / (hi - lo)

    parts = [
        f'<svg class="chart waterfall" viewBox="0 0 {width} {height}" '
        f'style="max-width:{width}px" role="img" aria-label="{escape(end_label)}" '
        f'data-factor="{totals[-1] / 1000:.3f}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{x(1000):.1f}" x2="{x(1000):.1f}" y1="0" y2="{height}" stroke="#9ca3af" '
        'stroke-dasharray="3 3"/>',
    ]

    def bar(i: int, a: float, b: float, colour: str, text: str, value: str, cls: str) -> None:
        y = i * row
        x0, x1 = sorted((x(a), x(b)))
        parts.append(
            f'<g class="{cls}"><text x="{left}" y="{y + font + 2}" font-size="{font}">'
            f"{escape(text)}</text>"
            f'<rect x="{x0:.1f}" y="{y + font + 6}" width="{max(x1 - x0, 2):.1f}" '
            f'height="{font - 2}" fill="{colour}"/>'
            f'<text x="{width - 2}" y="{y + 2 * font + 4}" font-size="{font}" '
            f'text-anchor="end">{escape(value)}</text></g>'
        )

    bar(0, 1000, 1000, "#6b7280", start_label, "1.000", "start")
    for i, (text, milli) in enumerate(steps):
        colour = "#dc2626" if milli > 0 else "#16a34a"
        value = f"{milli / 10:+.1f} %"
        bar(i + 1, totals[i], totals[i + 1], colour, text, value, f'step" data-milli="{milli}')
    bar(len(steps) + 1, 1000, totals[-1], "#1d4ed8", end_label, f"{totals[-1] / 1000:.3f}", "total")
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bar_chart(
    data: dict[str, dict[str, float]],
    colours: dict[str, str],
    legend: dict[str, str] | None = None,
    title: str = "",
    width: int = 480,
    bar_h: int = 22,
    decimals: int = 0,
) -> Markup:
    """Horizontal bars, one per key, each split into the series of `colours` (in that
    order, e.g. levels: the colour means the level); the total at the end; a legend of
    `legend` (series -> label) under the title."""
    if not data:
        return Markup(f'<p class="empty">{escape(title)}: —</p>')
    label_w, pad = _label_width(data, width), 6
    top = (22 if title else 4) + (20 if legend else 0)
    height = top + len(data) * (bar_h + pad) + 4
    totals = {k: sum(v.get(s, 0) for s in colours) for k, v in data.items()}
    peak = max(max(totals.values()), 1e-9)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if title:
        parts.append(f'<text x="0" y="15" font-size="14" font-weight="bold">{escape(title)}</text>')
    if legend:
        lx, ly = label_w, (22 if title else 4) + 2
        for series, label in legend.items():
            parts.append(
                f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colours[series]}"/>'
                f'<text x="{lx + 16}" y="{ly + 11}" font-size="12">{escape(label)}</text>'
            )
            lx += 30 + 13 * len(label)
    for i, (k, parts_of) in enumerate(data.items()):
        y = top + i * (bar_h + pad)
        x = float(label_w)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.1f}" font-size="12" '
            f'text-anchor="end">{escape(str(k))}</text>'
        )
        for series, colour in colours.items():
            v = parts_of.get(series, 0)
            w = (width - label_w - 60) * v / peak
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                    f'fill="{colour}"><title>{escape(str(k))}: {v:.{decimals}f}</title></rect>'
                )
            x += w
        parts.append(
            f'<text x="{x + 4:.1f}" y="{y + bar_h * 0.7:.1f}" font-size="12">'
            f"{totals[k]:.{decimals}f}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _label_width(data: dict[str, Any], width: int, font: float = 12) -> int:
    """The bars' label column: as wide as the longest label (150 px at least, as before),
    at most half the chart, so "unprotected edge or opening" is not cut to its end."""
    longest = max((text_width(str(k), font) for k in data), default=0.0)
    return int(min(width / 2, max(150.0, longest + 12)))


def _anchor(i: int, n: int) -> str:
    """The first x label starts at its point, the last ends at it, the others centre."""
    return "start" if i == 0 and n > 1 else "end" if i == n - 1 else "middle"


def text_width(text: str, font: float) -> float:
    """About how wide ``text`` is drawn: a CJK character is square, others about 0.6 of it."""
    return sum(font if ord(c) > 0x2E80 else 0.6 * font for c in text)


def _labels_that_fit(labels: Sequence[str], left: float, step: float, font: float) -> set[int]:
    """Indices of the x labels to draw so that none overlaps another (4 px apart at
    least): the last one always (the newest value), the first, then every other one
    that still has room, from the left."""
    n = len(labels)

    def extent(i: int) -> tuple[float, float]:
        x, w = left + i * step, text_width(labels[i], font)
        anchor = _anchor(i, n)
        return (
            (x, x + w)
            if anchor == "start"
            else (x - w, x)
            if anchor == "end"
            else (
                x - w / 2,
                x + w / 2,
            )
        )

    if n == 0:
        return set()
    last = extent(n - 1)
    shown, right_edge = {n - 1}, -1e9
    for i in range(n - 1):
        a, b = extent(i)
        if a >= right_edge + 4 and b + 4 <= last[0]:
            shown.add(i)
            right_edge = b
    return shown


def trend_chart(
    points: list[tuple[str, float | None]],
    title: str = "",
    colour: str = "#1d4ed8",
    percent: bool = False,
    width: int = 300,
    height: int = 130,
) -> Markup:
    """A small line over labelled x positions (e.g. months) from zero up, each point
    labelled with its value (a percentage when `percent`); a None leaves a gap."""
    if not points:
        return Markup(f'<p class="empty">{escape(title)}: —</p>')
    values = [v for _, v in points if v is not None]
    hi = max(values, default=0) or 1.0
    left, right, top, bottom = 22, 22, 34 if title else 16, 20
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def text_of(v: float) -> str:
        return f"{v * 100:.0f}%" if percent else f"{v:g}"

    parts = [
        f'<svg class="chart trend" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if title:
        parts.append(f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>')
    base = top + plot_h
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="#d1d5db"/>'
    )
    segment: list[str] = []
    lines: list[list[str]] = [segment]
    for i, (label, v) in enumerate(points):
        x = left + i * step
        parts.append(
            f'<text x="{x:.1f}" y="{height - 5}" font-size="10" text-anchor="middle" '
            f'fill="#6b7280">{escape(label)}</text>'
        )
        if v is None:
            segment = []
            lines.append(segment)
            continue
        y = top + plot_h * (1 - v / hi)
        segment.append(f"{x:.1f},{y:.1f}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'
            f'<text x="{x:.1f}" y="{y - 6:.1f}" font-size="10" text-anchor="middle">'
            f"{escape(text_of(v))}</text>"
        )
    for seg in lines:
        if len(seg) > 1:
            parts.append(
                f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                'stroke-width="2"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
