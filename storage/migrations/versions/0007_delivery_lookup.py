"""Outbox rows remember that their "did it land?" look-up was refused.

After an attempt whose outcome is unknown (a 5xx, a timeout, a kill) the worker
asks the platform whether the message landed before it posts again. When the
platform refuses to answer (Slack ``missing_scope`` / ``not_in_channel`` without
the history scopes, Discord 403 on message history, a webhook that cannot be read
back) the alert is posted anyway — a possible duplicate beats a certain loss —
and the row is marked ``lookup_refused`` so that an operator can see which alerts
were delivered at-least-once instead of exactly-once.

Revision ID: 0007_delivery_lookup
Revises: 0006_admin_outbox
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_delivery_lookup"
down_revision: str | None = "0006_admin_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("deliveries", "admin_deliveries")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("lookup_refused", sa.Boolean(), nullable=False, server_default=sa.false()),
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "lookup_refused")  # SQLite ≥ 3.35 drops columns in place
