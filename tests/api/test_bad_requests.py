"""Bad input gets a JSON error, never a 500 (attack report rows 10 and 13), on SQLite and
on PostgreSQL: ids longer than their columns, NULs, absurd numbers, bodies that do not
parse. Every error body is {"error": ...}."""

import pytest

from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from tests.support.api import api_client


@pytest.fixture
def admin(db_url):
    app = create_app(ApiSettings(database_url=db_url, mqtt=MqttIngestSettings(enabled=False)))
    with api_client(app) as c:
        yield c


@pytest.mark.parametrize(
    ("method", "url", "kw"),
    [
        ("PUT", "/api/v1/projects/" + "s" * 70, {"json": {"name": "P"}}),
        ("PUT", "/api/v1/projects/a%00b", {"json": {"name": "P"}}),
        ("PUT", "/api/v1/projects/site-1/cameras/" + "c" * 70, {"json": {}}),
        ("GET", "/api/v1/hazards?site_id=a%00b", {}),
        ("GET", "/api/v1/notices?site_id=a%00b", {}),
        ("GET", "/api/v1/hazards/99999999999999999999", {}),
        ("GET", "/api/v1/insurer/projects/" + "s" * 70 + "/premium?contract_value=1", {}),
        ("POST", "/api/v1/events", {"content": b"{not json"}),
        (
            "PUT",
            "/api/v1/projects/site-1",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
        ),
        (
            "POST",
            "/api/v1/notices/1/submit",
            {
                "content": b"--x\r\ngarbage",
                "headers": {"content-type": "multipart/form-data; boundary=x"},
            },
        ),
    ],
)
def test_bad_input_is_a_json_error_not_a_server_error(admin, method, url, kw):
    r = admin.request(method, url, **kw)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert "error" in r.json() and "detail" not in r.json(), r.text


def test_an_absurd_id_in_the_console_is_an_error_page_not_a_500(admin):
    from siteguard.api.access.keys import create_key

    with admin.app.state.services.sessions.begin() as s:
        key = create_key(s, "console-admin", "admin")
    admin.post("/console/login", data={"key": key})
    for url in ("/console/hazards/99999999999999999999", "/console/notices/-1"):
        r = admin.get(url, headers={"Authorization": ""})
        assert r.status_code == 422 and "<html" in r.text.lower(), (url, r.status_code)


def test_a_valid_50_character_site_gets_notices(admin, db_url):
    import json

    from tests.support.paths import GOLDEN_START

    site = "s" * 50
    assert (
        admin.put(f"/api/v1/projects/{site}", json={"name": "P", "insurer": "i"}).status_code == 200
    )
    ev = json.loads(GOLDEN_START.read_text()) | {"site_id": site}
    assert admin.post("/api/v1/events", json=ev).status_code == 202
    app = admin.app
    inspector = api_client(app, "inspector", insurer="i")
    r = inspector.post(f"/api/v1/projects/{site}/notices")
    assert r.status_code == 201, r.text
    assert len(r.json()["number"]) <= 64
