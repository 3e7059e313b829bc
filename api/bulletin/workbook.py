"""The bulletin's tables as an Excel workbook (openpyxl): the key figures with 环比, every
project, the six-month trend and the document's particulars; Chinese column names by
default, English with lang=en. Figures stay numbers (rates formatted as percentages) so
they can be summed and charted; each sheet's first row is its header."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from siteguard.api.bulletin.changes import KPI_BY_KEY, TREND_KEYS
from siteguard.api.bulletin.words import ASSESSMENT_COLOURS, header, words
from siteguard.api.documents.workbook import sheet_row, workbook_bytes

PROJECT_COLUMNS = (
    ("site_id", "site_id"),
    ("name", "name"),
    ("contractor", "contractor"),
    ("camera_hours", "camera_hours"),
    ("hazards", "col_hazards"),
    ("major", "major_hazards"),
    ("dismissed", "col_dismissed"),
    ("notices", "col_notices"),
    ("notice_items", "col_items"),
    ("items_closed", "col_closed"),
    ("items_on_time", "col_on_time"),
    ("overdue", "col_overdue"),
    ("escalations", "col_escalations"),
    ("score", "col_score"),
    ("factor", "col_factor"),
    ("inspection", "col_inspection"),
    ("reasons", "col_reasons"),
)
HEAD_FILL = PatternFill("solid", fgColor="EEEEEE")


def _header_row(ws: Worksheet, names: list[str], widths: list[int]) -> None:
    ws.append(sheet_row(names))
    for i, cell in enumerate(ws[1]):
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
        ws.column_dimensions[cell.column_letter].width = widths[i] if i < len(widths) else 12
    ws.freeze_panes = "A2"


def _number_format(kpi: str) -> str:
    unit = KPI_BY_KEY[kpi].unit
    return "0.0%" if unit == "rate" else "0.0" if unit == "hours" else "0"


def bulletin_workbook(b: dict[str, Any], lang: str = "zh") -> bytes:
    w = words(lang)
    wb = Workbook()
    kpis = wb.active
    assert kpis is not None
    kpis.title = w("sheet_kpis")
    _header_row(
        kpis,
        [w("kpi"), w("this_month"), w("last_month"), w("change"), w("change_pct"), w("assessment")],
        [28, 12, 12, 12, 12, 10],
    )
    for c in b["changes"]:
        kpis.append(
            sheet_row(
                [
                    w(c["key"]),
                    c["value"],
                    c["previous"],
                    c["delta"],
                    None if c["percent"] is None else c["percent"] / 100,
                    w(c["assessment"]),
                ]
            )
        )
        row = kpis.max_row
        fmt = _number_format(c["key"])
        for col in "BCD":
            kpis[f"{col}{row}"].number_format = fmt
        kpis[f"E{row}"].number_format = "+0.0%;-0.0%;0.0%"
        colour = ASSESSMENT_COLOURS[c["assessment"]].lstrip("#").upper()
        kpis[f"F{row}"].font = Font(color=colour, bold=c["assessment"] != "neutral")

    projects = wb.create_sheet(w("sheet_projects"))
    _header_row(
        projects,
        [w(label) for _, label in PROJECT_COLUMNS],
        [10, 22, 24, 12, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 10, 12, 50],
    )
    sep = "；" if lang == "zh" else "; "
    for r in b["projects"]:
        values: list[Any] = []
        for key, _ in PROJECT_COLUMNS:
            if key == "inspection":
                values.append(w(r[key]))
            elif key == "reasons":
                values.append(sep.join(r["reasons_zh" if lang == "zh" else "reasons"]))
            else:
                values.append(r[key])
        projects.append(sheet_row(values))
        projects.cell(projects.max_row, 15).number_format = "0.000"

    trend = wb.create_sheet(w("sheet_trend"))
    months = b["trend"]["months"]
    _header_row(trend, [w("month"), *(w(k) for k in TREND_KEYS)], [10, 10, 10, 12, 10, 10, 14])
    for i, m in enumerate(months):
        trend.append(sheet_row([m, *(b["trend"]["series"][k][i] for k in TREND_KEYS)]))
        for j, k in enumerate(TREND_KEYS, 2):
            trend.cell(trend.max_row, j).number_format = _number_format(k)

    doc = wb.create_sheet(w("sheet_document"))
    head = header(b, lang)
    _header_row(doc, [w("field"), w("value")], [18, 50])
    for key, value in (
        ("number", head["number"]),
        ("authority", head["authority"]),
        ("issue_date", b["document"]["issue_date"]),
        ("jurisdiction", b["jurisdiction"]),
        ("month", b["month"]),
        ("period", head["period"]),
    ):
        doc.append(sheet_row([w(key), value]))
    return workbook_bytes(wb)
