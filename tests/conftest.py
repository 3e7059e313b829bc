from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SHARED = REPO.parent / "shared"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def broker(tmp_path):
    from services import Mosquitto

    b = Mosquitto(tmp_path / "broker").start()
    yield b
    b.stop()


def api_client(app, role="admin", name=None, **scope):
    """A TestClient for `app` that sends a fresh API key of `role` (scope: sites=[...],
    jurisdiction=..., insurer=...)."""
    from fastapi.testclient import TestClient

    from siteguard.api.auth import create_key

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
