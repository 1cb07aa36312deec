"""State shared by every process: consent states already used (a state works once) and the
per-(app, shop) rate limit budgets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tiktok_pipeline.db import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tiktok_consent_states",
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name="pk_tiktok_consent_states"),
    )
    op.create_index(
        "ix_tiktok_consent_states_expires_at", "tiktok_consent_states", ["expires_at"]
    )
    op.create_table(
        "tiktok_rate_limits",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("theoretical_arrival", sa.Float(precision=53), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_tiktok_rate_limits"),
    )


def downgrade() -> None:
    op.drop_table("tiktok_rate_limits")
    op.drop_index("ix_tiktok_consent_states_expires_at", table_name="tiktok_consent_states")
    op.drop_table("tiktok_consent_states")
