"""The building blocks of the warehouse tables: metadata, constants and column makers.

Every column carries its description as its ``comment``; ``schema.py`` builds the tables from
these makers.
"""

from __future__ import annotations

import sqlalchemy as sa

from tiktok_pipeline.db import UTCDateTime
from tiktok_pipeline.warehouse.types import Money, RawJSON

SOURCES = ("poll", "webhook")
#: ``Column.info`` key of a UTC timestamp column: the column holding the same time in Unix
#: seconds (``created_at`` -> ``create_time``).
EPOCH_SECONDS = "epoch_seconds"
SYNC_STATUSES = ("success", "failed")

#: Return statuses in which the buyer's refund has been granted (used by tiktok_daily_sales).
REFUND_SUCCESS_STATUSES = (
    "RETURN_OR_REFUND_REQUEST_SUCCESS",
    "RETURN_OR_REFUND_REQUEST_COMPLETE",
    "REPLACEMENT_REQUEST_REFUND_SUCCESS",
)

metadata = sa.MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    }
)

#: The view is not created from this metadata (the migration creates it); this Table only
#: describes its columns and lets code select from it.
view_metadata = sa.MetaData()


def key_column(name: str, description: str) -> sa.Column:
    """A text primary-key column."""
    return sa.Column(name, sa.String, primary_key=True, nullable=False, comment=description)


def text_column(name: str, description: str, *, nullable: bool = True) -> sa.Column:
    """A short text column."""
    return sa.Column(name, sa.String, nullable=nullable, comment=description)


def long_text_column(name: str, description: str) -> sa.Column:
    """A long text column."""
    return sa.Column(name, sa.Text, comment=description)


def int_column(name: str, description: str, *, nullable: bool = True) -> sa.Column:
    """An integer column."""
    return sa.Column(name, sa.Integer, nullable=nullable, comment=description)


def flag_column(name: str, description: str) -> sa.Column:
    """A boolean column."""
    return sa.Column(name, sa.Boolean, comment=description)


def money_column(name: str, description: str) -> sa.Column:
    """An exact money column (in the row's `currency`)."""
    return sa.Column(name, Money(), comment=f"{description} Exact decimal, in `currency`.")


def decimal_column(name: str, description: str) -> sa.Column:
    """An exact decimal that is not an amount of the row's currency (e.g. an exchange rate)."""
    return sa.Column(name, Money(), comment=f"{description} Exact decimal.")


def currency_column(description: str = "") -> sa.Column:
    """The row's ISO 4217 `currency` column."""
    origin = f" ({description})" if description else ""
    return sa.Column(
        "currency",
        sa.String,
        comment=f"ISO 4217 currency code of every amount on this row{origin}.",
    )


def time_columns(time_name: str, at_name: str, what: str, note: str = "") -> list[sa.Column]:
    """A time as TikTok's epoch seconds and as a UTC timestamp."""
    note = f" {note}" if note else ""
    return [
        sa.Column(
            time_name,
            sa.BigInteger,
            comment=f"{what}: Unix epoch seconds (UTC) exactly as TikTok sends them; "
            f"NULL when TikTok sends 0 or nothing.{note}",
        ),
        sa.Column(
            at_name,
            UTCDateTime(),
            comment=f"{what}: UTC timestamp (`{time_name}` converted).{note}",
            info={EPOCH_SECONDS: time_name},
        ),
    ]


def raw_column(entity: str, children: str) -> sa.Column:
    """The object's JSON as TikTok sent it."""
    return sa.Column(
        "raw",
        RawJSON(),
        nullable=False,
        comment=f"Every field of the {entity} TikTok sent, values unchanged, as JSON text with "
        "sorted keys and no spaces (TikTok's key order and spacing are not kept; `json` on "
        f"Postgres), including fields that have no column of their own and its {children}.",
    )


def raw_in_parent(child: str, parent: str, path: str) -> str:
    """The note that a child's JSON lives in its parent's `raw`."""
    return (
        f" The {child}'s full JSON is not stored again here: it is an element of the "
        f"{parent}'s `raw` ({path})."
    )


def row_hash_column(entity: str) -> sa.Column:
    """The hash that spares rewriting an unchanged payload."""
    return sa.Column(
        "_row_hash",
        sa.String(64),
        nullable=False,
        comment=f"sha256 (hex) of the {entity}'s canonical JSON (sorted keys). A payload with "
        "the same hash is not written again.",
    )


def sync_columns() -> list[sa.Column | sa.CheckConstraint]:
    """`_synced_at` and `_source`, on every table."""
    return [
        sa.Column(
            "_synced_at",
            UTCDateTime(),
            nullable=False,
            comment="UTC time when the pipeline last wrote this row. Rerunning a sync with "
            "identical data does not change it.",
        ),
        sa.Column(
            "_source",
            sa.String(16),
            nullable=False,
            comment="What wrote this row last: `poll` (a scheduled or backfill sync of a time "
            "window) or `webhook` (a refresh triggered by a TikTok push).",
        ),
        sa.CheckConstraint("_source IN ('poll', 'webhook')", name="source"),
    ]


def index(table_name: str, *columns: str) -> sa.Index:
    """An index named after its table and columns."""
    return sa.Index(f"ix_{table_name}_{'_'.join(columns)}", *columns)
