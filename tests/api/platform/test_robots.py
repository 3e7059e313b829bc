"""企业微信 / 钉钉 group robots: a new major hazard, a notice issued and an escalation reach
the groups in Chinese and China time with the evidence picture and a console link, in
each platform's documented format; a site no group names gets nothing.

The robots here are real HTTP servers on loopback (`RobotReceiver`) that check every
request the way the platforms document them (WeCom: msgtype and fields, an image's base64
decoding to a JPEG of at most 2 MB whose md5 matches; DingTalk: the 加签 signature
recomputed from the secret and timestamp, markdown title and text) and answer as the
platforms do (HTTP 200 with ``errcode``); the site's edge box serves a real JPEG."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from sqlalchemy import text

from siteguard.api.app import create_app
from siteguard.api.platform.push import PushSettings
from siteguard.api.platform.robot_formats import (
    WECOM_PICTURE_MAX_BYTES,
    dingtalk_signed_url,
    picture_signature,
)
from siteguard.api.platform.robots import RobotGroup, RobotSettings
from siteguard.api.settings import ApiSettings, MqttIngestSettings, SettingsError
from siteguard.demo.services import wait_until
from tests.api.hazards.test_evidence_fetch import Box, file
from tests.support.api import api_client
from tests.support.browser import chromium, served
from tests.support.paths import FIXTURES, GOLDEN_START

GOLDEN = json.loads(GOLDEN_START.read_text())
JPEG = (FIXTURES / "images" / "hhw-000011.jpg").read_bytes()
PUBLIC = "https://siteguard.example.cn"
LINK_SECRET = "link-secret-9f2c41d7e0"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_TOKEN = "b3c1e8d0a6f54e2f9c7d1a0b5e4f3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b"
DINGTALK_SECRET = "SEC0d1f2e3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5"
A, B = "futian-0001", "nanshan-0002"
WECOM_TYPES = {"text", "markdown", "image", "news"}
DINGTALK_TYPES = {"text", "markdown", "link", "actionCard", "feedCard"}


class RobotReceiver:
    """A stand-in group robot. ``answers``: errcodes to answer (in turn) before accepting;
    `received` holds the accepted bodies, `refused` why a request broke the format."""

    def __init__(self, kind, secret=None, port=0, answers=(), echo_url=False):
        self.kind, self.secret = kind, secret
        self.answers = list(answers)
        self.echo_url = echo_url  # a refusal's errmsg repeats the URL (the worst case)
        self.received: list[dict] = []
        self.refused: list[str] = []
        self.answered: list[int] = []
        self.signatures_checked = 0
        self._lock = threading.Lock()
        rx = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                code, msg = rx.accept(self.path, body)
                if code and rx.echo_url:
                    msg = f"{msg}, url {self.path}"
                out = json.dumps({"errcode": code, "errmsg": msg}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *_args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self):
        if self.kind == "wecom":
            return f"http://127.0.0.1:{self.port}/cgi-bin/webhook/send?key={WECOM_KEY}"
        return f"http://127.0.0.1:{self.port}/robot/send?access_token={DINGTALK_TOKEN}"

    def accept(self, path, body):
        with self._lock:
            problem = self.check(path, body)
            if problem:
                self.refused.append(problem)
                code = 310000 if "sign" in problem else 40008
                self.answered.append(code)
                return code, problem
            if self.answers:
                code = self.answers.pop(0)
                self.answered.append(code)
                return code, "api freq out of limit" if code in (45009, 130101) else "refused"
            self.received.append(json.loads(body))
            self.answered.append(0)
            return 0, "ok"

    def check(self, path, body):
        """What is wrong with the request by the platform's documentation ('' if nothing)."""
        url = urlsplit(path)
        query = parse_qs(url.query)
        try:
            doc = json.loads(body)
        except ValueError:
            return "body is not JSON"
        if self.kind == "wecom":
            if url.path != "/cgi-bin/webhook/send" or query.get("key") != [WECOM_KEY]:
                return "wrong webhook key"
            return self._check_wecom(doc)
        if url.path != "/robot/send" or query.get("access_token") != [DINGTALK_TOKEN]:
            return "wrong access_token"
        if self.secret is not None:
            ts, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
            if not ts.isdigit() or abs(time.time() * 1000 - int(ts)) > 3600 * 1000:
                return "sign: timestamp missing or more than an hour off"
            digest = hmac.new(
                self.secret.encode(), f"{ts}\n{self.secret}".encode(), hashlib.sha256
            ).digest()
            if sign != base64.b64encode(digest).decode():
                return "sign not match"
            self.signatures_checked += 1
        if doc.get("msgtype") not in DINGTALK_TYPES:
            return f"msgtype {doc.get('msgtype')!r}"
        if doc["msgtype"] == "markdown":
            md = doc.get("markdown") or {}
            if not isinstance(md.get("title"), str) or not md["title"]:
                return "markdown.title missing"
            if not isinstance(md.get("text"), str) or not md["text"]:
                return "markdown.text missing"
        return ""

    @staticmethod
    def _check_wecom(doc):
        kind = doc.get("msgtype")
        if kind not in WECOM_TYPES:
            return f"msgtype {kind!r}"
        if kind == "markdown":
            content = (doc.get("markdown") or {}).get("content")
            if not isinstance(content, str) or not 0 < len(content.encode()) <= 4096:
                return "markdown.content missing or over 4096 bytes"
        if kind == "image":
            image = doc.get("image") or {}
            try:
                raw = base64.b64decode(image.get("base64", ""), validate=True)
            except ValueError:
                return "image.base64 is not base64"
            if hashlib.md5(raw).hexdigest() != image.get("md5"):
                return "image.md5 does not match"
            if len(raw) > WECOM_PICTURE_MAX_BYTES or not raw.startswith(b"\xff\xd8"):
                return "image over 2 MB or not a JPEG"
        return ""

    def markdown(self):
        return [m for m in self.received if m["msgtype"] == "markdown"]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def started_robots():
    """`start(...)` starts a RobotReceiver; `stop()` stops every one it started."""
    started: list[RobotReceiver] = []

    def start(*args, **kwargs):
        started.append(RobotReceiver(*args, **kwargs))
        return started[-1]

    def stop():
        for r in started:
            r.stop()

    return start, stop


