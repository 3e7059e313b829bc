"""Database engine and sessions (SQLite by default, PostgreSQL through the same code)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, sessionmaker

SQLITE_BUSY_TIMEOUT_S = 30.0  # a write waits this long for another writer, then a 503


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    # pre-ping: a connection the database dropped (restart, failover, idle kill) is
    # replaced on checkout instead of failing the next request
    kwargs: dict[str, Any] = {"future": True, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return engine


def make_sessions(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "siteguard.api.store:migrations")
    return cfg


# pg_advisory_xact_lock key for schema upgrades (any constant no other lock uses)
SCHEMA_LOCK_KEY = 0x5347_0001


def create_schema(engine: Engine) -> None:
    """Bring the database to the latest schema (Alembic `upgrade head`). Replicas starting
    together take turns (a PostgreSQL advisory lock held until the upgrade commits), so the
    second finds the schema at head instead of creating the same tables again."""
    from alembic import command
    from sqlalchemy import text

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
