"""API keys over their life: `siteguard api-key add --expires...`, `list` (never the key),
`revoke`; a revoked or expired key is refused (401 with the reason) by the API and by the
console, including a console session opened before the key was revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from siteguard.api.access.keys import hash_key
from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.cli import main


def app_on(tmp_path, db_url):
    return create_app(
        ApiSettings(
            database_url=db_url, mqtt=MqttIngestSettings(enabled=False), data_dir=tmp_path / "d"
        )
    )


def add_key(capsys, db_url, *args: str) -> str:
    assert main(["api-key", "add", "--db", db_url, *args]) == 0
    return capsys.readouterr().out.strip()


def key_list(capsys, db_url) -> dict[str, dict[str, str]]:
    assert main(["api-key", "list", "--db", db_url]) == 0
    out = capsys.readouterr().out
    header, *lines = out.splitlines()
    cols = header.split("\t")
    assert cols == ["id", "name", "role", "scope", "created", "expires", "revoked"]
    return {
        row["name"]: row for row in (dict(zip(cols, ln.split("\t"), strict=True)) for ln in lines)
    }


def bearer(app, key: str) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {key}"})


def test_list_shows_every_key_with_its_times_and_never_the_key(tmp_path, db_url, capsys):
    before = datetime.now(UTC).replace(microsecond=0)
    k1 = add_key(
        capsys, db_url, "--name", "施工方", "--role", "contractor", "--sites", "a-1,b-2",
        "--expires-days", "30",
    )  # fmt: skip
    k2 = add_key(capsys, db_url, "--name", "ops", "--role", "admin", "--expires", "2099-01-01")
    k3 = add_key(capsys, db_url, "--name", "reg", "--role", "regulator", "--jurisdiction", "福田")
    assert len({k1, k2, k3}) == 3 and all(k.startswith("sg_") for k in (k1, k2, k3))
    assert main(["api-key", "list", "--db", db_url]) == 0
    raw = capsys.readouterr().out
    for k in (k1, k2, k3):  # neither the key nor its hash is ever shown
        assert k not in raw and hash_key(k) not in raw
    rows = key_list(capsys, db_url)
    c, a, r = rows["施工方"], rows["ops"], rows["reg"]
    assert (c["role"], c["scope"]) == ("contractor", "sites=a-1,b-2")
    assert (r["scope"], a["scope"]) == ("jurisdiction=福田", "all")
    for row in (c, a, r):  # created_at is set on add
        created = datetime.fromisoformat(row["created"].replace("Z", "+00:00"))
        assert before - timedelta(seconds=1) <= created <= datetime.now(UTC)
        assert row["revoked"] == "-"
    expires = datetime.fromisoformat(c["expires"].replace("Z", "+00:00"))
    assert abs(expires - (before + timedelta(days=30))) < timedelta(minutes=1)
    assert a["expires"] == "2098-12-31T16:00:00Z"  # 00:00 China time on the day given
    assert r["expires"] == "-"


def test_bad_expiry_is_refused_on_add(tmp_path, db_url, capsys):
    args = ["api-key", "add", "--db", db_url, "--name", "x", "--role", "admin"]
    assert main([*args, "--expires", "2020-01-01"]) == 2
    assert "not in the future" in capsys.readouterr().err
    assert main([*args, "--expires", "31/12/2030"]) == 2
    assert main([*args, "--expires-days", "0"]) == 2
    assert key_list(capsys, db_url) == {}


def test_revoked_and_expired_keys_are_refused_by_the_api(tmp_path, db_url, capsys):
    app = app_on(tmp_path, db_url)
    keep = add_key(capsys, db_url, "--name", "keep", "--role", "admin")
    gone = add_key(capsys, db_url, "--name", "gone", "--role", "admin")
    gone2 = add_key(capsys, db_url, "--name", "gone", "--role", "inspector", "--insurer", "i")
    late = add_key(capsys, db_url, "--name", "late", "--role", "admin", "--expires-days", "1")
    by_id = add_key(capsys, db_url, "--name", "by-id", "--role", "admin")
    with bearer(app, keep) as c:
        for k in (keep, gone, gone2, late, by_id):
            assert bearer(app, k).get("/api/v1/projects").status_code == 200
        # revoke by name: every key held under it
        assert main(["api-key", "revoke", "--db", db_url, "gone"]) == 0
        assert capsys.readouterr().out.count("revoked key") == 2
        for k in (gone, gone2):
            r = bearer(app, k).get("/api/v1/projects")
            assert r.status_code == 401 and r.json()["error"].startswith("API key revoked at ")
        # revoke by id
        key_id = key_list(capsys, db_url)["by-id"]["id"]
        assert main(["api-key", "revoke", "--db", db_url, key_id]) == 0
        assert bearer(app, by_id).get("/api/v1/hazards").status_code == 401
        # expiry: the day has passed
        with app.state.services.engine.begin() as conn:
            conn.execute(
                text("UPDATE api_keys SET expires_at = :t WHERE name = 'late'"),
                {"t": datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)},
            )
        r = bearer(app, late).post("/api/v1/events", json={})
        assert r.status_code == 401 and r.json()["error"].startswith("API key expired at ")
        # the others still work; unknown names and ids are an error
        assert c.get("/api/v1/projects").status_code == 200
    assert main(["api-key", "revoke", "--db", db_url, "nobody"]) == 1
    assert "no API key" in capsys.readouterr().err
    assert main(["api-key", "revoke", "--db", db_url, "999"]) == 1
    rows = key_list(capsys, db_url)
    assert rows["keep"]["revoked"] == "-" and rows["by-id"]["revoked"].endswith("Z")
    # revoking again keeps the first time
    first = rows["by-id"]["revoked"]
    assert main(["api-key", "revoke", "--db", db_url, key_id]) == 0
    capsys.readouterr()
    assert key_list(capsys, db_url)["by-id"]["revoked"] == first


def console_login(app, key: str) -> TestClient:
    c = TestClient(app)
    c.post("/console/login", data={"key": key}, follow_redirects=False)
    return c


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_console_refuses_a_revoked_or_expired_key_and_its_open_sessions(
    tmp_path, db_url, capsys, how
):
    app = app_on(tmp_path, db_url)
    key = add_key(capsys, db_url, "--name", "insp", "--role", "inspector", "--insurer", "i")
    with TestClient(app):
        c = console_login(app, key)
        page = c.get("/console/", follow_redirects=False)
        assert page.status_code == 200, page.text  # logged in
        if how == "revoked":
            assert main(["api-key", "revoke", "--db", db_url, "insp"]) == 0
        else:
            with app.state.services.engine.begin() as conn:
                conn.execute(
                    text("UPDATE api_keys SET expires_at = :t"),
                    {"t": datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)},
                )
        # the session opened before no longer works: back to the login page
        r = c.get("/console/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
        # nor does the session cookie stand in for the key on the JSON API
        assert c.get("/api/v1/projects").status_code == 401
        # and logging in again with the key does not get into the console
        again = console_login(app, key)
        r = again.get("/console/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
