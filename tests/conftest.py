from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.paths import FIXTURES


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def broker(tmp_path):
    from siteguard.demo.services import Mosquitto

    b = Mosquitto(tmp_path / "broker").start()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def postgres():
    import os
    import shutil
    import tempfile

    from siteguard.demo.services import Postgres

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
