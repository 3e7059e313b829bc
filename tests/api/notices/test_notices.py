"""Projects and rectification notices: batching, deadlines by level, measures citing the
standards, the printable Chinese page."""

import json
from datetime import UTC, datetime

import pytest

from siteguard.api.app import create_app
from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.demo.services import PhotoServer
from tests.support.api import api_client
from tests.support.paths import GOLDEN, REPO

PROJECT = {
    "name": "福田区某住宅楼装修工程",
    "address": "深圳市福田区某路1号",
    "permit_no": "440304-2026-0001",
    "policy_no": "AZX-2026-000123",
    "insurer": "某财产保险公司",
    "contractor": "某建筑工程有限公司",
    "responsible_person": "张工",
    "responsible_phone": "138-0000-0000",
    "jurisdiction": "福田区住建局",
}


@pytest.fixture
def client(tmp_path, db_url):
    s = ApiSettings(
        database_url=db_url, mqtt=MqttIngestSettings(enabled=False), data_dir=tmp_path / "data"
    )
    with api_client(create_app(s)) as c:
        yield c


@pytest.fixture
def photos(fixtures):
    server = PhotoServer(fixtures / "images")
    yield server
    server.stop()


def post(client, name, **over):
    doc = json.loads((GOLDEN / name).read_text())
    doc.update(over)
    assert client.post("/api/v1/events", json=doc).status_code == 202


def seed_two_hazards(client):
    """The project, a general no-helmet hazard and a major unprotected-edge hazard."""
    assert client.put("/api/v1/projects/futian-0001", json=PROJECT).status_code == 200
    post(client, "hazard_event_v1_start.json")  # no_helmet, general
    post(
        client,
        "hazard_event_v1_start.json",
        event_id="evt_edge00000001",
        hazard_type="edge_unprotected",
        level="major",
        zones=["slab-3f-east"],
    )


def seed_evidence(client, photos, found="hhw-000011.jpg", missing="gone.jpg"):
    """Two hazards whose evidence is on the stand-in edge box: a no-helmet one whose photo
    is there, an edge one whose photo is not."""
    project = dict(PROJECT, evidence_base_url=f"{photos.url}/")  # the site's edge box
    assert client.put("/api/v1/projects/futian-0001", json=project).status_code == 200
    post(client, "hazard_event_v1_start.json", evidence_uri=f"{photos.url}/{found}")
    post(
        client,
        "hazard_event_v1_start.json",
        event_id="evt_edge00000001",
        hazard_type="edge_unprotected",
        zones=["slab-3f-east"],
        evidence_uri=f"{photos.url}/{missing}",
    )


def test_deadlines_are_end_of_day_china_time_by_level():
    p = DeadlinePolicy(major_days=0, general_days=3)
    issued = datetime(2026, 10, 5, 17, 0, tzinfo=UTC)  # 01:00 on 6 Oct in China
    assert p.deadline("major", issued).isoformat() == "2026-10-06T23:59:59+08:00"
    assert p.deadline("general", issued).isoformat() == "2026-10-09T23:59:59+08:00"


def test_a_deadline_leaves_at_least_the_minimum_time_to_rectify():
    """A major hazard issued at 23:16 China time is due at the end of the next day, not in
    43 minutes; one issued at 19:00 keeps its same-day deadline (about 5 hours)."""
    p = DeadlinePolicy(major_days=0, min_hours=4)
    late = datetime(2026, 12, 2, 15, 16, tzinfo=UTC)  # 23:16 on 2 Dec in China
    assert p.deadline("major", late).isoformat() == "2026-12-03T23:59:59+08:00"
    evening = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # 19:00 in China
    assert p.deadline("major", evening).isoformat() == "2026-12-02T23:59:59+08:00"
    assert DeadlinePolicy(min_hours=0).deadline("major", late).isoformat() == (
        "2026-12-02T23:59:59+08:00"
    )


def test_notice_batches_open_hazards_with_measures_deadlines_and_parties(client):
    seed_two_hazards(client)
    r = client.post("/api/v1/projects/futian-0001/notices")
    assert r.status_code == 201
    n = r.json()
    assert n["number"].startswith("SG-futian-0001-") and n["number"].endswith("-001")
    assert n["project"]["policy_no"] == "AZX-2026-000123"
    items = {i["hazard_type"]: i for i in n["items"]}
    assert set(items) == {"no_helmet", "edge_unprotected"}
    edge = items["edge_unprotected"]
    assert edge["level_zh"] == "重大隐患" and "JGJ 80-2016" in edge["standards"]
    assert "1.2 m" in edge["measure"] and edge["location"] == "cam-north / slab-3f-east"
    assert "GB 2811-2019" in items["no_helmet"]["standards"]
    assert items["no_helmet"]["deadline"] > edge["deadline"]  # general: 3 days; major: same day
    assert edge["responsible"] == "某建筑工程有限公司 张工"
    # nothing new to issue: no second notice, no flood
    again = client.post("/api/v1/projects/futian-0001/notices")
    assert again.status_code == 409 and "no open hazard" in again.json()["error"]
    assert [h["status"] for h in client.get("/api/v1/hazards").json()] == ["issued", "issued"]
    listed = client.get("/api/v1/notices", params={"site_id": "futian-0001"}).json()
    assert len(listed) == 1 and listed[0]["items"] == 2


