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


@pytest.fixture(scope="session")
def postgres():
    import os
    import shutil
    import tempfile

    from services import Postgres

    root = Path(tempfile.mkdtemp(prefix="siteguard-pg-"))  # pytest's own tmp is root-only
    os.chmod(root, 0o755)
    pg = Postgres(root / "cluster").start()
    yield pg
    pg.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The API's database, once on SQLite and once on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/api.db"
    return request.getfixturevalue("postgres").new_database()
