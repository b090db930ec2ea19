"""Feeds say what their last read left out: items deferred by the cap, entries skipped.

A feed with more new items than ``CLAIMWATCH_MAX_ITEMS_PER_POLL`` is read newest
first, the rest on later polls (``items_deferred``); at a feed's first read the items
past the cap are history and are passed over (``items_passed_over``); entries that
cannot be read (too large, no text, no identity) are skipped (``entries_skipped``).
``feeds list`` shows all three, so a capped or lossy feed is visible, not silent.

Revision ID: 0008_feed_caps
Revises: 0007_delivery_lookup
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_feed_caps"
down_revision: str | None = "0007_delivery_lookup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("items_deferred", "items_passed_over", "entries_skipped")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column(
            "feeds", sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    for name in COLUMNS:
        op.drop_column("feeds", name)  # SQLite ≥ 3.35 drops columns in place
