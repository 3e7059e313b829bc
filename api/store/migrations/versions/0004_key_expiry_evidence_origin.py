"""api key expiry and revocation; the site's edge box (evidence is fetched only from it)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as t:
        t.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        t.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        t.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("projects") as t:
        t.add_column(
            sa.Column("evidence_base_url", sa.String(length=300), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("projects") as t:
        t.drop_column("evidence_base_url")
    with op.batch_alter_table("api_keys") as t:
        t.drop_column("revoked_at")
        t.drop_column("expires_at")
        t.drop_column("created_at")
