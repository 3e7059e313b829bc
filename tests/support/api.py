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
