"""Feeds and their items, page watches, near-duplicate fingerprints, admin alerts.

Hand-written and self-contained, like 0001. The lease columns (``lease_owner``,
``lease_expires_at``) are what lets several workers share feeds and watches.

Revision ID: 0002_feeds
Revises: 0001_core
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_feeds"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON()
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "admin_alerts",
        sa.Column("seq", SEQ, nullable=False, autoincrement=True),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_admin_alerts"),
        sa.UniqueConstraint("key", name="uq_admin_alerts_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_admin_alerts_subject", "admin_alerts", ["subject"])

    op.create_table(
        "feeds",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("interval_s", sa.Float(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.Column("added_by", sa.Text(), nullable=True),
        sa.Column("next_poll_at", TS, nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("last_hash", sa.String(), nullable=True),
        sa.Column("primed", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", TS, nullable=True),
        sa.Column("last_success_at", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", TS, nullable=True),
        sa.Column("items_seen", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_expires_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_feeds"),
        sa.UniqueConstraint("url", name="uq_feeds_url"),
    )
    op.create_index("ix_feeds_next_poll_at_id", "feeds", ["next_poll_at", "id"])

    op.create_table(
        "feed_items",
        sa.Column("feed_id", sa.String(), nullable=False),
        sa.Column("article_id", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("feed_id", "article_id", name="pk_feed_items"),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name="fk_feed_items_feed_id_feeds", ondelete="CASCADE"
        ),
    )

    op.create_table(
        "watches",
        sa.Column("article_id", sa.String(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("next_check_at", TS, nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("page_hash", sa.String(), nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_expires_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("article_id", name="pk_watches"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_watches_article_id_articles",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_watches_next_check_at", "watches", ["next_check_at"])

    op.create_table(
        "fingerprints",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("article_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key", "article_id", name="pk_fingerprints"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_fingerprints_article_id_articles",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_fingerprints_article_id", "fingerprints", ["article_id"])


def downgrade() -> None:
    op.drop_table("fingerprints")
    op.drop_table("watches")
    op.drop_table("feed_items")
    op.drop_table("feeds")
    op.drop_table("admin_alerts")
