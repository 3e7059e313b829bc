"""end-to-end delivery: the outbox seqs stored per site and epoch, and what was confirmed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_seqs",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("epoch", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "epoch", "seq"),
    )
    op.create_table(
        "deliveries",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("epoch", sa.String(length=64), nullable=False),
        sa.Column("stored_through", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "epoch"),
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("delivery_seqs")
