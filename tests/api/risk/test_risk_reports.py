"""Risk signals, the insurer and regulator interfaces and the monthly bulletin, over a
generated history of six projects (deterministic seed) written through the real ingest,
notice and workflow code. Every bulletin figure is checked against the database."""

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from siteguard.api.app import create_app
from siteguard.api.bulletin.report import monthly_bulletin
from siteguard.api.intake.events import Ingestor
from siteguard.api.notices.issue import issue_notice
from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.risk.bands import check_bands
from siteguard.api.risk.signals import Period
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.store.tables import ProjectRow, PushRow
from siteguard.contract.events import HazardEvent
from siteguard.demo.history import generate
from tests.support.api import api_client
from tests.support.paths import GOLDEN_START

START = datetime(2026, 9, 1)
GOLDEN = GOLDEN_START
JURISDICTION = "合肥市包河区"
INSURER = "平安财险安徽分公司"


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('history')}/h.db"
    settings = ApiSettings(database_url=url, mqtt=MqttIngestSettings(enabled=False))
    app = create_app(settings)
    summary = generate(app.state.services.sessions, START, days=61, projects=6, seed=7)
    return app, summary


def clone(app, dest):
    """A consistent copy of the history database (WAL included: a file copy would not be)."""
    src = sqlite3.connect(app.state.services.settings.database_url.removeprefix("sqlite:///"))
    dst = sqlite3.connect(dest)
    src.backup(dst)
    src.close()
    dst.close()
    return create_app(
        ApiSettings(database_url=f"sqlite:///{dest}", mqtt=MqttIngestSettings(enabled=False))
    )


def q(app, sql, **params):
    with app.state.services.engine.connect() as c:
        return c.execute(text(sql), params).all()


def test_the_generated_history_is_deterministic(tmp_path, history):
    app, summary = history
    other = create_app(
        ApiSettings(
            database_url=f"sqlite:///{tmp_path}/again.db", mqtt=MqttIngestSettings(enabled=False)
        )
    )
    again = generate(other.state.services.sessions, START, days=61, projects=6, seed=7)
    assert (again.events, again.notices, again.profiles) == (
        summary.events,
        summary.notices,
        summary.profiles,
    )
    settings = app.state.services.settings
    with app.state.services.sessions() as a, other.state.services.sessions() as b:
        assert monthly_bulletin(a, JURISDICTION, "2026-10", settings) == monthly_bulletin(
            b, JURISDICTION, "2026-10", settings
        )
    assert summary.events > 200 and summary.notices > 20  # enough history to mean something


def test_bulletin_numbers_match_the_database(history):
    app, _ = history
    with app.state.services.sessions() as s:
        b = monthly_bulletin(s, JURISDICTION, "2026-10", app.state.services.settings)
    october = Period.month("2026-10")  # China time: 2026-09-30 16:00 to 2026-10-31 16:00 UTC
    lo, hi = october.start, october.end
    assert (lo, hi) == (datetime(2026, 9, 30, 16), datetime(2026, 10, 31, 16))
    in_j = "h.site_id IN (SELECT site_id FROM projects WHERE jurisdiction = :j)"
    rows = q(
        app,
        f"SELECT h.hazard_type, h.level, count(*) FROM hazards h WHERE {in_j} "
        "AND h.first_seen >= :lo AND h.first_seen < :hi AND h.status != 'dismissed' "
        "GROUP BY h.hazard_type, h.level",
        j=JURISDICTION,
        lo=lo,
        hi=hi,
    )
    by_type: dict[str, int] = {}
    by_level = {"general": 0, "major": 0}
    for t, level, n in rows:
        by_type[t] = by_type.get(t, 0) + n
        by_level[level] += n
    assert b["hazards_by_type"] == by_type and b["hazards_by_level"] == by_level
    assert b["hazards"] == sum(by_type.values()) > 0
    [(dismissed,)] = q(
        app,
        f"SELECT count(*) FROM hazards h WHERE {in_j} AND h.first_seen >= :lo "
        "AND h.first_seen < :hi AND h.status = 'dismissed'",
        j=JURISDICTION,
        lo=lo,
        hi=hi,
    )
    assert b["dismissed_false_alarms"] == dismissed
    [(notices,)] = q(
        app,
        "SELECT count(*) FROM notices n JOIN projects p ON p.id = n.project_id "
        "WHERE p.jurisdiction = :j AND n.issued_at >= :lo AND n.issued_at < :hi",
        j=JURISDICTION,
        lo=lo,
        hi=hi,
    )
    assert b["notices_issued"] == notices > 0
    [(escalations,)] = q(
        app,
        f"SELECT count(*) FROM escalations e JOIN hazards h ON h.id = e.hazard_id WHERE {in_j} "
        "AND e.at >= :lo AND e.at < :hi",
        j=JURISDICTION,
        lo=lo,
        hi=hi,
    )
    assert b["escalations"] == escalations
    # items issued in the month, closed by its end (a notice closes all its items at once)
    [(items, closed)] = q(
        app,
        "SELECT count(*), sum(CASE WHEN EXISTS (SELECT 1 FROM notice_history nh WHERE "
        "nh.notice_id = n.id AND nh.to_status = 'closed' AND nh.at < :hi) THEN 1 ELSE 0 END) "
        "FROM notice_items i JOIN notices n ON n.id = i.notice_id JOIN projects p ON "
        "p.id = n.project_id JOIN hazards h ON h.id = i.hazard_id WHERE p.jurisdiction = :j "
        "AND n.issued_at >= :lo AND n.issued_at < :hi AND h.status != 'dismissed'",
        j=JURISDICTION,
        lo=lo,
        hi=hi,
    )
    assert (b["notice_items"], b["rectified"]) == (items, closed)
    assert b["rectification_rate"] == round(closed / items, 4)
    [(registered,)] = q(
        app, "SELECT count(*) FROM projects WHERE jurisdiction = :j", j=JURISDICTION
    )
    assert b["projects_registered"] == registered == len(b["projects"]) == 3
    assert sum(p["hazards"] for p in b["projects"]) == b["hazards"]


