"""The bulletin's words in Chinese (the filed document's language, the default) and
English, shared by the page, the PDF and the workbook; level and change colours; how a
figure and its change are written."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date
from typing import Any

from siteguard.api.bulletin.changes import KPI_BY_KEY

LANGS = ("zh", "en")
# one legend for every level-coloured picture: amber general, red major
LEVEL_COLOURS = {"general": "#d97706", "major": "#dc2626"}
# a change for the better is green, for the worse red, neither grey
ASSESSMENT_COLOURS = {"better": "#15803d", "worse": "#b91c1c", "neutral": "#6b7280"}
ARROWS = {"up": "↑", "down": "↓", "flat": "→", None: ""}

WORDS: dict[str, tuple[str, str]] = {
    "title": ("建筑施工安全智能监测月报", "Construction-site safety monitoring bulletin"),
    "number": ("文号", "Document no."),
    "authority": ("发文机关", "Issuing authority"),
    "issue_date": ("发文日期", "Date of issue"),
    "jurisdiction": ("辖区", "Jurisdiction"),
    "month": ("统计月份", "Month"),
    "period": ("统计期间（北京时间）", "Period (China time)"),
    "no_authority": ("（未配置发文机关）", "(issuing authority not configured)"),
    "no_number": ("（未配置文号）", "(document number not configured)"),
    "kpis": ("主要指标与环比", "Key figures against last month"),
    "kpi": ("指标", "Figure"),
    "this_month": ("本月", "This month"),
    "last_month": ("上月", "Last month"),
    "change": ("环比", "Change"),
    "change_pct": ("环比（%）", "Change (%)"),
    "assessment": ("评价", "Assessment"),
    "better": ("向好", "better"),
    "worse": ("变差", "worse"),
    "neutral": ("—", "—"),
    "points": ("个百分点", " pts"),
    "trend": ("近 6 个月趋势", "Six-month trend"),
    "by_type": ("隐患类型（按等级）", "Hazards by type and level"),
    "by_level": ("隐患等级", "Hazards by level"),
    "factors": ("风险系数（重点项目）", "Rate factor (projects to watch)"),
    "legend": ("图例", "Legend"),
    "colon": ("：", ": "),
    "general": ("一般隐患", "General"),
    "major": ("重大隐患", "Major"),
    "top_risk": ("重点关注项目", "Projects to watch"),
    "projects": ("全部项目", "All projects"),
    "none": ("暂无", "None"),
    "page": ("第 {n} 页 / 共 {m} 页", "Page {n} of {m}"),
    "note": (
        "统计口径：本月首次发现的隐患（排除核实为误报者）；本月签发的整改通知及其月末状态；"
        "风险系数为保险费率调整系数（±{band}% 浮动区间）；环比为与上月相比，比率以百分点计。"
        "由 SiteGuard 生成。",
        "Hazards first seen in the month (false alarms dismissed apart); notices issued in the "
        "month and their state at its end; the rate factor adjusts the premium rate (±{band}% "
        "band); changes are against the previous month, rates in percentage points. Made by "
        "SiteGuard.",
    ),
    # key figures
    "projects_watched": ("监测项目", "Projects watched"),
    "camera_hours": ("监测时长（摄像头·小时）", "Camera-hours watched"),
    "hazards": ("隐患", "Hazards"),
    "major_hazards": ("重大隐患", "Major hazards"),
    "notices_issued": ("整改通知", "Notices issued"),
    "notice_items": ("通知条目", "Notice items"),
    "rectification_rate": ("整改率", "Rectification rate"),
    "on_time_rate": ("按期整改率", "On-time rate"),
    "overdue_at_month_end": ("月末逾期", "Overdue at month end"),
    "escalations": ("升级", "Escalations"),
    "dismissed_false_alarms": ("误报（已排除）", "False alarms dismissed"),
    # project columns
    "site_id": ("项目编号", "Site id"),
    "name": ("项目名称", "Project"),
    "project": ("项目", "Project"),
    "contractor": ("施工单位", "Contractor"),
    "col_hours": ("监测时长", "Camera-h"),
    "col_hazards": ("隐患", "Hazards"),
    "col_major": ("重大", "Major"),
    "col_dismissed": ("误报", "False alarms"),
    "col_notices": ("通知", "Notices"),
    "col_items": ("通知条目", "Items"),
    "col_closed": ("已整改", "Rectified"),
    "col_closed_items": ("已整改/条目", "Rectified/items"),
    "col_on_time": ("按期整改", "On time"),
    "col_overdue": ("逾期", "Overdue"),
    "col_escalations": ("升级", "Escalations"),
    "col_score": ("风险评分", "Score"),
    "col_factor": ("风险系数", "Rate factor"),
    "col_inspection": ("建议检查频次", "Inspection"),
    "col_reasons": ("主要原因", "Main reasons"),
    "weekly": ("每周", "weekly"),
    "biweekly": ("每两周", "every two weeks"),
    "monthly": ("每月", "monthly"),
    # the console's bulletin page
    "previous_month": ("上月", "Previous month"),
    "next_month": ("下月", "Next month"),
    "open": ("查看", "Show"),
    "excel": ("导出 Excel", "Excel workbook"),
    # workbook sheets
    "sheet_kpis": ("指标与环比", "KPIs"),
    "sheet_projects": ("全部项目", "Projects"),
    "sheet_trend": ("近6月趋势", "Trend"),
    "sheet_document": ("文件信息", "Document"),
    "field": ("项目", "Field"),
    "value": ("内容", "Value"),
}


def words(lang: str) -> Callable[[str], str]:
    i = LANGS.index(lang) if lang in LANGS else 0

    def t(key: str) -> str:
        pair = WORDS.get(key)
        return pair[i] if pair else key

    return t


def figure_text(key: str, value: float | None) -> str:
    """A key figure as the bulletin writes it (rates in percent, — for none)."""
    if value is None:
        return "—"
    unit = KPI_BY_KEY[key].unit if key in KPI_BY_KEY else "count"
    if unit == "rate":
        return f"{value * 100:.1f}%"
    return f"{value:g}" if unit == "hours" else f"{int(value)}"


def change_text(c: dict[str, Any], lang: str = "zh") -> str:
    """↑ 3（+25.0%）, ↓ 4.2 个百分点, → 0; — when either month has no figure."""
    if c["delta"] is None:
        return "—"
    arrow = ARROWS[c["direction"]]
    if c["unit"] == "rate":
        return f"{arrow} {abs(c['delta']) * 100:.1f}{words(lang)('points')}"
    amount = f"{abs(c['delta']):g}"
    pct = "" if c["percent"] is None else f"（{c['percent']:+.1f}%）"
    if lang != "zh" and pct:
        pct = f" ({c['percent']:+.1f}%)"
    return f"{arrow} {amount}{pct}"


def date_text(d: date, lang: str) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else f"{d.day} {d:%B %Y}"


def month_text(month: str, lang: str, short: bool = False) -> str:
    year, mon = (int(x) for x in month.split("-"))
    if lang == "zh":
        return f"{mon}月" if short else f"{year}年{mon}月"
    return calendar.month_abbr[mon] if short else f"{calendar.month_name[mon]} {year}"


def period_text(month: str, lang: str) -> str:
    """The month's first and last day (China calendar)."""
    year, mon = (int(x) for x in month.split("-"))
    last = calendar.monthrange(year, mon)[1]
    first, end = date(year, mon, 1), date(year, mon, last)
    return f"{first} 至 {end}" if lang == "zh" else f"{first} to {end}"


def header(b: dict[str, Any], lang: str) -> dict[str, str]:
    """The header block's lines, 未配置 where the jurisdiction has no issuer configured."""
    w, doc = words(lang), b["document"]
    return {
        "number": doc["number"] or w("no_number"),
        "authority": doc["authority"] or w("no_authority"),
        "issue_date": date_text(date.fromisoformat(doc["issue_date"]), lang),
        "title": f"{b['jurisdiction']} {w('title')}（{month_text(b['month'], lang)}）"
        if lang == "zh"
        else f"{b['jurisdiction']}: {w('title')}, {month_text(b['month'], lang)}",
        "period": period_text(b["month"], lang),
    }
