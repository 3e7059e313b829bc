"""The insurer's risk page explains itself: the waterfall adds up to the factor shown, the
chart's last point is the headline factor and has no points before a project's data, the
table sorts, the portfolio opens in Excel; on SQLite and PostgreSQL, over a generated
history written through the real ingest and workflow code."""

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from siteguard.api.app import create_app
from siteguard.api.risk.cache import cache_for, snapped
from siteguard.api.risk.explain import chart_ends, period_text, rounded_to
from siteguard.api.risk.signals import Period
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.store.clock import now_naive
from siteguard.demo.history import INSURERS, generate
from tests.support.api import api_client

DAYS = 75


def console(app, role="insurer", **scope):
    from fastapi.testclient import TestClient

    from siteguard.api.access.keys import create_key

    with app.state.services.sessions.begin() as s:
        key = create_key(s, f"test-{role}", role, None, "", scope.get("insurer", ""))
    c = TestClient(app)
    assert c.post("/console/login", data={"key": key}).status_code == 200
    return c


@pytest.fixture
def history(db_url):
    app = create_app(ApiSettings(database_url=db_url, mqtt=MqttIngestSettings(enabled=False)))
    start = now_naive().replace(microsecond=0) - timedelta(days=DAYS)
    summary = generate(app.state.services.sessions, start, days=DAYS, projects=6, seed=7)
    return app, summary, start


def section(html, ident):
    m = re.search(rf'<div id="{ident}">(.*?)</div>', html, re.S)
    assert m, ident
    return m.group(1)


def test_waterfall_sums_to_the_factor_and_the_chart_ends_on_it(history):
    app, summary, start = history
    c = console(app, insurer=INSURERS[0])
    rows = api_client(app, "insurer", insurer=INSURERS[0]).get("/api/v1/insurer/projects").json()
    assert rows and {r["site_id"] for r in rows} < set(summary.projects)
    by_site = {r["site_id"]: r for r in rows}
    expected_points = sum(e > start for e, _, _ in chart_ends(snapped(now_naive())))
    assert 1 < expected_points < 6  # the history starts inside the chart's six months
    for site, row in by_site.items():
        html = c.get("/console/risk", params={"site": site}).text
        shown = re.search(r'id="factor">([0-9.]+)<', html).group(1)
        assert shown == f"{round(row['factor'] * 1000) / 1000:.3f}"
        fall = section(html, "waterfall")
        steps = [int(m) for m in re.findall(r'data-milli="(-?\d+)"', fall)]
        assert len(steps) == 6
        assert 1000 + sum(steps) == round(float(shown) * 1000)  # adds up to the factor shown
        assert f'data-factor="{shown}"' in fall
        shares = row["factor_contributions"]
        assert sum(shares.values()) == pytest.approx(row["factor"] - 1, abs=1e-4)
        # each step within a thousandth of its exact share
        assert all(abs(m - v * 1000) <= 1.0 for m, v in zip(steps, _ordered(shares), strict=True))
        points = [float(v) for v in re.findall(r'data-value="([0-9.]+)"', section(html, "chart"))]
        assert points[-1] == pytest.approx(row["factor"], abs=1e-4)  # the headline's period
        assert len(points) == expected_points  # nothing drawn before the project had data
        rate = re.search(r'id="adjusted-rate">([0-9.]+)', html).group(1)
        assert float(rate) == pytest.approx(row["rate_per_mille"], abs=1e-4)
    risky = max(rows, key=lambda r: r["factor"])
    zh = c.get("/console/risk", params={"site": risky["site_id"]}).text
    assert "起重大隐患逾期未整改" in zh and "摄像头在线率" in zh
    start_day = Period.rolling(snapped(now_naive())).start + timedelta(hours=8)
    assert f"{start_day.year}年{start_day.month}月{start_day.day}日 至 " in zh
    en = c.get("/console/risk", params={"site": risky["site_id"], "lang": "en"}).text
    assert "overdue unrectified major hazards" in en and "cameras online" in en


def _ordered(shares):
    from siteguard.api.risk.explain import COMPONENTS

    return [shares[k] for k in COMPONENTS]


