"""regulator reads and supervision: 已阅 marks on alerts, 督办 records

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("reader", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazards.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "hazard_id", "reader", name="uq_alert_read"),
    )
    op.create_index("ix_alert_reads_reader", "alert_reads", ["reader"], unique=False)
    op.create_table(
        "supervisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("jurisdiction", sa.String(length=100), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazards.id"]),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_supervisions_hazard_id", "supervisions", ["hazard_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_supervisions_hazard_id", table_name="supervisions")
    op.drop_table("supervisions")
    op.drop_index("ix_alert_reads_reader", table_name="alert_reads")
    op.drop_table("alert_reads")
