"""Planned reminder instants per event, and the log indexed by due instant for the slot dispatcher.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planned_reminders",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_planned_reminders_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "due_at", name=op.f("pk_planned_reminders")),
    )
    with op.batch_alter_table("planned_reminders", schema=None) as batch_op:
        batch_op.create_index("ix_planned_reminders_due_at", ["due_at"], unique=False)
    with op.batch_alter_table("notification_log", schema=None) as batch_op:
        batch_op.create_index("ix_notification_log_due_status", ["due_at", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification_log", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_log_due_status")
    op.drop_table("planned_reminders")
