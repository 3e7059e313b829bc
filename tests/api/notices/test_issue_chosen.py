"""合并下发: an inspector issues notices for chosen hazards (one notice per project), from the
API and from the console inbox (待处理), through the same domain function."""

import json
import re

import pytest

from siteguard.api.access.keys import create_key
from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from tests.support.api import api_client
from tests.support.paths import GOLDEN_START

PROJECT = {"name": "P", "insurer": "ins", "jurisdiction": "福田区", "contractor": "某建筑公司"}


@pytest.fixture
def app(tmp_path, db_url):
    app = create_app(ApiSettings(database_url=db_url, mqtt=MqttIngestSettings(enabled=False)))
    admin = api_client(app)
    for site in ("site-a", "site-b"):
        assert admin.put(f"/api/v1/projects/{site}", json=PROJECT).status_code == 200
    start = json.loads(GOLDEN_START.read_text())
    for n, (site, level) in enumerate(
        [("site-a", "general"), ("site-a", "major"), ("site-a", "general"), ("site-b", "major")]
    ):
        event = start | {
            "event_id": f"evt_chosen{n:06d}",
            "site_id": site,
            "level": level,
            "camera_id": f"cam-{n}",
        }
        assert admin.post("/api/v1/events", json=event).status_code == 202
    return app


def hazard_ids(client):
    return {(h["site_id"], h["camera_id"]): h["id"] for h in client.get("/api/v1/hazards").json()}


def test_the_chosen_hazards_become_one_notice_per_project(app):
    inspector = api_client(app, "inspector", insurer="ins")
    ids = hazard_ids(inspector)
    a0, a1, a2, b3 = (ids[k] for k in sorted(ids, key=lambda k: k[1]))
    r = inspector.post("/api/v1/notices", json={"hazard_ids": [a1]})
    assert r.status_code == 201, r.text
    [one] = r.json()
    assert [i["hazard_id"] for i in one["items"]] == [a1]
    statuses = {h["id"]: h["status"] for h in inspector.get("/api/v1/hazards").json()}
    assert statuses[a1] == "issued" and statuses[a0] == statuses[a2] == "open"
    # again: that hazard is on a notice now
    again = inspector.post("/api/v1/notices", json={"hazard_ids": [a1]})
    assert again.status_code == 409 and "error" in again.json()
    # across projects: one notice each, in one transaction
    r = inspector.post("/api/v1/notices", json={"hazard_ids": [a0, b3, a2]})
    assert r.status_code == 201, r.text
    by_site = {n["project"]["site_id"]: n for n in r.json()}
    assert sorted(by_site) == ["site-a", "site-b"]
    assert sorted(i["hazard_id"] for i in by_site["site-a"]["items"]) == sorted([a0, a2])
    assert [i["hazard_id"] for i in by_site["site-b"]["items"]] == [b3]


def test_a_bad_choice_issues_nothing(app):
    inspector = api_client(app, "inspector", insurer="ins")
    ids = sorted(hazard_ids(inspector).values())
    assert inspector.post("/api/v1/notices", json={"hazard_ids": []}).status_code == 422
    missing = inspector.post("/api/v1/notices", json={"hazard_ids": [ids[0], 99999]})
    assert missing.status_code == 404
    # one of the chosen is on a notice already: the other is not issued either
    assert inspector.post("/api/v1/notices", json={"hazard_ids": [ids[1]]}).status_code == 201
    mixed = inspector.post("/api/v1/notices", json={"hazard_ids": [ids[0], ids[1]]})
    assert mixed.status_code == 409
    statuses = {h["id"]: h["status"] for h in inspector.get("/api/v1/hazards").json()}
    assert statuses[ids[0]] == "open"
    # scope: an inspector of another insurer sees none of them; a contractor may not issue
    other = api_client(app, "inspector", "other-ins", insurer="other")
    assert other.post("/api/v1/notices", json={"hazard_ids": [ids[0]]}).status_code == 404
    contractor = api_client(app, "contractor", sites=["site-a"])
    assert contractor.post("/api/v1/notices", json={"hazard_ids": [ids[0]]}).status_code == 403


def console_as(app, role, **scope):
    with app.state.services.sessions.begin() as s:
        key = create_key(s, f"c-{role}", role, **scope)
    c = api_client(app)
    c.headers.pop("Authorization")
    assert c.post("/console/login", data={"key": key}).status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/console/inbox").text)
    return c, csrf.group(1) if csrf else ""


def test_the_inbox_lists_open_hazards_major_first_and_issues_the_chosen(app):
    c, csrf = console_as(app, "inspector", insurer="ins")
    page = c.get("/console/inbox")
    assert page.status_code == 200
    order = [int(x) for x in re.findall(r'id="hz-(\d+)"', page.text)]
    assert len(order) == 4
    levels = {h["id"]: h["level"] for h in api_client(app).get("/api/v1/hazards").json()}
    assert [levels[i] for i in order] == ["major", "major", "general", "general"]
    assert "4 条隐患待处理（重大 2 条），涉及 2 个项目" in page.text
    generals = [i for i in order if levels[i] == "general"]
    r = c.post(
        "/console/inbox/issue",
        data={"csrf": csrf, "hazard": generals},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/console/notices/")
    notice = c.get(r.headers["location"])
    assert "已下发整改通知" in notice.text
    left = [int(x) for x in re.findall(r'id="hz-(\d+)"', c.get("/console/inbox").text)]
    assert sorted(left) == sorted(i for i in order if levels[i] == "major")
    # a contractor has no inbox; a bad token changes nothing
    contractor, _ = console_as(app, "contractor", site_ids=["site-a"])
    assert contractor.get("/console/inbox").status_code == 403
    forged = c.post(
        "/console/inbox/issue", data={"csrf": "x", "hazard": left[:1]}, follow_redirects=False
    )
    assert forged.status_code in (303, 403)
    still = [int(x) for x in re.findall(r'id="hz-(\d+)"', c.get("/console/inbox").text)]
    assert sorted(still) == sorted(left)


def test_the_hazard_page_issues_its_own_notice(app):
    c, csrf = console_as(app, "inspector", insurer="ins")
    hid = sorted(hazard_ids(api_client(app)).values())[0]
    page = c.get(f"/console/hazards/{hid}")
    assert 'id="issue"' in page.text and "下发整改通知" in page.text
    r = c.post("/console/inbox/issue", data={"csrf": csrf, "hazard": [hid]}, follow_redirects=False)
    assert r.status_code == 303 and "/console/notices/" in r.headers["location"]
    assert 'id="issue"' not in c.get(f"/console/hazards/{hid}").text  # on a notice now
