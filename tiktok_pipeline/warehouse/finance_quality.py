"""Finance reconciliation queries behind the asset checks: statements whose transactions do not
add up to them, payments whose statements do not add up to them.

Sums are exact on both backends: SQLite adds whole millionths (integers, like the views),
Postgres adds NUMERIC.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.warehouse.finance_schema import payments, statement_transactions, statements

SAMPLE = 10
_MICROS = 1_000_000


@dataclass(frozen=True)
class FinanceMismatch:
    """A statement or payment whose stated amount differs from the exact sum of its parts."""

    shop_id: str
    id: str
    currency: str | None
    stated: Decimal
    summed: Decimal

    @property
    def difference(self) -> Decimal:
        """stated - summed."""
        return self.stated - self.summed


def _exact(connection: sa.Connection, column: Any) -> Any:
    """``column`` as a value whose sums are exact: whole millionths on SQLite."""
    if connection.dialect.name == "sqlite":
        return sa.cast(sa.func.round(column * _MICROS), sa.Integer)
    return column


def _amount(connection: sa.Connection, value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    if connection.dialect.name == "sqlite":
        return Decimal(int(value)).scaleb(-6).normalize()
    return Decimal(value)


def _mismatches(connection: sa.Connection, query: sa.Select) -> tuple[int, list[FinanceMismatch]]:
    found = query.subquery()
    total = connection.execute(sa.select(sa.func.count()).select_from(found)).scalar_one()
    rows = connection.execute(
        sa.select(found).order_by(found.c.shop_id, found.c.id).limit(SAMPLE)
    ).all()
    sample = [
        FinanceMismatch(
            row.shop_id,
            row.id,
            row.currency,
            _amount(connection, row.stated),
            _amount(connection, row.summed),
        )
        for row in rows
    ]
    return int(total), sample


def statement_mismatches(connection: sa.Connection) -> tuple[int, list[FinanceMismatch]]:
    """Statements whose settlement_amount differs from the exact sum of the settlement_amount
    of their loaded transactions: how many, and up to 10 of them.

    Statements without any loaded transaction are not judged (whether TikTok has some for
    them is not known here).
    """
    tx = statement_transactions
    sums = (
        sa.select(
            tx.c.shop_id,
            tx.c.statement_id,
            sa.func.coalesce(sa.func.sum(_exact(connection, tx.c.settlement_amount)), 0).label(
                "summed"
            ),
        )
        .group_by(tx.c.shop_id, tx.c.statement_id)
        .subquery()
    )
    stated = sa.func.coalesce(_exact(connection, statements.c.settlement_amount), 0)
    query = (
        sa.select(
            statements.c.shop_id,
            statements.c.id,
            statements.c.currency,
            stated.label("stated"),
            sums.c.summed,
        )
        .join(
            sums,
            sa.and_(sums.c.shop_id == statements.c.shop_id, sums.c.statement_id == statements.c.id),
        )
        .where(stated != sums.c.summed)
    )
    return _mismatches(connection, query)


def payment_mismatches(connection: sa.Connection) -> tuple[int, list[FinanceMismatch]]:
    """Payments whose amount + reserve_amount differs from the exact sum of the
    settlement_amount of the loaded statements they pay out (``payment_id``): how many, and
    up to 10 of them (``stated`` is amount + reserve).

    Payments without any loaded statement are not judged.
    """
    sums = (
        sa.select(
            statements.c.shop_id,
            statements.c.payment_id,
            sa.func.coalesce(
                sa.func.sum(_exact(connection, statements.c.settlement_amount)), 0
            ).label("summed"),
        )
        .where(statements.c.payment_id.is_not(None))
        .group_by(statements.c.shop_id, statements.c.payment_id)
        .subquery()
    )
    stated = sa.func.coalesce(_exact(connection, payments.c.amount), 0) + sa.func.coalesce(
        _exact(connection, payments.c.reserve_amount), 0
    )
    query = (
        sa.select(
            payments.c.shop_id,
            payments.c.id,
            payments.c.currency,
            stated.label("stated"),
            sums.c.summed,
        )
        .join(
            sums,
            sa.and_(sums.c.shop_id == payments.c.shop_id, sums.c.payment_id == payments.c.id),
        )
        .where(stated != sums.c.summed)
    )
    return _mismatches(connection, query)
