"""Per-member default tags, channel follows, public calendar feeds, and the channel key of events.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("default_tags", sa.String(length=500), nullable=False, server_default=""))
    # Events created before this revision have no channel key: follows and channel feeds start with new events.
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("channel_key", sa.String(length=64), nullable=False, server_default=""))
    op.create_index(op.f("ix_events_channel_key"), "events", ["channel_key"], unique=False)
    op.create_table(
        "channel_follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("channel_key", sa.String(length=64), nullable=False),
        sa.Column("channel_label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_channel_follows_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_follows")),
        sa.UniqueConstraint("user_id", "channel_key", name=op.f("uq_channel_follows_user_id")),
    )
    op.create_index("ix_channel_follows_tenant_channel", "channel_follows", ["tenant", "channel_key"], unique=False)
    op.create_table(
        "public_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("channel_key", sa.String(length=64), nullable=False),
        sa.Column("channel_label", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_public_feeds_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_feeds")),
        sa.UniqueConstraint("tenant", "channel_key", name=op.f("uq_public_feeds_tenant")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_public_feeds_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("public_feeds")
    op.drop_index("ix_channel_follows_tenant_channel", table_name="channel_follows")
    op.drop_table("channel_follows")
    op.drop_index(op.f("ix_events_channel_key"), table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("channel_key")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("default_tags")
