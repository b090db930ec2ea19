"""Chat delivery: subscriptions, mutes, digests, the outbox, story threads.

Hand-written and self-contained, like 0001 and 0002. ``deliveries`` is the outbox:
one row per alert × channel, written in the alert's transaction; its lease columns
let several workers send without sending anything twice.

Revision ID: 0003_delivery
Revises: 0002_feeds
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_delivery"
down_revision: str | None = "0002_feeds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("types", sa.Text(), nullable=False),
        sa.Column("min_severity", sa.String(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("paused_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
    )
    op.create_index(
        "ix_subscriptions_platform_channel_id", "subscriptions", ["platform", "channel_id"]
    )
    op.create_table(
        "mutes",
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("story_id", sa.String(), nullable=False),
        sa.Column("until", TS, nullable=True),
        sa.PrimaryKeyConstraint("platform", "channel_id", "story_id", name="pk_mutes"),
    )
    op.create_table(
        "digests",
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("interval_s", sa.Float(), nullable=False),
        sa.Column("next_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("platform", "channel_id", name="pk_digests"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", SEQ, nullable=False, autoincrement=True),
        sa.Column("alert_key", sa.String(), nullable=False),
        sa.Column("story_id", sa.String(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("subscription_id", sa.String(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("attempt_started_at", TS, nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_expires_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_key"],
            ["alerts.key"],
            name="fk_deliveries_alert_key_alerts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint(
            "alert_key",
            "platform",
            "channel_id",
            name="uq_deliveries_alert_key_platform_channel_id",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_deliveries_state_next_attempt_at", "deliveries", ["state", "next_attempt_at"]
    )
    op.create_index(
        "ix_deliveries_platform_channel_id_story_id_id",
        "deliveries",
        ["platform", "channel_id", "story_id", "id"],
    )
    op.create_table(
        "story_threads",
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("story_id", sa.String(), nullable=False),
        sa.Column("root_message_id", sa.String(), nullable=False),
        sa.Column("thread_id", sa.String(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("platform", "channel_id", "story_id", name="pk_story_threads"),
    )


def downgrade() -> None:
    op.drop_table("story_threads")
    op.drop_index("ix_deliveries_platform_channel_id_story_id_id", table_name="deliveries")
    op.drop_index("ix_deliveries_state_next_attempt_at", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_table("digests")
    op.drop_table("mutes")
    op.drop_index("ix_subscriptions_platform_channel_id", table_name="subscriptions")
    op.drop_table("subscriptions")