def test_printable_page_is_chinese_and_escapes_input(client):
    client.put(
        "/api/v1/projects/futian-0001", json=dict(PROJECT, name="<script>alert(1)</script>工程")
    )
    post(client, "hazard_event_v1_start.json")
    nid = client.post("/api/v1/projects/futian-0001/notices").json()["id"]
    page = client.get(f"/notices/{nid}.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for text in (
        "安全隐患整改通知单",
        "问题清单",
        "整改时限",
        "一般隐患",
        "AZX-2026-000123",
        "GB 2811-2019",
    ):
        assert text in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_unknown_project_and_notice_are_json_404s(client):
    assert client.post("/api/v1/projects/nope/notices").status_code == 404
    r = client.get("/api/v1/notices/42")
    assert r.status_code == 404 and r.json() == {"error": "no notice 42"}
    assert client.put("/api/v1/projects/x", json={"name": ""}).status_code == 422


def test_notice_pdf_is_a_chinese_a4_document(client, tmp_path):
    seed_two_hazards(client)
    n = client.post("/api/v1/projects/futian-0001/notices").json()
    r = client.get(f"/notices/{n['id']}.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = r.content
    assert pdf.startswith(b"%PDF-") and b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf
    assert n["number"].encode() in r.headers["content-disposition"].encode()
    (tmp_path / "n.pdf").write_bytes(pdf)
    import subprocess

    # the CJK font is embedded (fonts-wqy-microhei from scripts/system-deps.sh) and poppler's
    # pdftotext reads the Chinese text back out of it
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "n.pdf")], capture_output=True, text=True
    ).stdout
    embedded = [line for line in fonts.splitlines() if "WenQuanYi" in line]
    assert embedded and all(line.split()[-5] == "yes" for line in embedded)  # the emb column
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "n.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "安全隐患整改通知单" in text and "重大隐患" in text and "JGJ 80-2016" in text


def test_notice_pdf_carries_the_evidence_photos(client, tmp_path, photos):
    """Each item's evidence picture is fetched from the edge's URI and printed; one that
    cannot be had is named instead, and the notice still prints."""
    import subprocess

    seed_evidence(client, photos)
    n = client.post("/api/v1/projects/futian-0001/notices").json()
    (tmp_path / "n.pdf").write_bytes(client.get(f"/notices/{n['id']}.pdf").content)
    images = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / "n.pdf")], capture_output=True, text=True
    ).stdout
    assert len([line for line in images.splitlines()[2:] if " image " in line]) == 1
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "n.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "证据照片" in text and "暂未能获取图片" in text and "gone.jpg" in text


def test_evidence_is_served_and_kept_by_the_api(client, photos, fixtures):
    """The console and the printed notice show evidence through the API: fetched from the
    edge once, then served from the API's copy even when the box is gone; scoped like the
    hazard; a picture that cannot be had is a clear 404."""
    seed_evidence(client, photos)
    hazards = {h["hazard_type"]: h["id"] for h in client.get("/api/v1/hazards").json()}
    r = client.get(f"/api/v1/hazards/{hazards['no_helmet']}/evidence.jpg")
    photos.stop()  # the edge box is gone
    original = (fixtures / "images" / "hhw-000011.jpg").read_bytes()
    assert (
        r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content == original
    )
    again = client.get(f"/api/v1/hazards/{hazards['no_helmet']}/evidence.jpg")  # the box is gone
    assert again.status_code == 200 and again.content == original
    missing = client.get(f"/api/v1/hazards/{hazards['edge_unprotected']}/evidence.jpg")
    assert missing.status_code == 404 and "cannot be fetched" in missing.json()["error"]
    outsider = api_client(client.app, "contractor", sites=["elsewhere"])
    assert outsider.get(f"/api/v1/hazards/{hazards['no_helmet']}/evidence.jpg").status_code == 404


def test_the_clip_is_served_and_kept_by_the_api(client, tmp_path, fixtures):
    """The edge keeps each event's clip beside its pictures ({event}/clip.mp4); the API
    serves it like the picture (fetched once, kept when the box is gone, scoped)."""
    box = tmp_path / "box" / "evt_1"
    box.mkdir(parents=True)
    (box / "0.jpg").write_bytes((fixtures / "images" / "hhw-000011.jpg").read_bytes())
    clip = (REPO / "cli" / "data" / "sample-site.mp4").read_bytes()
    (box / "clip.mp4").write_bytes(clip)
    server = PhotoServer(tmp_path / "box")
    try:
        seed_evidence(client, server, "evt_1/0.jpg", "evt_2/0.jpg")  # no clip for evt_2
        hazards = {h["hazard_type"]: h["id"] for h in client.get("/api/v1/hazards").json()}
        r = client.get(f"/api/v1/hazards/{hazards['no_helmet']}/clip.mp4")
    finally:
        server.stop()  # the edge box is gone
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4" and r.content == clip
    again = client.get(f"/api/v1/hazards/{hazards['no_helmet']}/clip.mp4")
    assert again.status_code == 200 and again.content == clip
    missing = client.get(f"/api/v1/hazards/{hazards['edge_unprotected']}/clip.mp4")
    assert missing.status_code == 404 and "cannot be fetched" in missing.json()["error"]
    outsider = api_client(client.app, "contractor", sites=["elsewhere"])
    assert outsider.get(f"/api/v1/hazards/{hazards['no_helmet']}/clip.mp4").status_code == 404
