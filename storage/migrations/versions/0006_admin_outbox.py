"""Admin alerts through an outbox, like story alerts.

Admin alerts (a feed failing, a channel gone, the deployment unhealthy) used to be
posted straight after their commit; a chat outage at that moment lost them from
the admin channel. Now each one is queued in ``admin_deliveries`` in the
transaction that stores it, one row per registered admin channel
(``admin_channels``, kept equal to the configuration by the delivering workers),
and sent by the delivery worker with the same leases, retries and look-before-
resend as story alerts.

Revision ID: 0006_admin_outbox
Revises: 0005_claim_indexes
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_admin_outbox"
down_revision: str | None = "0005_claim_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "admin_channels",
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("registered_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("platform", "channel_id", name="pk_admin_channels"),
    )
    op.create_table(
        "admin_deliveries",
        sa.Column("id", SEQ, nullable=False, autoincrement=True),
        sa.Column("admin_key", sa.String(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
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
            ["admin_key"],
            ["admin_alerts.key"],
            name="fk_admin_deliveries_admin_key_admin_alerts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_admin_deliveries"),
        sa.UniqueConstraint(
            "admin_key",
            "platform",
            "channel_id",
            name="uq_admin_deliveries_admin_key_platform_channel_id",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_admin_deliveries_state_next_attempt_at",
        "admin_deliveries",
        ["state", "next_attempt_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_admin_deliveries_state_next_attempt_at", table_name="admin_deliveries")
    op.drop_table("admin_deliveries")
    op.drop_table("admin_channels")
