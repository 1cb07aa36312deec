"""The operational store: authorizations, shops, request log, webhook inbox, event webhooks.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tiktok_pipeline.db import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATUS_CHECK = "status IN ('active', 'needs_reauth', 'deauthorized')"
INBOX_STATUS_CHECK = "status IN ('pending', 'processing', 'processed', 'failed', 'ignored')"


def upgrade() -> None:
    op.create_table(
        "tiktok_authorizations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("open_id", sa.String(length=128), nullable=False),
        sa.Column("seller_name", sa.String(length=255), nullable=True),
        sa.Column("seller_base_region", sa.String(length=16), nullable=True),
        sa.Column("user_type", sa.Integer(), nullable=True),
        sa.Column("granted_scopes", sa.JSON(), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("access_token_expires_at", UTCDateTime(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("refresh_token_expires_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("authorized_at", UTCDateTime(), nullable=False),
        sa.Column("last_refreshed_at", UTCDateTime(), nullable=True),
        sa.Column("refresh_lease_owner", sa.String(length=255), nullable=True),
        sa.Column("refresh_lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(STATUS_CHECK, name="ck_tiktok_authorizations_status"),
        sa.PrimaryKeyConstraint("id", name="pk_tiktok_authorizations"),
        sa.UniqueConstraint("open_id", name="uq_tiktok_authorizations_open_id"),
    )
    op.create_table(
        "tiktok_shops",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=16), nullable=True),
        sa.Column("seller_type", sa.String(length=32), nullable=True),
        sa.Column("cipher", sa.Text(), nullable=True),
        sa.Column("authorization_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deauthorized_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(STATUS_CHECK, name="ck_tiktok_shops_status"),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["tiktok_authorizations.id"],
            name="fk_tiktok_shops_authorization_id_tiktok_authorizations",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tiktok_shops"),
    )
    op.create_index(
        "ix_tiktok_shops_authorization_id", "tiktok_shops", ["authorization_id"], unique=False
    )
    op.create_table(
        "tiktok_requests",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("query", sa.JSON(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("code", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("attempt", sa.Integer(), server_default="1", nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tiktok_requests"),
    )
    op.create_index(
        "ix_tiktok_requests_created_at", "tiktok_requests", ["created_at"], unique=False
    )
    op.create_index("ix_tiktok_requests_shop_id", "tiktok_requests", ["shop_id"], unique=False)
    op.create_table(
        "tiktok_webhooks",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("tts_notification_id", sa.String(length=64), nullable=True),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=True),
        sa.Column("push_timestamp", sa.BigInteger(), nullable=True),
        sa.Column("push_time", UTCDateTime(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("raw_body", sa.Text(), nullable=False),
        sa.Column("route", sa.String(length=100), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(INBOX_STATUS_CHECK, name="ck_tiktok_webhooks_status"),
        sa.PrimaryKeyConstraint("id", name="pk_tiktok_webhooks"),
        sa.UniqueConstraint("dedupe_key", name="uq_tiktok_webhooks_dedupe_key"),
    )
    op.create_index("ix_tiktok_webhooks_shop_id", "tiktok_webhooks", ["shop_id"], unique=False)
    op.create_index(
        "ix_tiktok_webhooks_status_id", "tiktok_webhooks", ["status", "id"], unique=False
    )
    op.create_table(
        "tiktok_event_webhooks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["tiktok_shops.id"],
            name="fk_tiktok_event_webhooks_shop_id_tiktok_shops",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tiktok_event_webhooks"),
        sa.UniqueConstraint(
            "shop_id", "event_type", name="uq_tiktok_event_webhooks_shop_id_event_type"
        ),
    )


def downgrade() -> None:
    op.drop_table("tiktok_event_webhooks")
    op.drop_index("ix_tiktok_webhooks_status_id", table_name="tiktok_webhooks")
    op.drop_index("ix_tiktok_webhooks_shop_id", table_name="tiktok_webhooks")
    op.drop_table("tiktok_webhooks")
    op.drop_index("ix_tiktok_requests_shop_id", table_name="tiktok_requests")
    op.drop_index("ix_tiktok_requests_created_at", table_name="tiktok_requests")
    op.drop_table("tiktok_requests")
    op.drop_index("ix_tiktok_shops_authorization_id", table_name="tiktok_shops")
    op.drop_table("tiktok_shops")
    op.drop_table("tiktok_authorizations")
