"""Story index: stories under their event signature's keys, for grouping.

Grouping used to consider only stories updated in the last 72 hours, so a fact
sheet or a "two months after the quake" report of a disaster started a story of its
own. A one-off disaster now stays open for weeks, and its candidates are found by
index: ``story_keys`` holds each story under the keys of its event signature (event
kind, country, the event's name) with its time span, so the lookup reads the few
stories sharing a key with the article instead of every story of those weeks.

Stories stored before this revision have no keys until their next article; they are
still found by the recent-stories window as before.

Revision ID: 0009_story_index
Revises: 0008_feed_caps
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_story_index"
down_revision: str | None = "0008_feed_caps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "story_keys",
        sa.Column("story_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("first_at", TS, nullable=False),
        sa.Column("last_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["stories.id"],
            name="fk_story_keys_story_id_stories",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("story_id", "key", name="pk_story_keys"),
    )
    op.create_index("ix_story_keys_key_last_at", "story_keys", ["key", "last_at"])


def downgrade() -> None:
    op.drop_index("ix_story_keys_key_last_at", table_name="story_keys")
    op.drop_table("story_keys")