def test_the_table_sorts_and_the_second_load_is_cached(history):
    app, _, _ = history
    c = console(app, "admin")

    def column(params, cls):
        html = c.get("/console/risk", params=params).text
        body = html.split('<table id="projects">')[1]
        return re.findall(rf'<td class="[^"]*\b{cls}\b[^"]*">([^<]+)<', body)

    factors = [float(x) for x in column({}, "factor")]
    assert len(factors) == 6 and factors == sorted(factors, reverse=True)
    assert [float(x) for x in column({"sort": "factor", "order": "asc"}, "factor")] == sorted(
        factors
    )
    bands = [int(x.split()[0]) for x in column({"sort": "band", "order": "asc"}, "band")]
    assert bands == sorted(bands)
    html = c.get("/console/risk", params={"sort": "project"}).text
    names = re.findall(r'<tr id="row-[^"]+"[^>]*>\s*<td><a [^>]+>([^<]+)</a>', html)
    assert len(names) == 6 and names == sorted(names)
    assert (
        'aria-sort="ascending"' in html
        and 'id="sort-project" href="?sort=project&amp;order=desc' in html
    )
    trends = column({"sort": "trend", "lang": "en"}, "trend")
    order = {"rising": 2, "steady": 1, "falling": 0}
    assert [order[t.strip()] for t in trends] == sorted(
        (order[t.strip()] for t in trends), reverse=True
    )
    cache = cache_for_app(app)
    before = cache.misses
    c.get("/console/risk")
    assert cache.misses == before  # nothing changed: every period read from the cache


def cache_for_app(app):
    with app.state.services.sessions() as s:
        return cache_for(s)


def test_the_portfolio_as_xlsx_in_both_languages(history):
    app, _, _ = history
    c = api_client(app, "insurer", insurer=INSURERS[0])
    rows = c.get("/api/v1/insurer/projects").json()
    for lang, first, factor_col in (
        ("zh", "项目编号", "费率调整系数"),
        ("en", "site_id", "factor"),
    ):
        r = c.get("/api/v1/insurer/projects", params={"format": "xlsx", "lang": lang})
        assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
        ws = load_workbook(io.BytesIO(r.content)).active
        header = [cell.value for cell in ws[3]]
        assert header[0] == first and factor_col in header
        got = {
            line[0]: line[header.index(factor_col)]
            for line in ws.iter_rows(min_row=4, values_only=True)
        }
        assert got == {x["site_id"]: x["factor"] for x in rows}  # numbers, not text
        assert ws["B2"].value == period_text(Period.rolling(snapped(now_naive())), lang)
    zh = load_workbook(io.BytesIO(c.get("/api/v1/insurer/projects?format=xlsx&lang=zh").content))
    assert any("风险" in str(v) for v in next(zh.active.iter_rows(min_row=4, values_only=True)))


def test_rounding_keeps_the_total_and_periods_read_in_chinese():
    for values in ([0.4, 0.4, 0.4], [-12.6, 30.2, 1.9, -0.5], [0.0, 0.0], [99.5, -99.5, 0.49]):
        total = round(sum(values))
        out = rounded_to(values, total)
        assert sum(out) == total and all(
            abs(o - v) < 1 + 1e-9 for o, v in zip(out, values, strict=True)
        )
    from datetime import datetime

    p = Period.rolling(datetime(2026, 12, 2, 2, 0))  # 10:00 on 2 December in China
    assert period_text(p, "zh") == "2026年11月2日 至 12月2日"
    assert period_text(p, "en") == "2 Nov – 2 Dec 2026"
    assert period_text(Period.month("2026-10"), "zh") == "2026年10月"


def test_the_warmer_computes_what_the_page_reads(history):
    """The background warmer (api/risk/warmer.py) fills the cache with every period the
    risk page shows, so the first person to open the page reads it from the cache."""
    from siteguard.api.risk.warmer import warm_once

    app, _, _ = history
    services = app.state.services
    assert warm_once(services.sessions, services.settings) == 6
    cache = cache_for_app(app)
    misses = cache.misses
    assert console(app, "admin").get("/console/risk").status_code == 200
    assert cache.misses == misses  # the page computed nothing itself
