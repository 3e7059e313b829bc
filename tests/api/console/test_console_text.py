"""Every console page a role opens, in Chinese (the default) and English: no Python reprs,
no raw keys (text keys, hazard types, states), and in Chinese no English UI words left
untranslated (issue 17's all-pages check)."""

import html
import re

import pytest

from tests.api.console.test_console_pages import REPRS, console  # noqa: F401 (fixture)

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
