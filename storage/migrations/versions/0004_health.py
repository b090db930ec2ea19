"""Health episodes: one row per open problem of the deployment (delivery lag, feeds).

A row exists while the problem lasts; inserting it (``ON CONFLICT DO NOTHING``) is
how exactly one of several workers gets to raise the "unhealthy" admin alert, and
deleting it (``RETURNING``) how exactly one raises "healthy again".

Revision ID: 0004_health
Revises: 0003_delivery
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_health"
down_revision: str | None = "0003_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "health_episodes",
        sa.Column("problem", sa.String(), nullable=False),
        sa.Column("since", TS, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("problem", name="pk_health_episodes"),
    )


def downgrade() -> None:
    op.drop_table("health_episodes")
