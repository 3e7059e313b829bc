"""Alembic migrations of the API database (SQLite and PostgreSQL)."""
