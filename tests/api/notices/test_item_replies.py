"""The contractor answers a notice item by item (整改回复 per item, with proof photos), then
submits it for re-inspection; a rejection sends it back with the reason, and a
resubmission needs a new reply. The whole-notice reply of older API clients still works
(it answers every item not yet answered). Each item's state follows the notice; the
countdown is worked out on the server; the closed notice's printed page and PDF carry the
replies, the proof photos, the re-inspection and the final state."""

import io
import json
import subprocess
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from siteguard.api.app import create_app
from siteguard.api.notices.countdown import countdown_text, seconds_left
from siteguard.api.notices.issue import issue_notice
from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.records.archive import export_archive
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.store.tables import ProjectRow
from siteguard.cli import main
from tests.support.api import api_client
from tests.support.paths import GOLDEN_START

SITE = "futian-0001"
PROJECT = {
    "name": "福田区某住宅楼装修工程",
    "insurer": "保险A",
    "contractor": "承包商甲",
    "responsible_person": "张工",
    "jurisdiction": "福田区住建局",
}


def jpeg(shade: int) -> bytes:
    """A small JPEG; a different shade is a different photo (photos are stored by hash)."""
    _ok, buf = cv2.imencode(".jpg", np.full((48, 64, 3), shade, np.uint8))
    return buf.tobytes()


def make_app(tmp_path, db_url):
    return create_app(
        ApiSettings(
            database_url=db_url, mqtt=MqttIngestSettings(enabled=False), data_dir=tmp_path / "data"
        )
    )


def seed(app, events=2):
    """The project and ``events`` no-helmet hazards (one per camera), no notice yet."""
    admin = api_client(app)
    assert admin.put(f"/api/v1/projects/{SITE}", json=PROJECT).status_code == 200
    edge = api_client(app, "edge", sites=[SITE])
    start = json.loads(GOLDEN_START.read_text())
    for k in range(events):
        ev = start | {"event_id": f"evt_items{k:08d}", "camera_id": f"cam-{k}", "site_id": SITE}
        assert edge.post("/api/v1/events", json=ev).status_code == 202
    return admin


