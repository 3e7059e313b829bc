from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.paths import FIXTURES


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def broker(tmp_path):
    """A locked Mosquitto, as the product ships (no anonymous clients): ``broker.login`` is
    a full-access test login with a random password; ``broker.login_as("edge-site-1")`` (may
    publish only under site-1) and ``login_as("siteguard-api")`` (reads every site, writes
    the receipts) are the narrower logins `siteguard broker` writes."""
    import secrets

    from siteguard.demo.services import Mosquitto

    b = Mosquitto(
        tmp_path / "broker",
        superuser=("siteguard-test", secrets.token_urlsafe(18)),
        users={
            "edge-site-1": (secrets.token_urlsafe(18), "site-1"),
            "siteguard-api": (secrets.token_urlsafe(18), None),
        },
    ).start()
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
