"""The bulletin's tables as an Excel workbook, opened with openpyxl: sheet names, header
rows in Chinese (default) and English, and known figures of the two-month history."""

import io

from openpyxl import load_workbook

from tests.api.bulletin.two_months import AUTHORITY, NAME, SITE, J, build
from tests.support.api import api_client


def test_the_workbook_in_both_languages(tmp_path):
    app = build(f"sqlite:///{tmp_path}/x.db", tmp_path)
    c = api_client(app, "regulator", jurisdiction=J)
    r = c.get("/regulator/bulletin.xlsx", params={"month": "2026-10"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="siteguard-bulletin-2026-10.xlsx"' in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["指标与环比", "全部项目", "近6月趋势", "文件信息"]
    kpis = wb["指标与环比"]
    assert [c.value for c in kpis[1]] == ["指标", "本月", "上月", "环比", "环比（%）", "评价"]
    rows = {row[0]: row for row in kpis.iter_rows(min_row=2, values_only=True)}
    assert rows["隐患"] == ("隐患", 3, 2, 1, 0.5, "变差")
    assert rows["整改率"][:4] == ("整改率", 0.0, 1.0, -1.0) and rows["整改率"][4] is None
    assert kpis["B8"].number_format == "0.0%"  # the rectification rate is a percentage
    projects = wb["全部项目"]
    header = [c.value for c in projects[1]]
    assert header[:4] == ["项目编号", "项目名称", "施工单位", "监测时长（摄像头·小时）"]
    mine = next(r for r in projects.iter_rows(min_row=2, values_only=True) if r[0] == SITE)
    assert mine[1] == NAME and mine[header.index("隐患")] == 3
    assert mine[header.index("重大隐患")] == 1 and mine[header.index("逾期")] == 3
    trend = wb["近6月趋势"]
    assert [c.value for c in trend["A"]][1:] == [f"2026-{m:02d}" for m in range(5, 11)]
    assert [c.value for c in trend["B"]] == ["隐患", 0, 0, 0, 0, 2, 3]
    doc = dict(wb["文件信息"].iter_rows(min_row=2, values_only=True))
    assert doc["文号"] == "包建安〔2026〕11号" and doc["发文机关"] == AUTHORITY

    en = load_workbook(
        io.BytesIO(
            c.get("/regulator/bulletin.xlsx", params={"month": "2026-10", "lang": "en"}).content
        )
    )
    assert en.sheetnames == ["KPIs", "Projects", "Trend", "Document"]
    assert [c.value for c in en["KPIs"][1]][:3] == ["Figure", "This month", "Last month"]
    assert [c.value for c in en["Projects"][1]][:2] == ["Site id", "Project"]
    assert {r[0]: r for r in en["KPIs"].iter_rows(min_row=2, values_only=True)}["Hazards"][5] == (
        "worse"
    )
    assert (
        c.get("/regulator/bulletin.xlsx", params={"month": "2026-10", "lang": "fr"}).status_code
        == 422
    )
