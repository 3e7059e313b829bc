"""The monthly bulletin as a PDF to file (A4, reportlab, the CJK font embedded as for
notices): header block with the issuing authority, 文号 and issue date; the key figures
against last month (环比, coloured by whether the change is for the better); six-month
trend lines; level-coloured charts (amber general, red major, one legend); the projects to
watch and the full project table (its header row repeated on every page); 文号 and
"第 N 页 / 共 M 页" at the foot of every page."""

from __future__ import annotations

from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    HRFlowable,
    Paragraph,
    Spacer,
    Table,
)
from reportlab.platypus.flowables import Flowable

from siteguard.api.bulletin.changes import KPI_BY_KEY, TREND_KEYS
from siteguard.api.bulletin.words import (
    ASSESSMENT_COLOURS,
    LEVEL_COLOURS,
    change_text,
    figure_text,
    header,
    words,
)
from siteguard.api.documents.pdf import a4_pdf, cjk_font, esc, pdf_styles
from siteguard.contract.hazards import hazard_name

RED = colors.HexColor("#cc0000")
LEVEL = {k: colors.HexColor(v) for k, v in LEVEL_COLOURS.items()}
TOP_COLUMNS: tuple[str, ...] = ("project", "col_hazards", "col_major", "col_overdue")
TOP_COLUMNS += ("col_factor", "col_inspection", "col_reasons")
PROJECT_WIDTHS = [48, 18, 13, 13, 13, 13, 20, 13, 13, 16]  # mm, 180 in all


def numbered_canvas(font: str, number: str, page_words: str) -> type[Canvas]:
    """A canvas that keeps every page until the end, then writes each page's foot: the
    document number and 第 N 页 / 共 M 页 (the total is only known then)."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for i, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self.setFont(font, 8)
                self.setFillColor(colors.HexColor("#444444"))
                self.drawString(15 * mm, 9 * mm, number)
                self.drawRightString(A4[0] - 15 * mm, 9 * mm, page_words.format(n=i, m=total))
                super().showPage()
            super().save()

    return NumberedCanvas


def _legend(font: str, w: Any) -> list[Any]:
    """The level legend's shapes (amber general, red major), drawn from (0, 0)."""
    out: list[Any] = []
    x = 0.0
    out.append(String(x, 1, w("legend") + w("colon"), fontName=font, fontSize=8))
    x += 12 * mm
    for level, colour in LEVEL.items():
        out.append(Rect(x, 0, 3 * mm, 3 * mm, fillColor=colour, strokeColor=None))
        out.append(String(x + 4 * mm, 1, w(level), fontName=font, fontSize=8))
        x += 22 * mm
    return out


def _bars(
    data: dict[str, dict[str, float]],
    series: dict[str, colors.Color],
    title: str,
    font: str,
    fmt: str = "%d",
    legend: list[Any] | None = None,
) -> Drawing:
    """Horizontal bars, each split into `series` (e.g. levels), the total at the end; the
    legend's shapes go under the title."""
    n = max(len(data), 1)
    extra = 6 * mm if legend else 0
    d = Drawing(170 * mm, 14 * mm + n * 7 * mm + extra)
    d.add(String(0, d.height - 10, title, fontName=font, fontSize=10))
    for shape in legend or []:
        shape.y += d.height - 10 - extra
        d.add(shape)
    totals = [sum(v.get(s, 0) for s in series) for v in data.values()] or [0]
    peak = max(max(totals), 1e-9) * 1.12
    chart = HorizontalBarChart()
    chart.x, chart.y = 38 * mm, 4 * mm
    chart.width, chart.height = 120 * mm, n * 7 * mm
    chart.data = [[v.get(s, 0) for v in data.values()] or [0] for s in series]
    chart.categoryAxis.categoryNames = list(data.keys()) or ["—"]
    chart.categoryAxis.reverseDirection = True  # first key on top, as in the page
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, peak
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.visibleLabels = False
    for i, colour in enumerate(series.values()):
        chart.bars[i].fillColor = colour
        chart.bars[i].strokeColor = None
    d.add(chart)
    step = chart.height / n
    for i, total in enumerate(totals):
        y = chart.y + chart.height - (i + 0.5) * step - 3
        x = chart.x + chart.width * total / peak + 2
        d.add(String(x, y, fmt % total, fontName=font, fontSize=7))
    return d


def _trend(
    label: str, months: list[str], values: list[Any], rate: bool, font: str, major: bool
) -> Drawing:
    d = Drawing(56 * mm, 34 * mm)
    d.add(String(0, d.height - 9, label, fontName=font, fontSize=8))
    chart = HorizontalLineChart()
    chart.x, chart.y = 8 * mm, 6 * mm
    chart.width, chart.height = 44 * mm, 20 * mm
    shown = [None if v is None else (v * 100 if rate else v) for v in values]
    if sum(v is not None for v in shown) < 2:  # a line needs two points (reportlab refuses one)
        known = [v for v in shown if v is not None]
        text = ("%.0f%%" if rate else "%.0f") % known[0] if known else "-"
        d.add(String(8 * mm, 14 * mm, text, fontName=font, fontSize=9))
        return d
    chart.data = [shown]
    chart.categoryAxis.categoryNames = [m[-2:] for m in months]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max([v for v in shown if v is not None] + [1]) * 1.15
    chart.valueAxis.labels.fontSize = 6
    chart.valueAxis.labelTextFormat = "%d%%" if rate else "%.0f"
    chart.lines[0].strokeColor = LEVEL["major"] if major else colors.HexColor("#1d4ed8")
    chart.lines[0].strokeWidth = 1.2
    chart.lineLabelFormat = "values"  # a month without a figure gets no label
    # reportlab skips the missing months and numbers the labels of the points it draws
    chart.lineLabelArray = [[("%.0f%%" if rate else "%.0f") % v for v in shown if v is not None]]
    chart.lineLabels.fontSize = 6
    chart.lineLabels.dy = 3
    d.add(chart)
    return d


