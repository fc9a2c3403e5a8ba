"""Quota uses: one row per rate-limited action (event create, subscribe, test send) per scope, within its window.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quota_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_uses")),
    )
    with op.batch_alter_table("quota_uses", schema=None) as batch_op:
        batch_op.create_index("ix_quota_uses_action_scope_at", ["action", "scope", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quota_uses", schema=None) as batch_op:
        batch_op.drop_index("ix_quota_uses_action_scope_at")
    op.drop_table("quota_uses")
