"""Event announcements: the chat message that announced each event (so it can be edited as the event changes),
and the platform's own event that mirrors it (a Discord guild scheduled event).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_announcements",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("message_ref", sa.String(length=200), nullable=False),
        sa.Column("mirror_ref", sa.String(length=64), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_announcements_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_announcements")),
    )
    op.create_index(op.f("ix_event_announcements_mirror_ref"), "event_announcements", ["mirror_ref"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_event_announcements_mirror_ref"), table_name="event_announcements")
    op.drop_table("event_announcements")
