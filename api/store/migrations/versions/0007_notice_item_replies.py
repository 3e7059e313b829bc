"""notice item replies: the contractor's reply (text + proof photos) to each item

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_item_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachments", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["notice_items.id"]),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_notice_item_replies_notice_id", "notice_item_replies", ["notice_id"], unique=False
    )
    op.create_index(
        "ix_notice_item_replies_item_id", "notice_item_replies", ["item_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_notice_item_replies_item_id", table_name="notice_item_replies")
    op.drop_index("ix_notice_item_replies_notice_id", table_name="notice_item_replies")
    op.drop_table("notice_item_replies")
