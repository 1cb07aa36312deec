"""tiktok_orders._buyer_data_purged_at: when the buyer's personal data left the order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 00:00:00

Set by the buyer data retention job and ``tiktok-pipeline buyers purge``; NULL for every
existing order (nothing has been purged before this revision).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tiktok_pipeline.db import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COMMENT = (
    "UTC time when the buyer's personal data (name, address, phone, e-mail, message, tax id) "
    "was removed from `raw`, by the retention job (TIKTOK_BUYER_DATA_RETENTION_DAYS) or "
    "`tiktok-pipeline buyers purge`; later syncs of the order store it without them too. "
    "NULL while the order keeps them."
)


def upgrade() -> None:
    op.add_column(
        "tiktok_orders",
        sa.Column("_buyer_data_purged_at", UTCDateTime(), nullable=True, comment=_COMMENT),
    )
    op.create_index(
        "ix_tiktok_orders_purged",
        "tiktok_orders",
        ["shop_id", "id", "_buyer_data_purged_at"],
        sqlite_where=sa.text("_buyer_data_purged_at IS NOT NULL"),
        postgresql_where=sa.text("_buyer_data_purged_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_tiktok_orders_purged", table_name="tiktok_orders")
    # SQLite 3.35+ drops a column in place (the view reads ``tiktok_orders.*``, so it stays).
    op.drop_column("tiktok_orders", "_buyer_data_purged_at")
