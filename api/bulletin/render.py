"""The monthly bulletin as a page (HTML with SVG charts) and as a PDF (A4, charts drawn by
reportlab, the CJK font embedded as for notices)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from siteguard.api.documents.charts import bar_chart
from siteguard.api.documents.pdf import a4_pdf, cjk_font, esc, pdf_styles

FREQ_ZH = {"weekly": "每周", "biweekly": "每两周", "monthly": "每月"}
_templates = Environment(
    loader=PackageLoader("siteguard.api", "templates"), autoescape=select_autoescape()
)


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def top_factors(b: dict[str, Any]) -> dict[str, float]:
    return {r["name"][:12]: r["factor"] for r in b["top_risk"]}


def bulletin_html(b: dict[str, Any], band_percent: int = 20) -> str:
    return _templates.get_template("bulletin.html").render(
        b=b,
        pct=pct,
        bar_chart=bar_chart,
        factors=top_factors(b),
        freq=FREQ_ZH,
        band=band_percent,
    )


def _bars(data: dict[str, float], title: str, font: str) -> Drawing:
    n = max(len(data), 1)
    d = Drawing(170 * mm, 14 * mm + n * 7 * mm)
    d.add(String(0, d.height - 10, title, fontName=font, fontSize=10))
    chart = HorizontalBarChart()
    chart.x, chart.y = 38 * mm, 4 * mm
    chart.width, chart.height = 120 * mm, n * 7 * mm
    chart.data = [list(data.values()) or [0]]
    chart.categoryAxis.categoryNames = list(data.keys()) or ["—"]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor("#2563eb")
    chart.barLabelFormat = "%g"
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    d.add(chart)
    return d


def bulletin_pdf(b: dict[str, Any]) -> bytes:
    font = cjk_font()
    st = pdf_styles()
    kpis = [
        ["监测项目", f"{b['projects_watched']} / {b['projects_registered']}"],
        ["监测时长（摄像头·小时）", str(b["camera_hours"])],
        ["隐患（重大）", f"{b['hazards']}（{b['hazards_by_level'].get('major', 0)}）"],
        ["整改通知 / 条目", f"{b['notices_issued']} / {b['notice_items']}"],
        ["整改率 / 按期率", f"{pct(b['rectification_rate'])} / {pct(b['on_time_rate'])}"],
        ["月末逾期 / 升级", f"{b['overdue_at_month_end']} / {b['escalations']}"],
        ["误报（已排除）", str(b["dismissed_false_alarms"])],
    ]
    grid = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    top = [["项目", "隐患", "重大", "逾期", "风险系数", "检查频次", "主要原因"]] + [
        [
            Paragraph(esc(f"{r['name']}（{r['site_id']}）"), st["base"]),
            r["hazards"],
            r["major"],
            r["overdue"],
            f"{r['factor']:.3f}",
            FREQ_ZH[r["inspection"]],
            Paragraph(esc("；".join(r["reasons_zh"])), st["base"]),
        ]
        for r in b["top_risk"]
    ]
    story = [
        Paragraph(
            esc(f"{b['jurisdiction']} 建筑施工安全智能监测月报（{b['month']}）"), st["title"]
        ),
        Spacer(1, 4 * mm),
        Table(kpis, colWidths=[60 * mm, 60 * mm], style=grid),
        Spacer(1, 4 * mm),
        _bars(b["hazards_by_type_zh"], "隐患类型", font),
        _bars(
            {
                "一般隐患": b["hazards_by_level"].get("general", 0),
                "重大隐患": b["hazards_by_level"].get("major", 0),
            },
            "隐患等级",
            font,
        ),
        _bars(top_factors(b), "风险系数（重点项目）", font),
        Paragraph("重点关注项目", st["h2"]),
        Table(
            top,
            colWidths=[40 * mm, 12 * mm, 12 * mm, 12 * mm, 18 * mm, 18 * mm, 68 * mm],
            style=grid,
        ),
    ]
    return a4_pdf(story, f"{b['jurisdiction']} {b['month']}")
