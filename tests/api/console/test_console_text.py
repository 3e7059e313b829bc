"""Every console page a role opens, in Chinese (the default) and English: no Python reprs,
no raw keys (text keys, hazard types, states), and in Chinese no English UI words left
untranslated (issue 17's all-pages check)."""

import html
import json
import re

import pytest

from tests.api.console.test_console_pages import REPRS, console  # noqa: F401 (fixture)
from tests.support.api import api_client, console_client, sqlite_app
from tests.support.paths import GOLDEN_START

PAGES = [
    ("inspector", {"insurer": "ins"}, "/console/"),
    ("inspector", {"insurer": "ins"}, "/console/inbox"),
    ("inspector", {"insurer": "ins"}, "/console/notices"),
    ("inspector", {"insurer": "ins"}, "/console/notices/1"),
    ("inspector", {"insurer": "ins"}, "/console/hazards/1"),
    ("inspector", {"insurer": "ins"}, "/console/sites/futian-0001"),
    ("inspector", {"insurer": "ins"}, "/console/sites/futian-0001/cameras/cam-north/zones"),
    ("insurer", {"insurer": "ins"}, "/console/risk"),
    ("regulator", {"jurisdiction": "福田区"}, "/console/alerts"),
    ("regulator", {"jurisdiction": "福田区"}, "/console/bulletin?month=2026-10"),
]
RAW_KEY = re.compile(
    r"\b(?:lv|st|evst|cls|ev|det)_[a-z_]+\b|\b(?:no_helmet|edge_unprotected|scaffold_unsafe"
    r"|protection_missing)\b"
)
# words of the console's own vocabulary that must not show in English on a Chinese page
ENGLISH_UI = {
    "open", "issued", "closed", "dismissed", "escalated", "rectifying", "submitted",
    "online", "offline", "connecting", "unknown", "major", "general", "hazard", "hazards",
    "notice", "notices", "camera", "cameras", "none", "null", "time", "state", "event",
    "label", "score", "track", "start", "update", "edge", "scaffold", "exclusion",
    "protected", "acknowledge", "accept", "reject", "contractor", "inspector", "regulator",
    "insurer", "admin", "false", "alarm", "missed", "heartbeat", "since",
}  # fmt: skip


def visible_text(page):
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r'(?s)<span class="who">.*?</span>', " ", page)  # the key's own name
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return html.unescape(page)


@pytest.mark.parametrize(("role", "scope", "url"), PAGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_speaks_the_readers_language(console, role, scope, url, lang):  # noqa: F811
    page, _ = console
    sep = "&" if "?" in url else "?"
    r = page(role, f"{url}{sep}lang={lang}", **scope)
    assert r.status_code == 200, (url, r.text[:300])
    text = visible_text(r.text)
    assert not [x for x in REPRS if x in r.text], url
    assert not RAW_KEY.findall(text), (url, lang, sorted(set(RAW_KEY.findall(text))))
    if lang == "zh":
        words = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", text)}
        left = sorted(words & ENGLISH_UI)
        assert not left, (url, left)


@pytest.fixture
def app_with_notice(tmp_path):
    app = sqlite_app(tmp_path, "r.db")
    admin = api_client(app)
    admin.put("/api/v1/projects/futian-0001", json={"name": "福田项目", "insurer": "ins"})
    admin.put("/api/v1/projects/futian-0001/cameras/cam-north", json={"name": "北门塔吊"})
    event = json.loads(GOLDEN_START.read_text())
    assert admin.post("/api/v1/events", json=event).status_code == 202
    return app


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_workflow_refusal_reaches_the_reader_in_their_language(app_with_notice, lang):
    """Accepting a notice that is not waiting for re-inspection: the domain's refusal,
    shown on the notice page, in Chinese for a Chinese reader (not the programs' English)."""
    app = app_with_notice
    c, csrf = console_client(app, "inspector", insurer="ins")
    c.cookies.set("sg_lang", lang)
    assert c.post("/console/inbox/issue", data={"csrf": csrf, "hazard": "1"}).status_code == 200
    r = c.post("/console/notices/1/accept", data={"csrf": csrf, "comment": ""})
    assert r.status_code == 200 and 'id="error"' in r.text
    error = html.unescape(re.search(r'<p class="error" id="error">([^<]*)</p>', r.text).group(1))
    if lang == "zh":
        assert error == "通知单当前为「已签发」，不能复查通过（请刷新页面）"
    else:
        assert error == "cannot accept a notice that is issued"
    # the API keeps the English words programs read
    api = api_client(app, "inspector", insurer="ins")
    assert api.post("/api/v1/notices/1/actions/accept", json={}).json() == {
        "error": "cannot accept a notice that is issued"
    }


def test_an_error_page_keeps_the_header_of_the_logged_in_reader(app_with_notice):
    c, _csrf = console_client(app_with_notice, "inspector", insurer="ins")
    r = c.get("/console/notices/999")
    assert r.status_code == 404
    assert 'id="nav-home"' in r.text and 'id="logout"' in r.text and "c-inspector" in r.text
    bare = api_client(app_with_notice)
    bare.headers.pop("Authorization")
    r = bare.get("/console/no-such-page")  # nobody logged in: the page, without navigation
    assert r.status_code == 404 and 'id="nav-home"' not in r.text


def test_cards_name_the_project_and_camera_not_their_ids(app_with_notice):
    c, csrf = console_client(app_with_notice, "inspector", insurer="ins")
    inbox = visible_text(c.get("/console/inbox").text)
    assert "福田项目 / 北门塔吊" in inbox and "cam-north" not in inbox
    hazard = visible_text(c.get("/console/hazards/1").text)
    assert "北门塔吊" in hazard and "福田项目" in hazard
    assert c.post("/console/inbox/issue", data={"csrf": csrf, "hazard": "1"}).status_code == 200
    notice = c.get("/console/notices/1").text
    assert "北门塔吊（cam-north）" in notice  # the printed location: the name and the id
    history = visible_text(notice.split('id="history"')[1])
    assert "下发整改通知" in history and "已签发" in history  # the first step, 下发
    zones = c.get("/console/sites/futian-0001/cameras/cam-north/zones").text
    title = visible_text(zones.split("<h1", 1)[1].split("</h1>", 1)[0])
    assert "福田项目 / 北门塔吊" in title and "futian-0001" not in title