def test_risk_follows_the_record_and_stays_in_the_band(history):
    app, summary = history
    c = api_client(app, "admin")
    rows = c.get("/api/v1/insurer/projects", params={"month": "2026-10"}).json()
    assert len(rows) == 6
    for r in rows:
        assert 0.8 <= r["factor"] <= 1.2 and r["band_limits"] == [0.8, 1.2]
        assert r["rate_per_mille"] == pytest.approx(1.65 * r["factor"], abs=1e-3)
        assert r["trend"] in ("rising", "falling", "steady") and r["reasons"]
        assert r["signals"]["camera_hours"] <= r["signals"]["scheduled_camera_hours"]
    factor = {r["site_id"]: r["factor"] for r in rows}
    risky = [s for s, p in summary.profiles.items() if p == "risky"]
    careful = [s for s, p in summary.profiles.items() if p == "careful"]
    assert min(factor[s] for s in risky) > 1.0 > max(factor[s] for s in careful)
    assert [r["factor"] for r in rows] == sorted(factor.values(), reverse=True)  # riskiest first
    by_site = {r["site_id"]: r for r in rows}
    assert all(by_site[s]["inspection"] == "weekly" for s in risky)
    # downtime is seen: the risky profile switches its cameras off a third of the time
    assert all(by_site[s]["components"]["camera_downtime"] > 0.2 for s in risky)


def test_more_overdue_major_hazards_never_lower_a_projects_factor(history, tmp_path):
    """Add an unrectified major hazard, past its deadline, to each project: no factor falls."""
    app, _ = history
    c = api_client(app, "admin")
    before = {
        r["site_id"]: r["factor"]
        for r in c.get("/api/v1/insurer/projects", params={"month": "2026-10"}).json()
    }
    worse = clone(app, tmp_path / "worse.db")
    sessions = worse.state.services.sessions
    ingestor = Ingestor(sessions, 3600)
    t = datetime(2026, 10, 20, 9, tzinfo=UTC)
    for site in before:
        golden = json.loads(GOLDEN.read_text())
        golden.update(
            event_id=f"worse_{site}",
            site_id=site,
            level="major",
            hazard_type="edge_unprotected",
            started_at=t.isoformat(),
            frame_time=t.isoformat(),
            zones=["edge-new"],
        )
        assert ingestor.ingest(HazardEvent.model_validate(golden), "test").status == "new"
        with sessions.begin() as s:
            p = s.query(ProjectRow).filter_by(site_id=site).one()
            # everything else open gets on the notice too: only hazards are added, none closed
            assert issue_notice(s, p, DeadlinePolicy(), "test", t + timedelta(hours=1))
    after = {
        r["site_id"]: r["factor"]
        for r in api_client(worse, "admin")
        .get("/api/v1/insurer/projects", params={"month": "2026-10"})
        .json()
    }
    assert all(after[s] >= before[s] for s in before), (before, after)
    assert any(after[s] > before[s] for s in before)