def edge_box_server():
    """The site's edge box: ``box.routes`` maps an evidence path to what it serves."""
    routes: dict = {}
    box = Box(routes)
    box.routes = routes
    return box


@pytest.fixture
def robots():
    start, stop = started_robots()
    yield start
    stop()


@pytest.fixture
def edge_box():
    box = edge_box_server()
    yield box
    box.stop()


def api_settings(tmp_path, db_url, groups, **robots):
    """API settings with these robot groups, delivering fast (test timings)."""
    timings = dict(poll_s=0.05, base_backoff_s=0.05, max_backoff_s=0.3, min_interval_s=0)
    return ApiSettings(
        database_url=db_url,
        mqtt=MqttIngestSettings(enabled=False),
        data_dir=tmp_path / "d",
        push=PushSettings(escalation_check_s=0.2),  # no platform URL: queue only
        robots=RobotSettings(
            **(
                {"public_base_url": PUBLIC, "link_secret": LINK_SECRET, "groups": groups}
                | timings
                | robots
            )
        ),
    )


def wecom(rx, name="site-wecom", **kw):
    return RobotGroup(name=name, kind="wecom", url=rx.url, **kw)


def dingtalk(rx, name="site-dingtalk", **kw):
    return RobotGroup(name=name, kind="dingtalk", url=rx.url, secret=rx.secret, **kw)


PROJECTS = {A: "福田区某小学改造工程", B: "南山某住宅修缮"}


