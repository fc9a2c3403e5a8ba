"""Recurring events: an event's RRULE, its cancelled and moved occurrences, per-occurrence subscriptions and logs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("recurrence", sa.Text(), nullable=True))
    with op.batch_alter_table("event_participants") as batch:
        batch.add_column(sa.Column("occurrence_start", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("notification_log") as batch:
        batch.add_column(sa.Column("occurrence_start", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "occurrence_exceptions",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("original_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_occurrence_exceptions_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "original_start", name=op.f("pk_occurrence_exceptions")),
    )


def downgrade() -> None:
    op.drop_table("occurrence_exceptions")
    with op.batch_alter_table("notification_log") as batch:
        batch.drop_column("occurrence_start")
    with op.batch_alter_table("event_participants") as batch:
        batch.drop_column("occurrence_start")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("recurrence")