@pytest.fixture
def world(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    admin = seed(app)
    inspector = api_client(app, "inspector", "李检查员", insurer="保险A")
    notice = inspector.post(f"/api/v1/projects/{SITE}/notices").json()
    assert len(notice["items"]) == 2
    yield {
        "app": app,
        "db": db_url,
        "admin": admin,
        "inspector": inspector,
        "contractor": api_client(app, "contractor", "张工", sites=[SITE]),
        "notice": notice["id"],
        "data": tmp_path / "data",
    }


def reply(client, notice, no, text, *shades):
    files = [("photos", (f"p{s}.jpg", io.BytesIO(jpeg(s)), "image/jpeg")) for s in shades]
    return client.post(
        f"/api/v1/notices/{notice}/items/{no}/reply", data={"reply": text}, files=files
    )


def submit(client, notice, text="", *shades):
    files = [("photos", (f"p{s}.jpg", io.BytesIO(jpeg(s)), "image/jpeg")) for s in shades]
    data = {"reply": text} if text else {}
    return client.post(f"/api/v1/notices/{notice}/submit", data=data, files=files or None)


def act(client, notice, action, comment=""):
    return client.post(f"/api/v1/notices/{notice}/actions/{action}", json={"comment": comment})


def statuses(doc):
    return [i["status"] for i in doc["items"]]


def test_items_answered_one_by_one_then_rejected_and_accepted(world):
    c, i, n = world["contractor"], world["inspector"], world["notice"]
    fresh = c.get(f"/api/v1/notices/{n}").json()
    assert statuses(fresh) == ["issued", "issued"] and fresh["round"] == 1
    assert fresh["overdue"] is False and fresh["due_in_s"] > 0 and fresh["reinspection"] is None
    assert act(c, n, "acknowledge").json()["status"] == "rectifying"

    one = reply(c, n, 1, "已为全部人员补发安全帽", 60)
    assert one.status_code == 200, one.text
    doc = one.json()
    assert doc["status"] == "rectifying"  # a reply changes no state
    assert statuses(doc) == ["replied", "rectifying"]  # in step with the notice
    first = doc["items"][0]["replies"]
    assert [(r["text"], r["via"], r["round"], r["actor"]) for r in first] == [
        ("已为全部人员补发安全帽", "item", 1, "张工")
    ]
    assert first[0]["attachments"][0].startswith(f"proof/{fresh['number']}/")

    early = submit(c, n)  # item 2 has no reply yet
    assert early.status_code == 422 and "items 2 have no reply yet" in early.json()["error"]

    assert reply(c, n, 2, "已设置班前安全教育", 70, 80).status_code == 200
    sent = submit(c, n)
    assert sent.status_code == 200 and sent.json()["status"] == "submitted"
    assert statuses(sent.json()) == ["submitted", "submitted"]
    history = c.get(f"/api/v1/notices/{n}/history").json()
    assert history[-1]["action"] == "submit" and len(history[-1]["attachments"]) == 3

    rejected = act(i, n, "reject", "第 2 项照片中仍有工人未戴安全帽").json()
    assert rejected["status"] == "rectifying" and rejected["round"] == 2
    assert statuses(rejected) == ["returned", "returned"]
    assert rejected["reinspection"]["result"] == "rejected"
    assert rejected["reinspection"]["comment"] == "第 2 项照片中仍有工人未戴安全帽"
    unchanged = submit(c, n)  # the rejected replies, sent back unchanged
    assert unchanged.status_code == 422 and "rejected these replies" in unchanged.json()["error"]

    assert reply(c, n, 2, "已整改，全部人员佩戴安全帽", 90).status_code == 200
    again = c.get(f"/api/v1/notices/{n}").json()
    assert statuses(again) == ["returned", "replied"]
    assert submit(c, n).json()["status"] == "submitted"
    done = act(i, n, "accept", "复查合格").json()
    assert done["status"] == "closed" and statuses(done) == ["closed", "closed"]
    assert done["reinspection"]["result"] == "accepted" and done["due_in_s"] is None
    assert [len(it["replies"]) for it in done["items"]] == [1, 2]
    assert done["items"][1]["replies"][-1]["round"] == 2

    # each proof photo is served, scoped like the notice; other names are 404
    name = done["items"][1]["replies"][-1]["attachments"][0].rsplit("/", 1)[1]
    photo = world["admin"].get(f"/api/v1/notices/{n}/proof/{name}")
    assert photo.status_code == 200 and photo.content == jpeg(90)
    assert world["admin"].get(f"/api/v1/notices/{n}/proof/..%2Fx.jpg").status_code == 404
    assert world["admin"].get(f"/api/v1/notices/{n}/proof/{'0' * 64}.jpg").status_code == 404
    outsider = api_client(world["app"], "contractor", sites=["elsewhere"])
    assert outsider.get(f"/api/v1/notices/{n}/proof/{name}").status_code == 404

    # the hash-chained audit log records each reply, and agrees with the tables
    assert main(["audit", "verify", "--db", world["db"]]) == 0
    # and the archive export (5-year retention) carries the replies
    with world["app"].state.services.sessions() as s:
        kept = export_archive(s, world["data"] / "archive.jsonl.gz")
    assert kept["rows"]["notice_item_replies"] == 3 and kept["audit_ok"]


def test_item_replies_are_refused_with_the_reason(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path}/api.db")
    seed(app)
    inspector = api_client(app, "inspector", insurer="保险A")
    n = inspector.post(f"/api/v1/projects/{SITE}/notices").json()["id"]
    c = api_client(app, "contractor", sites=[SITE])
    first = reply(c, n, 1, "已整改", 1)
    assert first.status_code == 409 and "签收" in first.json()["error"]  # acknowledge first
    act(c, n, "acknowledge")
    assert reply(inspector, n, 1, "已整改", 1).status_code == 403
    missing = reply(c, n, 3, "已整改", 1)
    assert missing.status_code == 404 and "no item 3" in missing.json()["error"]
    no_photo = c.post(f"/api/v1/notices/{n}/items/1/reply", data={"reply": "已整改"})
    assert no_photo.status_code == 422
    blank = reply(c, n, 1, "   ", 1)
    assert blank.status_code == 422 and "must say what was done" in blank.json()["error"]
    bad = c.post(
        f"/api/v1/notices/{n}/items/1/reply",
        data={"reply": "已整改"},
        files=[("photos", ("x.jpg", io.BytesIO(b"not an image"), "image/jpeg"))],
    )
    assert bad.status_code == 422 and "not a readable image" in bad.json()["error"]
    many = c.post(  # 21 photos: refused whole, not 20 kept and one dropped in silence
        f"/api/v1/notices/{n}/items/1/reply",
        data={"reply": "已整改"},
        files=[("photos", (f"p{i}.jpg", io.BytesIO(jpeg(i)), "image/jpeg")) for i in range(21)],
    )
    assert many.status_code == 413 and "at most 20 photos" in many.json()["error"]
    assert c.get(f"/api/v1/notices/{n}").json()["items"][0].get("replies", []) == []
    outsider = api_client(app, "contractor", sites=["elsewhere"])
    assert reply(outsider, n, 1, "已整改", 1).status_code == 404
    # a dismissed item needs no reply, and the others are enough to submit
    hazard = c.get(f"/api/v1/notices/{n}").json()["items"][0]["hazard_id"]
    r = inspector.post(f"/api/v1/hazards/{hazard}/dismiss", json={"reason": "安全帽颜色误识别"})
    assert r.status_code == 200
    dismissed = reply(c, n, 1, "已整改", 1)
    assert dismissed.status_code == 409 and "dismissed" in dismissed.json()["error"]
    assert reply(c, n, 2, "已整改", 2).status_code == 200
    doc = submit(c, n).json()
    assert doc["status"] == "submitted" and statuses(doc) == ["dismissed", "submitted"]
    late = reply(c, n, 2, "再补充", 3)
    assert late.status_code == 409 and "submitted" in late.json()["error"]


def test_the_whole_notice_reply_answers_the_items_not_yet_answered(tmp_path):
    """Older API clients send one reply with photos for the whole notice: it still moves
    the notice to re-inspection, and becomes the reply of each item without one."""
    app = make_app(tmp_path, f"sqlite:///{tmp_path}/api.db")
    seed(app)
    n = api_client(app, "inspector", insurer="保险A").post(f"/api/v1/projects/{SITE}/notices")
    n = n.json()["id"]
    c = api_client(app, "contractor", sites=[SITE])
    act(c, n, "acknowledge")
    assert reply(c, n, 1, "第 1 项单独回复", 10).status_code == 200
    no_text = submit(c, n, "", 20)
    assert no_text.status_code == 422 and "must say what was done" in no_text.json()["error"]
    no_photo = c.post(f"/api/v1/notices/{n}/submit", data={"reply": "已整改"})
    assert no_photo.status_code == 422 and "at least one proof photo" in no_photo.json()["error"]
    doc = submit(c, n, "统一整改并完成教育", 20).json()
    assert doc["status"] == "submitted"
    own, whole = (it["replies"] for it in doc["items"])
    assert [(r["text"], r["via"]) for r in own] == [("第 1 项单独回复", "item")]
    assert [(r["text"], r["via"]) for r in whole] == [("统一整改并完成教育", "notice")]
    history = c.get(f"/api/v1/notices/{n}/history").json()
    assert history[-1]["comment"] == "统一整改并完成教育" and len(history[-1]["attachments"]) == 1


def test_the_countdown_in_words_and_an_overdue_notice(tmp_path):
    t0 = datetime(2026, 12, 10, 4, 0)
    assert countdown_text(seconds_left(t0 + timedelta(days=2, hours=5, minutes=59), t0)) == (
        "剩余 2 天 5 小时"
    )
    assert countdown_text(2 * 86400 + 5 * 3600, "en") == "2 d 5 h left"
    assert countdown_text(3 * 3600 + 10, "zh") == "剩余 3 小时"
    assert countdown_text(25 * 60, "en") == "25 min left"
    assert countdown_text(0) == "剩余 1 分钟"  # at the deadline itself: not yet overdue
    assert countdown_text(seconds_left(t0, t0 + timedelta(days=6, hours=3))) == "已逾期 6 天"
    assert countdown_text(-6 * 86400, "en") == "6 d overdue"
    assert countdown_text(-5 * 3600 - 1, "zh") == "已逾期 5 小时"
    assert countdown_text(-1) == "已逾期 1 分钟"
    # a notice issued 8 days ago (general: 3 days) is 4 and some days past its deadline
    app = make_app(tmp_path, f"sqlite:///{tmp_path}/api.db")
    seed(app, events=1)
    with app.state.services.sessions.begin() as s:
        p = s.query(ProjectRow).filter_by(site_id=SITE).one()
        issued = issue_notice(s, p, DeadlinePolicy(), "李检查员", datetime.now(UTC) - timedelta(8))
        assert issued is not None
        nid = issued.id
    doc = api_client(app).get(f"/api/v1/notices/{nid}").json()
    assert doc["overdue"] is True and doc["items"][0]["overdue"] is True
    assert -5 * 86400 < doc["due_in_s"] < -4 * 86400
    page = api_client(app).get(f"/notices/{nid}.html").text
    assert "已逾期 4 天" in page


def pdftotext(pdf: bytes, tmp_path) -> str:
    (tmp_path / "n.pdf").write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(tmp_path / "n.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_images(tmp_path) -> int:
    out = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / "n.pdf")], capture_output=True, text=True
    ).stdout
    return len([line for line in out.splitlines()[2:] if " image " in line])