def register(admin, box, site=A):
    """The project, its camera (named) and the edge box that serves its evidence."""
    r = admin.put(
        f"/api/v1/projects/{site}",
        json={
            "name": PROJECTS[site],
            "insurer": "保险A",
            "contractor": "深圳某建设公司",
            "responsible_person": "张工",
            "evidence_base_url": f"{box.url}/evidence/",
        },
    )
    assert r.status_code == 200, r.text
    r = admin.put(f"/api/v1/projects/{site}/cameras/cam-north", json={"name": "北门塔吊"})
    assert r.status_code == 200, r.text


def major_hazard(edge, box, site=A, n=1, picture=JPEG, camera="cam-north"):
    """A major hazard at `site` on `camera` whose evidence picture the edge box serves
    (``picture=None``: it has none to give); its event id."""
    event_id = f"evt_{site[:6]}{n:020d}"
    path = f"/evidence/{event_id}/start.jpg"
    if picture is not None:
        box.routes[path] = file(picture)
    ev = dict(
        GOLDEN,
        site_id=site,
        camera_id=camera,
        event_id=event_id,
        level="major",
        evidence_uri=box.url + path,
    )
    r = edge.post("/api/v1/events", json=ev)
    assert r.status_code in (200, 201, 202), r.text
    return event_id


def outbox(app):
    with app.state.services.engine.connect() as c:
        return c.execute(
            text(
                "SELECT robot, site_id, type, attempts, delivered_at IS NOT NULL, last_error "
                "FROM robot_outbox ORDER BY id"
            )
        ).all()


def picture_of(message):
    return base64.b64decode(message["image"]["base64"])


def test_wecom_group_gets_major_hazard_and_notice_in_chinese_with_the_evidence_jpeg(
    tmp_path, db_url, robots, edge_box
):
    rx = robots("wecom")
    app = create_app(api_settings(tmp_path, db_url, [wecom(rx)]))
    with api_client(app) as admin:
        register(admin, edge_box)
        edge = api_client(app, "edge", sites=[A])
        major_hazard(edge, edge_box)
        assert wait_until(lambda: len(rx.received) == 2), (rx.received, rx.refused, outbox(app))
        hazard = admin.get("/api/v1/hazards").json()[0]
        notice = api_client(app, "inspector", insurer="保险A").post(f"/api/v1/projects/{A}/notices")
        assert notice.status_code == 201, notice.text
        notice = notice.json()
        assert wait_until(lambda: len(rx.received) == 4), (rx.received, rx.refused)
        time.sleep(0.3)  # nothing more arrives
    assert rx.refused == [] and len(rx.received) == 4
    # each message: its markdown first, then the evidence picture itself
    assert [m["msgtype"] for m in rx.received] == ["markdown", "image", "markdown", "image"]
    alert = rx.received[0]["markdown"]["content"]
    assert "重大隐患" in alert and '<font color="warning">' in alert
    assert "福田区某小学改造工程" in alert and "未佩戴安全帽" in alert
    assert "北门塔吊（cam-north）" in alert
    assert "2026-10-05 16:30" in alert  # started 08:30 UTC: China time
    assert f"({PUBLIC}/console/hazards/{hazard['id']})" in alert
    assert not re.search(r"\bmajor\b|no_helmet|T08:30", alert)  # no raw values for people
    assert picture_of(rx.received[1]) == JPEG  # the edge box's JPEG, md5 checked by the robot
    issued = rx.received[2]["markdown"]["content"]
    item = notice["items"][0]
    assert f"整改通知单 {notice['number']}" in issued
    assert f"整改期限 {item['deadline_local']}" in issued
    assert "深圳某建设公司 张工" in issued
    assert f"({PUBLIC}/console/notices/{notice['id']})" in issued
    assert picture_of(rx.received[3]) == JPEG
    assert all(delivered for *_, delivered, _ in outbox(app))


