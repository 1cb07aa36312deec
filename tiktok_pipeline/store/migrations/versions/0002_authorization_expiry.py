"""When TikTok says a seller's authorization expires (webhook 7, UPCOMING_AUTHORIZATION_EXPIRATION).

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tiktok_pipeline.db import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tiktok_authorizations",
        sa.Column("authorization_expires_at", UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("tiktok_authorizations") as batch:
        batch.drop_column("authorization_expires_at")
