"""The Alembic migrations build exactly the schema the models describe, on both backends,
and running them again is a no-op."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from siteguard.api.db import Base, create_schema, make_engine


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
    assert version == "0003"
    assert {"hazards", "events", "notices", "audit_log", "push_outbox", "camera_uptime"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()