def test_dingtalk_signed_markdown_with_picture_links_for_alert_notice_and_escalation(
    tmp_path, db_url, robots, edge_box
):
    rx = robots("dingtalk", secret=DINGTALK_SECRET)
    app = create_app(api_settings(tmp_path, db_url, [dingtalk(rx)]))
    with api_client(app) as admin:
        register(admin, edge_box)
        major_hazard(api_client(app, "edge", sites=[A]), edge_box)
        notice = api_client(app, "inspector", insurer="保险A").post(f"/api/v1/projects/{A}/notices")
        assert notice.status_code == 201, notice.text
        notice = notice.json()
        assert wait_until(lambda: len(rx.received) == 2), (rx.received, rx.refused)
        with app.state.services.engine.begin() as c:  # the deadline has passed
            c.execute(text("UPDATE notice_items SET deadline = '2026-01-01 00:00:00'"))
        assert wait_until(lambda: len(rx.received) == 3), (rx.received, rx.refused)
        hazard_id = notice["items"][0]["hazard_id"]
        alert, issued, escalated = (m["markdown"] for m in rx.received)
        links = re.findall(r"!\[证据照片 1\]\(([^)]+)\)", alert["text"] + issued["text"])
        assert len(links) == 2, (alert, issued)
        anonymous = TestClient(app)  # whoever holds the link: no key, no login
        picture = anonymous.get(links[0].removeprefix(PUBLIC))
        assert picture.status_code == 200 and picture.content == JPEG
        assert picture.headers["content-type"] == "image/jpeg"
        tampered = links[0][:-1] + ("0" if links[0][-1] != "0" else "1")
        assert anonymous.get(tampered.removeprefix(PUBLIC)).status_code == 403
        past = int(time.time()) - 60
        expired = (
            f"/links/evidence/{hazard_id}.jpg?expires={past}"
            f"&sig={picture_signature(LINK_SECRET, hazard_id, past)}"
        )
        assert anonymous.get(expired).status_code == 403
        other = links[0].removeprefix(PUBLIC).replace(f"/{hazard_id}.jpg", f"/{hazard_id + 1}.jpg")
        assert anonymous.get(other).status_code == 403  # a link opens its own picture only
    assert rx.refused == [] and rx.signatures_checked == 3  # every request signed right
    assert alert["title"].startswith("重大隐患：福田区某小学改造工程")
    assert "- 位置：北门塔吊（cam-north）" in alert["text"]
    assert "2026-10-05 16:30" in alert["text"]
    assert links[0].startswith(f"{PUBLIC}/links/evidence/{hazard_id}.jpg?expires=")
    assert f"({PUBLIC}/console/hazards/{hazard_id})" in alert["text"]
    assert issued["title"] == f"整改通知单 {notice['number']}：福田区某小学改造工程"
    assert f"整改期限 {notice['items'][0]['deadline_local']}" in issued["text"]
    assert f"({PUBLIC}/console/notices/{notice['id']})" in issued["text"]
    assert escalated["title"] == "整改逾期：福田区某小学改造工程 · 未佩戴安全帽"
    assert "- 整改期限：2026-01-01 08:00" in escalated["text"]  # 00:00 UTC in China time
    assert f"- 通知单：{notice['number']}" in escalated["text"]
    assert "- 已上报：住建部门、应急管理部门、保险监管部门" in escalated["text"]