def test_a_closed_notice_prints_its_replies_the_re_inspection_and_its_end(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path}/api.db")
    seed(app)
    i = api_client(app, "inspector", "李检查员", insurer="保险A")
    n = i.post(f"/api/v1/projects/{SITE}/notices").json()["id"]
    c = api_client(app, "contractor", "张工", sites=[SITE])
    blank = pdftotext(c.get(f"/notices/{n}.pdf").content, tmp_path)
    assert "整改回复及佐证照片" not in blank and "复查通过" not in blank  # boxes to sign by hand
    act(c, n, "acknowledge")
    reply(c, n, 1, "一号门岗补发安全帽二十顶", 40)
    reply(c, n, 2, "二号楼班组完成安全教育", 50)
    submit(c, n)
    act(i, n, "accept", "现场复查合格，同意销项")

    page = c.get(f"/notices/{n}.html")
    assert page.status_code == 200
    html = page.text
    assert "一号门岗补发安全帽二十顶" in html and "二号楼班组完成安全教育" in html
    assert "复查通过：现场复查合格，同意销项（复查人 李检查员" in html
    assert "已关闭（复查通过" in html and "已逐项回复 2/2 项" in html
    assert "张工（" in html  # who signed for it, and when
    proofs = [p.split('"')[0] for p in html.split('src="/api/v1/notices/')[1:]]
    assert len(proofs) == 2
    assert all(c.get(f"/api/v1/notices/{p}").status_code == 200 for p in proofs)

    text = pdftotext(c.get(f"/notices/{n}.pdf").content, tmp_path)
    flat = "".join(text.split())  # pdftotext breaks lines inside table cells
    for words in (
        "一号门岗补发安全帽二十顶",
        "二号楼班组完成安全教育",
        "复查通过：现场复查合格，同意销项",
        "最终状态",
        "已关闭（复查通过",
        "已逐项回复2/2项",
        "整改回复及佐证照片（逐项）",
    ):
        assert words in flat, words
    assert pdf_images(tmp_path) == 2  # the two proof photos (the events carry no evidence)


