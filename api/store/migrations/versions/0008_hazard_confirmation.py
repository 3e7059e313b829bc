"""hazard confirmation: who confirmed an AI finding (确认隐患) and when

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hazards") as t:
        t.add_column(sa.Column("confirmed_at", sa.DateTime(), nullable=True))
        t.add_column(
            sa.Column("confirmed_by", sa.String(length=100), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("hazards") as t:
        t.drop_column("confirmed_by")
        t.drop_column("confirmed_at")