def test_the_stand_in_robot_refuses_what_the_platforms_refuse(robots):
    """The receiver's checks can fail: a wrong signature, a stale timestamp, a picture
    whose md5 does not match are refused with the platforms' errcodes."""
    ding = robots("dingtalk", secret=DINGTALK_SECRET)
    body = {"msgtype": "markdown", "markdown": {"title": "t", "text": "x"}}
    now_ms = int(time.time() * 1000)
    wrong = httpx.post(dingtalk_signed_url(ding.url, "SECwrong", now_ms), json=body).json()
    stale = dingtalk_signed_url(ding.url, DINGTALK_SECRET, now_ms - 2 * 3600 * 1000)
    good = dingtalk_signed_url(ding.url, DINGTALK_SECRET, now_ms)
    assert wrong["errcode"] == 310000
    assert httpx.post(stale, json=body).json()["errcode"] == 310000
    assert httpx.post(good, json=body).json()["errcode"] == 0
    wx = robots("wecom")
    bad_md5 = {"base64": base64.b64encode(JPEG).decode(), "md5": "0" * 32}
    assert httpx.post(wx.url, json={"msgtype": "image", "image": bad_md5}).json()["errcode"]
    assert httpx.post(wx.url, json={"msgtype": "card"}).json()["errcode"] == 40008
    assert len(ding.received) == 1 and wx.received == []


def test_a_site_no_group_names_gets_nothing_and_events_are_chosen_per_group(
    tmp_path, db_url, robots, edge_box
):
    a_only = robots("wecom")
    notices_only = robots("dingtalk", secret=DINGTALK_SECRET)
    groups = [
        wecom(a_only, name="futian-managers", sites=[A]),
        dingtalk(notices_only, name="insurer-notices", events=["notice.issued"]),
    ]
    app = create_app(api_settings(tmp_path, db_url, groups))
    with api_client(app) as admin:
        for site in (A, B):
            register(admin, edge_box, site)
        major_hazard(api_client(app, "edge", sites=[A]), edge_box, A, n=1)
        major_hazard(api_client(app, "edge", sites=[B]), edge_box, B, n=2)
        r = api_client(app, "inspector", insurer="保险A").post(f"/api/v1/projects/{B}/notices")
        assert r.status_code == 201, r.text
        assert wait_until(lambda: len(a_only.received) == 2 and len(notices_only.received) == 1)
        time.sleep(0.5)  # nothing more arrives
        rows = outbox(app)
    assert len(a_only.received) == 2 and len(notices_only.received) == 1
    assert all(PROJECTS[B] not in json.dumps(m, ensure_ascii=False) for m in a_only.received)
    assert PROJECTS[B] in notices_only.received[0]["markdown"]["title"]
    # nothing was even queued for site B's alert at the site-A group
    assert {(robot, site, type_) for robot, site, type_, *_ in rows} == {
        ("futian-managers", A, "alert.major_hazard"),
        ("insurer-notices", B, "notice.issued"),
    }


def test_a_picture_over_2_mb_is_sent_to_wecom_re_encoded_under_the_limit(
    tmp_path, robots, edge_box
):
    noise = np.random.default_rng(7).integers(0, 256, (1400, 1800, 3), dtype=np.uint8)
    big = cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    assert WECOM_PICTURE_MAX_BYTES < len(big) < 5 * 1024 * 1024  # evidence the API keeps
    rx = robots("wecom")
    app = create_app(api_settings(tmp_path, f"sqlite:///{tmp_path}/api.db", [wecom(rx)]))
    with api_client(app) as admin:
        register(admin, edge_box)
        major_hazard(api_client(app, "edge", sites=[A]), edge_box, picture=big)
        assert wait_until(lambda: len(rx.received) == 2), (rx.refused, outbox(app))
    assert rx.refused == []  # under 2 MB, md5 of what was sent
    sent = cv2.imdecode(np.frombuffer(picture_of(rx.received[1]), np.uint8), cv2.IMREAD_COLOR)
    assert sent is not None and sent.shape[1] / sent.shape[0] == pytest.approx(1800 / 1400, 0.01)


