"""Alembic environment: runs on the connection `siteguard.api.store.db.migrate` hands it."""

from __future__ import annotations

from alembic import context

from siteguard.api.store import tables  # noqa: F401  (registers the tables on Base.metadata)
from siteguard.api.store.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through siteguard.api.store.db.migrate(engine)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
