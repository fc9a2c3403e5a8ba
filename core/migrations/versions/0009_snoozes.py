"""Snoozes: a member's "remind me again in 10 minutes" on a reminder sent by direct message.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snoozes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reminder_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurrence_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_snoozes_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_snoozes_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snoozes")),
        sa.UniqueConstraint("event_id", "user_id", "reminder_due_at", name=op.f("uq_snoozes_event_id")),
    )
    op.create_index(op.f("ix_snoozes_event_id"), "snoozes", ["event_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_snoozes_event_id"), table_name="snoozes")
    op.drop_table("snoozes")
