"""环比 and the six-month trend against a constructed two-month history (two_months.py),
through the API on SQLite and on PostgreSQL: every figure was worked out by hand."""

import pytest

from tests.api.bulletin.two_months import J, build
from tests.support.api import api_client


@pytest.fixture
def bulletin_app(db_url, tmp_path):
    return build(db_url, tmp_path)


def test_each_figure_against_last_month(bulletin_app):
    c = api_client(bulletin_app, "regulator", jurisdiction=J)
    r = c.get("/api/v1/regulator/bulletin", params={"month": "2026-10"})
    assert r.status_code == 200, r.text
    b = r.json()
    assert (b["hazards"], b["major_hazards"], b["notices_issued"], b["escalations"]) == (3, 1, 1, 1)
    assert b["previous_month"] == "2026-09"
    ch = {x["key"]: x for x in b["changes"]}
    assert ch["hazards"] == {
        "key": "hazards",
        "unit": "count",
        "value": 3,
        "previous": 2,
        "delta": 1,
        "percent": 50.0,
        "direction": "up",
        "assessment": "worse",
    }
    # nothing last month: an absolute change and no percentage
    assert (ch["major_hazards"]["delta"], ch["major_hazards"]["percent"]) == (1, None)
    assert ch["major_hazards"]["assessment"] == "worse"
    # same number of notices: flat, and notices are neither better nor worse
    assert (ch["notices_issued"]["direction"], ch["notices_issued"]["percent"]) == ("flat", 0.0)
    assert ch["notices_issued"]["assessment"] == "neutral"
    assert (ch["notice_items"]["value"], ch["notice_items"]["previous"]) == (3, 2)
    # September's notice was rectified in time, October's never: rates fall 100 points
    for key in ("rectification_rate", "on_time_rate"):
        assert (ch[key]["value"], ch[key]["previous"], ch[key]["delta"]) == (0.0, 1.0, -1.0)
        assert ch[key]["percent"] is None and ch[key]["assessment"] == "worse"
    assert (ch["overdue_at_month_end"]["value"], ch["overdue_at_month_end"]["previous"]) == (3, 0)
    assert (ch["escalations"]["value"], ch["escalations"]["previous"]) == (1, 0)
    assert b["hazards_by_type_level"] == {
        "no_helmet": {"general": 2, "major": 0},
        "edge_unprotected": {"general": 0, "major": 1},
    }
    t = b["trend"]
    assert t["months"] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert t["series"]["hazards"] == [0, 0, 0, 0, 2, 3]
    assert t["series"]["rectification_rate"] == [None, None, None, None, 1.0, 0.0]
    assert t["series"]["overdue_at_month_end"][-2:] == [0, 3]
    # September against an empty August: a change but no percentage
    sep = c.get("/api/v1/regulator/bulletin", params={"month": "2026-09"}).json()
    sep_ch = {x["key"]: x for x in sep["changes"]}
    assert sep_ch["hazards"]["percent"] is None and sep_ch["hazards"]["delta"] == 2
    assert sep_ch["rectification_rate"]["delta"] is None  # no items in August: no change
    # the page writes the changes with arrows, coloured by assessment
    page = c.get("/regulator/bulletin.html", params={"month": "2026-10"}).text
    assert '<b id="k-hazards">3</b>' in page
    assert "↑ 1（+50.0%）" in page and "↓ 100.0个百分点" in page
    assert 'id="kpi-hazards" data-assessment="worse"' in page
    assert 'id="kpi-notices_issued" data-assessment="neutral"' in page
    assert 'style="color: #b91c1c"' in page  # worse is red
    # level colours: major red, general amber, in the bars and the legend
    assert 'fill="#dc2626"' in page and 'fill="#d97706"' in page
    assert page.count("<svg") >= 9  # six trend lines, three bar charts
