"""The Alembic migrations build exactly the schema the models describe, on both backends,
and running them again is a no-op."""

import threading

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from siteguard.api.store.db import Base, create_schema, make_engine


def test_migrations_match_the_models_and_are_idempotent(db_url):
    engine = make_engine(db_url)
    create_schema(engine)
    create_schema(engine)  # a restart applies nothing twice
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert diff == [], f"models and migrations differ: {diff}"
    assert version == "0009"
    assert {"hazards", "events", "notices", "audit_log", "push_outbox", "camera_uptime"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_replicas_starting_together_upgrade_the_schema_once(postgres):
    """Two API replicas started at once (compose starts them together) both run the
    migrations; without taking turns the second fails creating tables that exist."""
    url = postgres.new_database()
    engines = [make_engine(url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def replica(engine):
        start.wait()
        try:
            create_schema(engine)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with engines[0].connect() as conn:
        versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    assert versions == ["0009"]
    for e in engines:
        e.dispose()
