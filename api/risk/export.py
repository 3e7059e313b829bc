"""The insurer's portfolio as an Excel workbook (openpyxl): the CSV's columns, Chinese
column names and reasons with ``lang="zh"``, numbers as numbers, the period on top."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from siteguard.api.documents.workbook import sheet_row, workbook_bytes
from siteguard.api.risk.portfolio import CSV_COLUMNS, CSV_COLUMNS_ZH

TITLE = {"zh": "安责险项目风险与费率", "en": "SiteGuard insured projects: risk and rate"}
PERIOD = {"zh": "统计期间", "en": "Period"}
TREND = {"rising": "上升", "falling": "下降", "steady": "持平"}
INSPECTION = {"weekly": "每周", "biweekly": "每两周", "monthly": "每月"}
WIDTHS = {"name": 28, "reasons": 80, "policy_no": 18, "site_id": 12}


def portfolio_xlsx(rows: list[dict[str, Any]], period_text: str, lang: str = "en") -> bytes:
    zh = lang == "zh"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "风险" if zh else "Risk"
    ws.append(sheet_row([TITLE["zh" if zh else "en"]]))
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(sheet_row([PERIOD["zh" if zh else "en"], period_text]))
    header = [CSV_COLUMNS_ZH[c] for c in CSV_COLUMNS] if zh else list(CSV_COLUMNS)
    ws.append(sheet_row(header))
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for r in rows:
        line: list[Any] = []
        for c in CSV_COLUMNS:
            v = r[c]
            if c == "reasons":
                v = "；".join(r["reasons_zh"]) if zh else " | ".join(r["reasons"])
            elif zh and c == "trend":
                v = TREND.get(v, v)
            elif zh and c == "inspection":
                v = INSPECTION.get(v, v)
            line.append(v)
        ws.append(sheet_row(line))
    for i, c in enumerate(CSV_COLUMNS, start=1):
        ws.column_dimensions[ws.cell(3, i).column_letter].width = WIDTHS.get(c, 12)
    ws.freeze_panes = "A4"
    return workbook_bytes(wb)