def test_insurer_scope_csv_history_and_premium(history):
    app, summary = history
    c = api_client(app, "insurer", insurer=INSURER)
    rows = c.get("/api/v1/insurer/projects", params={"month": "2026-10"}).json()
    mine = {r["site_id"] for r in rows}
    [(n,)] = q(app, "SELECT count(*) FROM projects WHERE insurer = :i", i=INSURER)
    assert len(mine) == n == 3
    r = c.get("/api/v1/insurer/projects", params={"month": "2026-10", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads UTF-8 Chinese right
    table = list(csv.DictReader(io.StringIO(r.text.removeprefix("\ufeff"))))
    assert {t["site_id"] for t in table} == mine
    zh = c.get(
        "/api/v1/insurer/projects", params={"month": "2026-10", "format": "csv", "lang": "zh"}
    )
    zh_table = list(csv.DictReader(io.StringIO(zh.text.removeprefix("\ufeff"))))
    assert {t["项目编号"] for t in zh_table} == mine and "费率调整系数" in zh_table[0]
    assert {t["site_id"]: float(t["factor"]) for t in table} == {
        x["site_id"]: x["factor"] for x in rows
    }
    site = rows[0]["site_id"]
    hist = c.get(
        f"/api/v1/insurer/projects/{site}/history", params={"months": 3, "until": "2026-10"}
    ).json()
    assert [h["period"]["label"] for h in hist] == ["2026-08", "2026-09", "2026-10"]
    assert hist[0]["signals"]["camera_hours"] == 0 and hist[0]["factor"] == 1.0  # no data yet
    assert hist[-1]["factor"] == rows[0]["factor"]
    p = c.get(
        f"/api/v1/insurer/projects/{site}/premium",
        params={"contract_value": 50_000_000, "month": "2026-10"},
    ).json()
    assert p["base_premium"] == 82_500.0  # 50 M x 1.65 per mille
    assert p["premium"] == pytest.approx(50_000 * p["rate_per_mille"], abs=0.01)
    assert p["premium"] == pytest.approx(82_500 * p["factor"], rel=1e-4)
    assert p["premium_range"] == [66_000.0, 99_000.0]
    # another insurer's project is not there (404, not 403: names do not leak)
    other = next(s for s in summary.projects if s not in mine)
    assert c.get(f"/api/v1/insurer/projects/{other}/history").status_code == 404
    assert (
        c.get(f"/api/v1/insurer/projects/{site}/premium", params={"contract_value": -1}).status_code
        == 422
    )
    # contractors and regulators do not get premium data
    assert (
        api_client(app, "contractor", sites=[site]).get("/api/v1/insurer/projects").status_code
        == 403
    )


def test_regulator_alerts_and_bulletin_renders(history):
    app, _ = history
    c = api_client(app, "regulator", jurisdiction=JURISDICTION)
    feed = c.get("/api/v1/regulator/alerts", params={"limit": 500}).json()
    assert {a["type"] for a in feed} == {"major_hazard", "escalation"}
    assert all(a["jurisdiction"] == JURISDICTION for a in feed)
    assert [a["at"] for a in feed] == sorted((a["at"] for a in feed), reverse=True)
    b = c.get("/api/v1/regulator/bulletin", params={"month": "2026-10"}).json()
    page = c.get("/regulator/bulletin.html", params={"month": "2026-10"})
    assert page.status_code == 200 and "<svg" in page.text and "隐患类型" in page.text
    assert f'<b id="k-hazards">{b["hazards"]}</b>' in page.text
    pdf = c.get("/regulator/bulletin.pdf", params={"month": "2026-10"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # another jurisdiction's bulletin is not this regulator's to read
    assert (
        c.get(
            "/api/v1/regulator/bulletin",
            params={"month": "2026-10", "jurisdiction": "合肥市蜀山区"},
        ).status_code
        == 404
    )
    assert c.get("/api/v1/regulator/bulletin", params={"month": "2026-13"}).status_code == 422
    # a month whose previous month or China-time bounds do not exist: 422, not a 500 (the
    # fuzzer found 0001-01 and 0001-12 on the insurer's portfolio)
    insurer = api_client(app, "insurer", insurer=INSURER)
    for month in ("0001-01", "0001-12", "9999-12"):
        for url in ("/api/v1/regulator/bulletin", "/api/v1/insurer/projects"):
            r = (insurer if "insurer" in url else c).get(url, params={"month": month})
            assert r.status_code == 422 and "between 1970-01" in r.text, (url, month, r.text)
    assert (
        api_client(app, "insurer", insurer=INSURER).get("/api/v1/regulator/alerts").status_code
        == 403
    )


def test_a_band_change_is_queued_once_for_the_insurer(history, tmp_path):
    app, _ = history
    other = clone(app, tmp_path / "bands.db")
    settings = other.state.services.settings
    sessions = other.state.services.sessions
    first = datetime(2026, 9, 20)
    assert check_bands(sessions, settings, first) == 0  # first assessment: recorded, not pushed
    changed = check_bands(sessions, settings, datetime(2026, 10, 31))
    assert changed > 0
    assert check_bands(sessions, settings, datetime(2026, 10, 31)) == 0  # announced once
    with sessions() as s:
        msgs = [
            json.loads(r.body) for r in s.query(PushRow).filter(PushRow.type == "risk.band_changed")
        ]
    assert len(msgs) == changed
    for m in msgs:
        d = m["data"]
        assert m["recipients"] == ["insurer"] and d["band_percent"] != d["previous_band_percent"]
        assert d["band_percent"] % 5 == 0 and d["insurer"]


def test_period_parsing():
    assert Period.month("2026-12").end == datetime(2026, 12, 31, 16)  # 2027-01-01 00:00 UTC+8
    assert Period.month("2026-03").previous().label == "2026-02"
    with pytest.raises(ValueError, match="YYYY-MM"):
        Period.month("October")
    # 23:00 UTC on 22 November is already 23 November on site
    rolling = Period.rolling(datetime(2026, 11, 22, 23))
    assert rolling.label == "2026-10-24..2026-11-23"
    assert rolling.end - rolling.start == timedelta(days=30)


def test_report_monthly_from_the_command_line(history, tmp_path, capsys):
    from siteguard.cli import main

    app, _ = history
    url = app.state.services.settings.database_url
    args = ["report", "monthly", "--db", url, "--jurisdiction", JURISDICTION, "--month", "2026-10"]
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    with app.state.services.sessions() as s:
        assert printed == monthly_bulletin(s, JURISDICTION, "2026-10", app.state.services.settings)
    for suffix, magic in (("pdf", b"%PDF"), ("html", b"<!doctype html>")):
        assert main([*args, "--out", str(tmp_path / f"b.{suffix}")]) == 0
        assert (tmp_path / f"b.{suffix}").read_bytes().startswith(magic)
    assert main([*args[:-1], "2026-13"]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
    # the issuing authority and 文号 come from the API's settings file
    config = tmp_path / "api.yaml"
    config.write_text(
        "bulletin:\n  jurisdictions:\n"
        f"    {JURISDICTION}: {{authority: 某区住房和城乡建设局, number_prefix: 某建安}}\n",
        encoding="utf-8",
    )
    assert main([*args, "--config", str(config)]) == 0
    document = json.loads(capsys.readouterr().out)["document"]
    assert document["authority"] == "某区住房和城乡建设局"
    assert document["number"].startswith("某建安〔2026〕")
    bad = tmp_path / "bad.yaml"
    bad.write_text("bulletin: {nonsense: 1}\n")
    assert main([*args, "--config", str(bad)]) == 2
    assert "nonsense" in capsys.readouterr().err


def test_history_generate_from_the_command_line(tmp_path, capsys):
    from siteguard.cli import main

    url = f"sqlite:///{tmp_path}/g.db"
    assert main(["history", "generate", "--db", url, "--days", "8", "--projects", "2"]) == 0
    err = capsys.readouterr().err
    assert "2 projects (site-01: careful, site-02: typical)" in err and "notices" in err


def test_a_portfolio_loaded_at_once_scores_as_each_project_alone(history):
    """The insurer views load every project's records in one pass (load_records); each
    project must come out exactly as when it is assessed on its own."""
    from siteguard.api.risk.signals import Period, portfolio_risk, project_risk
    from siteguard.api.store.tables import ProjectRow

    app, _ = history
    settings = app.state.services.settings
    with app.state.services.sessions() as s:
        projects = list(s.scalars(select(ProjectRow)))
        assert len(projects) == 6
        end = START + timedelta(days=61)
        for period in (
            Period.month(f"{START:%Y-%m}"),
            Period.rolling(end),
            Period.rolling(end).previous(),
            Period.rolling(end - timedelta(days=20), days=7),
        ):
            together = portfolio_risk(s, projects, period, lambda p: settings.risk_for("default"))
            for p in projects:
                alone = project_risk(s, p, period, settings.risk_for("default"))
                assert together[p.id] == alone, (p.site_id, period.label)
        assert portfolio_risk(s, [], period, lambda p: settings.risk_for("default")) == {}
