"""The notices list as people use it: 30 notices over two projects, pages of 25, search by
number or project, sort by deadline (default), issue time, number or project both ways,
filters kept across pages and sorts, the Excel export of every listed row (Chinese states,
China times), scopes, and a clear refusal of an unknown sort."""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from siteguard.api.access.keys import Principal, create_key
from siteguard.api.errors import Invalid
from siteguard.api.notices.issue import issue_notice
from siteguard.api.notices.listing import NoticeFilter, notice_rows, page_of
from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.store.clock import now_naive
from siteguard.api.store.tables import ProjectRow
from siteguard.contract.events import HazardEvent
from tests.support.api import sqlite_app
from tests.support.paths import GOLDEN_START

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("listing")
    app = sqlite_app(tmp, "l.db")
    sessions = app.state.services.sessions
    with sessions.begin() as s:
        for sid, name in (("nb-001", "南湖花园"), ("xc-002", "西城广场")):
            s.add(ProjectRow(site_id=sid, name=name, insurer="保险", jurisdiction="区"))
    doc = json.loads(GOLDEN_START.read_text())
    for i in range(30):  # one notice a day, oldest first: nb-001 has 20, xc-002 10
        site = "nb-001" if i < 20 else "xc-002"
        t = NOW - timedelta(days=30 - i)
        event = dict(doc, event_id=f"evt_list_{i:04d}", site_id=site)
        event.update(started_at=t.isoformat(), frame_time=t.isoformat())
        app.state.services.ingestor.ingest(HazardEvent.model_validate(event), "test")
        with sessions.begin() as s:
            p = s.query(ProjectRow).filter_by(site_id=site).one()
            issue_notice(s, p, DeadlinePolicy(), "李巡查", t)
    yield app
    app.state.services.engine.dispose()


def console(app, role, **scope):
    with app.state.services.sessions.begin() as s:
        key = create_key(s, f"l-{role}", role, **scope)
    c = TestClient(app)
    assert c.post("/console/login", data={"key": key}).status_code == 200
    return c


def numbers(page):
    import re

    return re.findall(r">(SG-[a-z]{2}-\d{3}-\d{8}-\d{3})<", page)


def test_rows_sort_search_and_pages(app):
    admin = Principal("admin", "admin")
    with app.state.services.sessions() as s:
        by_deadline = notice_rows(s, admin, NoticeFilter(), now_naive())
        newest = notice_rows(s, admin, NoticeFilter(sort="issued", order="desc"), now_naive())
        west = notice_rows(s, admin, NoticeFilter(q="西城"), now_naive())
        by_number = notice_rows(s, admin, NoticeFilter(q="xc-002", sort="number"), now_naive())
    assert len(by_deadline) == 30
    deadlines = [r.deadline_at for r in by_deadline]
    assert deadlines == sorted(deadlines)  # most urgent (most overdue) first
    assert [r.issued_at for r in newest] == sorted((r.issued_at for r in newest), reverse=True)
    assert len(west) == 10 and {r.site_id for r in west} == {"xc-002"}
    assert [r.number for r in by_number] == sorted(r.number for r in by_number)
    page = page_of(by_deadline, 2)
    assert (page.page, page.pages, page.total, len(page.rows)) == (2, 2, 30, 5)
    assert page_of(by_deadline, 99).page == 2  # past the end: the last page
    with pytest.raises(Invalid, match="sort: one of"):
        NoticeFilter(sort="priority")


def test_the_console_list_pages_searches_sorts_and_exports(app):
    c = console(app, "inspector", insurer="保险")
    first = c.get("/console/notices").text
    assert "第 1/2 页，共 30 份" in first and len(numbers(first)) == 25
    assert 'id="next-page"' in first and 'aria-sort="ascending"' in first
    second = c.get("/console/notices?page=2").text
    assert len(numbers(second)) == 5 and not set(numbers(second)) & set(numbers(first))
    # search and sort, kept in the pager's and the headers' links
    found = c.get("/console/notices", params={"q": "南湖", "sort": "issued", "order": "desc"})
    page = found.text
    assert "共 20 份" in page and all("-nb-001-" in n for n in numbers(page))
    assert numbers(page) == sorted(numbers(page), reverse=True)[: len(numbers(page))]
    assert "q=%E5%8D%97%E6%B9%96" in page  # the search travels with the next page's link
    assert 'id="sort-issued"' in page and "order=asc" in page  # a click flips the order
    nothing = c.get("/console/notices", params={"q": "不存在的项目"}).text
    assert 'id="no-notices"' in nothing
    # the export holds every listed row (not one page), Chinese headers and states
    r = c.get("/console/notices.xlsx", params={"q": "南湖"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "项目", "站点", "状态") and len(rows) == 21
    assert {row[3] for row in rows[1:]} == {"已签发"} and {row[4] for row in rows[1:]} == {"是"}
    assert all(str(row[7]).startswith("20") and len(str(row[7])) == 16 for row in rows[1:])
    # unknown sort: a clear page, not a 500
    bad = c.get("/console/notices?sort=priority")
    assert bad.status_code == 422 and "sort: one of" in bad.text


def test_a_contractor_lists_and_exports_only_its_site(app):
    c = console(app, "contractor", site_ids=["xc-002"])
    page = c.get("/console/notices").text
    assert "共 10 份" in page and all("-xc-002-" in n for n in numbers(page))
    ws = load_workbook(io.BytesIO(c.get("/console/notices.xlsx").content)).active
    assert {row[2] for row in list(ws.iter_rows(values_only=True))[1:]} == {"xc-002"}