def _grid(font: str, header: bool = True) -> list[tuple[Any, ...]]:
    style: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    return style


def bulletin_pdf(b: dict[str, Any], lang: str = "zh", band_percent: int = 20) -> bytes:
    font, st, w = cjk_font(), pdf_styles(), words(lang)
    head = header(b, lang)
    centre = st["title"].clone("centre", fontSize=10, leading=14)
    masthead = st["title"].clone("masthead", fontSize=20, leading=26, textColor=RED)
    kpis: list[list[Any]] = [[w("kpi"), w("this_month"), w("last_month"), w("change"), ""]]
    style = _grid(font)
    for row, c in enumerate(b["changes"], 1):
        kpis.append(
            [
                w(c["key"]),
                figure_text(c["key"], c["value"]),
                figure_text(c["key"], c["previous"]),
                change_text(c, lang),
                w(c["assessment"]),
            ]
        )
        colour = colors.HexColor(ASSESSMENT_COLOURS[c["assessment"]])
        style.append(("TEXTCOLOR", (3, row), (4, row), colour))
    months = b["trend"]["months"]
    charts = [
        _trend(
            w(k),
            months,
            b["trend"]["series"][k],
            KPI_BY_KEY[k].unit == "rate",
            font,
            major=k == "major_hazards",
        )
        for k in TREND_KEYS
    ]
    trend_rows = [charts[i : i + 3] for i in range(0, len(charts), 3)]
    top = [[w(k) for k in TOP_COLUMNS]] + [
        [
            Paragraph(esc(f"{r['name']}（{r['site_id']}）"), st["base"]),
            r["hazards"],
            r["major"],
            r["overdue"],
            f"{r['factor']:.3f}",
            w(r["inspection"]),
            Paragraph(
                esc(
                    ("；" if lang == "zh" else "; ").join(
                        r["reasons_zh" if lang == "zh" else "reasons"]
                    )
                ),
                st["base"],
            ),
        ]
        for r in b["top_risk"]
    ]
    keys = ["col_hours", "col_hazards", "col_major", "col_dismissed", "col_notices"]
    keys += ["col_closed_items", "col_overdue", "col_escalations", "col_factor"]
    projects: list[list[Any]] = [[w("project")] + [w(k) for k in keys]]
    project_style = [*_grid(font), ("ALIGN", (1, 0), (-1, -1), "RIGHT")]
    for row, r in enumerate(b["projects"], 1):
        projects.append(
            [
                Paragraph(esc(f"{r['name']}（{r['site_id']}）"), st["base"]),
                f"{r['camera_hours']:g}",
                r["hazards"],
                r["major"],
                r["dismissed"],
                r["notices"],
                f"{r['items_closed']}/{r['notice_items']}",
                r["overdue"],
                r["escalations"],
                f"{r['factor']:.3f}",
            ]
        )
        if r["major"]:
            project_style.append(("TEXTCOLOR", (3, row), (3, row), LEVEL["major"]))
    by_type = {hazard_name(k, lang): v for k, v in b["hazards_by_type_level"].items()}
    levels = b["hazards_by_level"]
    story: list[Flowable] = [
        Paragraph(esc(head["authority"]), masthead),
        Paragraph(esc(head["number"]), centre),
        HRFlowable(width="100%", thickness=1.5, color=RED, spaceBefore=2 * mm, spaceAfter=3 * mm),
        Paragraph(esc(head["title"]), st["title"]),
        Table(
            [
                [
                    f"{w('period')}{w('colon')}{head['period']}",
                    f"{w('issue_date')}{w('colon')}{head['issue_date']}",
                ]
            ],
            colWidths=[110 * mm, 70 * mm],
            style=[
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
            ],
        ),
        Paragraph(esc(w("kpis")), st["h2"]),
        Table(kpis, colWidths=[58 * mm, 28 * mm, 28 * mm, 42 * mm, 16 * mm], style=style),
        Paragraph(esc(w("trend")), st["h2"]),
        Table(trend_rows, colWidths=[60 * mm] * 3),
        Spacer(1, 2 * mm),
        _bars(by_type, LEVEL, w("by_type"), font, legend=_legend(font, w)),
        _bars(
            {w("general"): {"general": levels["general"]}, w("major"): {"major": levels["major"]}},
            LEVEL,
            w("by_level"),
            font,
        ),
        _bars(
            {r["name"][:12]: {"factor": r["factor"]} for r in b["top_risk"]},
            {"factor": colors.HexColor("#475569")},
            w("factors"),
            font,
            "%.3f",
        ),
        Paragraph(esc(w("top_risk")), st["h2"]),
        Table(
            top,
            colWidths=[x * mm for x in (46, 12, 12, 12, 16, 20, 62)],
            style=_grid(font),
            repeatRows=1,
        ),
        Paragraph(esc(w("projects")), st["h2"]),
        Table(
            projects,
            colWidths=[x * mm for x in PROJECT_WIDTHS],
            style=project_style,
            repeatRows=1,
        ),
        Spacer(1, 3 * mm),
        Paragraph(esc(w("note").replace("{band}", str(band_percent))), st["base"]),
    ]
    return a4_pdf(
        story,
        f"{head['number']} {head['title']}",
        author=head["authority"],
        subject=f"{b['jurisdiction']} {b['month']}",
        bottom_mm=18,
        canvasmaker=numbered_canvas(font, head["number"], w("page")),
    )