def test_robot_settings_refuse_what_cannot_work_and_never_repeat_a_webhook(tmp_path):
    key_url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"
    group = {"name": "g1", "kind": "wecom", "url": key_url}

    def load(**env):
        return ApiSettings.load(env={f"SITEGUARD_ROBOTS_{k.upper()}": v for k, v in env.items()})

    with pytest.raises(SettingsError, match="public_base_url"):
        load(groups=json.dumps([group]))
    ding = dict(group, kind="dingtalk", url="https://oapi.dingtalk.com/robot/send?access_token=t")
    with pytest.raises(SettingsError, match="link_secret"):
        load(groups=json.dumps([ding]), public_base_url=PUBLIC)
    with pytest.raises(SettingsError, match="only 钉钉 takes a secret"):
        load(groups=json.dumps([dict(group, secret="SECx")]), public_base_url=PUBLIC)
    with pytest.raises(SettingsError, match="same name"):
        load(groups=json.dumps([group, group]), public_base_url=PUBLIC)
    with pytest.raises(SettingsError, match="not a JSON list"):
        load(groups="[{", public_base_url=PUBLIC)
    with pytest.raises(SettingsError) as bad:
        load(groups=json.dumps([dict(group, url=f"ftp://x/?key={WECOM_KEY}")]))
    assert "not an http(s) webhook URL" in str(bad.value) and WECOM_KEY not in str(bad.value)
    ok = load(groups=json.dumps([group]), public_base_url=PUBLIC + "/")
    assert ok.robots.public_base_url == PUBLIC and ok.robots.groups[0].name == "g1"
    assert ok.robots.groups[0].events == ["alert.major_hazard", "notice.issued", "hazard.escalated"]
    assert WECOM_KEY not in repr(ok) and WECOM_KEY not in ok.model_dump_json()


@pytest.mark.parametrize("size", [(390, 844), (1280, 900)])
def test_a_picture_link_opens_on_a_phone_and_a_bad_one_says_why_in_chinese(
    tmp_path, robots, edge_box, size
):
    rx = robots("dingtalk", secret=DINGTALK_SECRET)
    app = create_app(api_settings(tmp_path, f"sqlite:///{tmp_path}/api.db", [dingtalk(rx)]))
    w, h = size
    with served(app) as base:
        admin = api_client(app)
        register(admin, edge_box)
        major_hazard(api_client(app, "edge", sites=[A]), edge_box)
        assert wait_until(lambda: len(rx.received) == 1), rx.refused
        link = re.findall(r"!\[[^]]*\]\(([^)]+)\)", rx.received[0]["markdown"]["text"])[0]
        b = chromium(w, h)
        try:
            b.get(link.replace(PUBLIC, base))
            picture = b.find_element(By.TAG_NAME, "img")
            assert b.execute_script("return arguments[0].naturalWidth", picture) > 0
            assert b.execute_script("return document.documentElement.scrollWidth") <= w
            forged = link[:-1] + ("0" if link[-1] != "0" else "1")  # not the API's signature
            b.get(forged.replace(PUBLIC, base))
            error = b.find_element(By.ID, "error").text
            assert error == "图片链接无效或已过期，请登录控制台查看隐患。"
            assert b.execute_script("return document.documentElement.scrollWidth") <= w
        finally:
            b.quit()


def test_a_picture_link_with_a_signature_that_is_not_hex_is_refused_not_an_error(tmp_path):
    """Whatever an anonymous holder puts in ``sig`` (non-ASCII letters of the right length
    too) is a 403 page, never a server error."""
    app = create_app(api_settings(tmp_path, f"sqlite:///{tmp_path}/api.db", []))
    anonymous = TestClient(app, raise_server_exceptions=False)
    expires = int(time.time()) + 3600
    for sig in ("é" * 64, "线" * 64, "0" * 63 + "é", "%00" * 64):
        r = anonymous.get(f"/links/evidence/1.jpg?expires={expires}&sig={sig}")
        assert r.status_code == 403, (sig, r.status_code, r.text[:200])
    good = picture_signature(LINK_SECRET, 1, expires)
    missing = anonymous.get(f"/links/evidence/1.jpg?expires={expires}&sig={good}")
    assert missing.status_code == 404 and "暂时无法取得" in missing.text
    assert "no hazard" not in missing.text  # the reason stays inside: strangers hold links
