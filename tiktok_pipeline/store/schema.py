"""The operational store's tables (SQLAlchemy Core). Table and column names are user-facing.

Migrations in ``store/migrations/versions`` must create exactly these tables; a test compares
``alembic upgrade head`` with this metadata on SQLite and Postgres.
"""

from __future__ import annotations

import sqlalchemy as sa

from tiktok_pipeline.db import UTCDateTime

#: Alembic's version table for this schema (the warehouse keeps its own).
VERSION_TABLE = "tiktok_store_alembic_version"

#: Explicit constraint names, so that migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

#: Autoincrement keys that may grow past 2**31 (SQLite only autoincrements INTEGER keys).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: An authorization's statuses; a shop may also be ``departed`` (no longer in its
#: authorization's shop list), which an authorization never is.
STATUSES = ("active", "needs_reauth", "deauthorized")
SHOP_STATUSES = (*STATUSES, "departed")
INBOX_STATUSES = ("pending", "processing", "processed", "failed", "ignored")


def _in(column: str, values: tuple[str, ...]) -> str:
    # Constant SQL from the module's own literals, not user input.
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


tiktok_authorizations = sa.Table(
    "tiktok_authorizations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("open_id", sa.String(128), nullable=False),
    sa.Column("seller_name", sa.String(255)),
    sa.Column("seller_base_region", sa.String(16)),
    sa.Column("user_type", sa.Integer),
    sa.Column("granted_scopes", sa.JSON),
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("access_token_expires_at", UTCDateTime),
    sa.Column("refresh_token", sa.Text, nullable=False),
    sa.Column("refresh_token_expires_at", UTCDateTime),
    sa.Column("status", sa.String(20), nullable=False, server_default="active"),
    sa.Column("status_reason", sa.Text),
    sa.Column("authorized_at", UTCDateTime, nullable=False),
    sa.Column("last_refreshed_at", UTCDateTime),
    # From TikTok's UPCOMING_AUTHORIZATION_EXPIRATION webhook; cleared by a new authorization.
    sa.Column("authorization_expires_at", UTCDateTime),
    sa.Column("refresh_lease_owner", sa.String(255)),
    sa.Column("refresh_lease_expires_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("open_id"),
    sa.CheckConstraint(_in("status", STATUSES), name="status"),
)

tiktok_shops = sa.Table(
    "tiktok_shops",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(255)),
    sa.Column("code", sa.String(64)),
    sa.Column("region", sa.String(16)),
    sa.Column("seller_type", sa.String(32)),
    sa.Column("cipher", sa.Text),
    sa.Column(
        "authorization_id",
        sa.Integer,
        sa.ForeignKey("tiktok_authorizations.id", ondelete="SET NULL"),
        index=True,
    ),
    sa.Column("status", sa.String(20), nullable=False, server_default="active"),
    sa.Column("status_reason", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("deauthorized_at", UTCDateTime),
    sa.CheckConstraint(_in("status", SHOP_STATUSES), name="status"),
)

tiktok_requests = sa.Table(
    "tiktok_requests",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
    sa.Column("shop_id", sa.String(64), index=True),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("query", sa.JSON),
    sa.Column("body", sa.Text),
    sa.Column("http_status", sa.Integer),
    sa.Column("code", sa.BigInteger),
    sa.Column("message", sa.Text),
    sa.Column("request_id", sa.String(128)),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
    sa.Column("duration_ms", sa.Float),
    sa.Column("error", sa.Text),
)

tiktok_webhooks = sa.Table(
    "tiktok_webhooks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("dedupe_key", sa.String(128), nullable=False),
    sa.Column("tts_notification_id", sa.String(64)),
    sa.Column("type", sa.Integer, nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("shop_id", sa.String(64), index=True),
    sa.Column("push_timestamp", sa.BigInteger),
    sa.Column("push_time", UTCDateTime),
    sa.Column("data", sa.JSON),
    sa.Column("raw_body", sa.Text, nullable=False),
    sa.Column("route", sa.String(100), nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("run_id", sa.String(64)),
    sa.Column("error", sa.Text),
    sa.Column("processed_at", UTCDateTime),
    sa.UniqueConstraint("dedupe_key"),
    sa.CheckConstraint(_in("status", INBOX_STATUSES), name="status"),
    sa.Index("ix_tiktok_webhooks_status_id", "status", "id"),
)

tiktok_event_webhooks = sa.Table(
    "tiktok_event_webhooks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "shop_id",
        sa.String(64),
        sa.ForeignKey("tiktok_shops.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("shop_id", "event_type"),
)

tiktok_consent_states = sa.Table(
    "tiktok_consent_states",
    metadata,
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("used_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False, index=True),
)

tiktok_rate_limits = sa.Table(
    "tiktok_rate_limits",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("theoretical_arrival", sa.Float(precision=53), nullable=False),
)