def console_client(app, role, name, **scope):
    """A console login (session cookie) and its CSRF token, without a browser."""
    from fastapi.testclient import TestClient

    from siteguard.api.access.keys import create_key
    from siteguard.api.access.sessions import SESSION_COOKIE, open_session, session_principal

    with app.state.services.sessions.begin() as s:
        key = create_key(s, name, role, scope.get("sites"), "", scope.get("insurer", ""))
        token = open_session(s, key)
        assert token is not None
        _who, csrf = session_principal(s, token)
    return TestClient(app, cookies={SESSION_COOKIE: token}, follow_redirects=False), csrf


def test_the_console_shows_the_rejection_on_top_and_the_overdue_notice_as_overdue(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path}/api.db")
    seed(app)
    with app.state.services.sessions.begin() as s:
        p = s.query(ProjectRow).filter_by(site_id=SITE).one()
        issued = issue_notice(s, p, DeadlinePolicy(), "李检查员", datetime.now(UTC) - timedelta(8))
        assert issued is not None
        n = issued.id
    c = api_client(app, "contractor", "张工", sites=[SITE])
    act(c, n, "acknowledge")
    browser, csrf = console_client(app, "contractor", "张工", sites=[SITE])
    # the console's reply to one item lands back on that item's card
    r = browser.post(
        f"/console/notices/{n}/items/1/reply",
        data={"csrf": csrf, "reply": "已补发安全帽"},
        files=[("photos", ("a.jpg", io.BytesIO(jpeg(5)), "image/jpeg"))],
    )
    assert r.status_code == 303 and r.headers["location"].endswith("#item-1")
    empty = browser.post(  # a file input left empty: no photo, a clear message
        f"/console/notices/{n}/items/2/reply",
        data={"csrf": csrf, "reply": "已整改"},
        files=[("photos", ("", io.BytesIO(b""), "application/octet-stream"))],
    )
    assert empty.status_code == 303 and "err=" in empty.headers["location"]
    reply(c, n, 2, "已完成教育", 6)
    submit(c, n)
    act(api_client(app, "inspector", insurer="保险A"), n, "reject", "护栏高度不足 1.2 m")

    page = browser.get(f"/console/notices/{n}").text
    assert 'id="rejection"' in page and "护栏高度不足 1.2 m" in page
    assert page.index('id="rejection"') < page.index('id="items"')  # at the top
    assert 'id="notice-overdue"' in page and "已逾期 4 天" in page  # 8 days ago, 3 days given
    assert page.count("复查退回") >= 2 and "为复查退回的 2 项统一重新回复" in page
    en = browser.get(f"/console/notices/{n}?lang=en").text
    assert "Re-inspection rejected" in en and "4 d overdue" in en and "sent back" in en
    listing = browser.get("/console/notices?lang=zh").text
    assert "已逾期 4 天" in listing
    # once an item is answered again, the rejection no longer blocks the submission
    reply(c, n, 1, "已加高护栏", 7)
    page = browser.get(f"/console/notices/{n}").text
    assert "全部条目已回复，可提交复查。" in page
    assert submit(c, n).json()["status"] == "submitted"
    assert 'id="rejection"' not in browser.get(f"/console/notices/{n}").text
