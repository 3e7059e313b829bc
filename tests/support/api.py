"""API clients for tests."""

from __future__ import annotations

from typing import Any


def api_client(app: Any, role: str = "admin", name: str | None = None, **scope: Any) -> Any:
    """A TestClient for `app` that sends a fresh API key of `role` (scope: sites=[...],
    jurisdiction=..., insurer=...)."""
    from fastapi.testclient import TestClient

    from siteguard.api.access.keys import create_key

    with app.state.services.sessions.begin() as s:
        key = create_key(
            s,
            name or f"test-{role}",
            role,
            scope.get("sites"),
            scope.get("jurisdiction", ""),
            scope.get("insurer", ""),
        )
    return TestClient(app, headers={"Authorization": f"Bearer {key}"})


def sqlite_app(tmp_path: Any, name: str = "api.db", **settings: Any) -> Any:
    """The API on a fresh SQLite file under `tmp_path`, its files (proof photos, cached
    evidence, snapshots) in `tmp_path`/data, without its MQTT consumer; other
    `ApiSettings` as given."""
    from siteguard.api.app import create_app
    from siteguard.api.settings import ApiSettings, MqttIngestSettings

    return create_app(
        ApiSettings(
            database_url=f"sqlite:///{tmp_path}/{name}",
            mqtt=MqttIngestSettings(enabled=False),
            data_dir=tmp_path / "data",
            **settings,
        )
    )


def console_client(app: Any, role: str, name: str | None = None, **scope: Any) -> Any:
    """A TestClient logged into the console with a fresh key of `role`, and its form
    (CSRF) token: (client, csrf)."""
    import re

    from siteguard.api.access.keys import create_key

    with app.state.services.sessions.begin() as s:
        key = create_key(s, name or f"c-{role}", role, **scope)
    c = api_client(app)
    c.headers.pop("Authorization")
    page = c.post("/console/login", data={"key": key})
    assert page.status_code == 200, page.text[:300]
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    return c, found.group(1) if found else ""
