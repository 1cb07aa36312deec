"""Shops may be ``departed``: no longer in their authorization's shop list (nothing to fix).

Only ``tiktok_shops``' CHECK changes; an authorization is never departed. SQLite cannot alter a
CHECK, so the table is copied (batch mode); dropping the old copy would cascade to the shops'
event-webhook rows, which are therefore put back. The downgrade turns departed shops into
``deauthorized`` ones, what older versions called them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from tiktok_pipeline.db import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The CHECK's name in schema.py; 0001 created it as OLD_NAME (the naming convention prefixed
#: the full name it was given again).
CHECK_NAME = "ck_tiktok_shops_status"
OLD_NAME = "ck_tiktok_shops_ck_tiktok_shops_status"
OLD_CHECK = "status IN ('active', 'needs_reauth', 'deauthorized')"
NEW_CHECK = "status IN ('active', 'needs_reauth', 'deauthorized', 'departed')"

shops = sa.table("tiktok_shops", sa.column("status", sa.String))


def upgrade() -> None:
    _replace_check(NEW_CHECK, CHECK_NAME)


def downgrade() -> None:
    op.execute(shops.update().where(shops.c.status == "departed").values(status="deauthorized"))
    _replace_check(OLD_CHECK, OLD_NAME)


def _status_checks(default: str) -> list[str]:
    """The names of tiktok_shops' CHECKs on ``status`` (``default`` when offline)."""
    if context.is_offline_mode():
        return [default]
    checks = sa.inspect(op.get_bind()).get_check_constraints("tiktok_shops")
    return [c["name"] for c in checks if c["name"] and "status" in c["sqltext"]]


def _replace_check(check: str, name: str) -> None:
    if op.get_context().dialect.name != "sqlite":
        for old in _status_checks(OLD_NAME if name == CHECK_NAME else CHECK_NAME):
            op.drop_constraint(op.f(old), "tiktok_shops", type_="check")
        op.create_check_constraint(op.f(name), "tiktok_shops", check)
        return
    kept: list[dict] = []
    if not context.is_offline_mode():
        kept = [dict(row._mapping) for row in op.get_bind().execute(sa.select(event_webhooks))]
    # The table as 0001 created it (nothing changed it since) but for the CHECK: no reflection,
    # so that offline (--sql) runs work too.
    with op.batch_alter_table("tiktok_shops", recreate="always", copy_from=_shops(check, name)):
        pass
    if not kept:
        return
    # With foreign keys on, SQLite's DROP TABLE of the old copy deleted them (ON DELETE CASCADE).
    present = set(op.get_bind().execute(sa.select(event_webhooks.c.id)).scalars())
    missing = [row for row in kept if row["id"] not in present]
    if missing:
        op.get_bind().execute(event_webhooks.insert(), missing)


event_webhooks = sa.table(
    "tiktok_event_webhooks",
    sa.column("id", sa.Integer),
    sa.column("shop_id", sa.String),
    sa.column("event_type", sa.String),
    sa.column("address", sa.Text),
    sa.column("created_at", UTCDateTime),
    sa.column("updated_at", UTCDateTime),
)


def _shops(check: str, check_name: str) -> sa.Table:
    return sa.Table(
        "tiktok_shops",
        sa.MetaData(),
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
        sa.CheckConstraint(check, name=check_name),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["tiktok_authorizations.id"],
            name="fk_tiktok_shops_authorization_id_tiktok_authorizations",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tiktok_shops"),
        sa.Index("ix_tiktok_shops_authorization_id", "authorization_id"),
    )
