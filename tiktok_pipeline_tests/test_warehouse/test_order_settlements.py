"""The tiktok_order_settlements view: one row per settled order whose amounts are the exact
sums of its transactions, with its statement and payout (SQLite and Postgres)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from tiktok_pipeline.warehouse import (
    PAYMENT_TABLES,
    STATEMENT_TABLES,
    STATEMENT_TRANSACTION_TABLES,
    Warehouse,
    schema,
)
from tiktok_pipeline_tests.test_warehouse import factories as f
from tiktok_pipeline_tests.test_warehouse import finance_factories as ff
from tiktok_pipeline_tests.test_warehouse.conftest import OTHER_SHOP, SHOP

SPECS = {
    "statements": STATEMENT_TABLES,
    "statement_transactions": STATEMENT_TRANSACTION_TABLES,
    "payments": PAYMENT_TABLES,
}


def _finance() -> dict[str, dict[str, list[dict]]]:
    """Two shops' settlements of 9 orders each, plus the awkward cases."""
    orders = [
        {**f.order(f"{shop[-3:]}{n:03d}", create_time=1_717_200_000 + n * 50_000), "_shop_id": shop}
        for shop in (SHOP, OTHER_SHOP)
        for n in range(9)
    ]
    finance = ff.finance_of_orders(orders)
    kinds = finance[SHOP]
    last = kinds["statements"][-1]
    # A refund settled later as a second ORDER transaction: counted, statement stays the first.
    refund = ff.transaction(
        "TREFUND",
        statement_id=last["id"],
        order_id=f"{SHOP[-3:]}000",
        revenue={"refund_subtotal_before_discount_amount": "-19.99"},
        fees={"platform_commission_amount": "1.20"},
        taxes={},
        shipping={},
    )
    # An adjustment tied to no order: in no row.
    loose = ff.adjustment("TLOOSE", "-40.00", statement_id=last["id"], type_="CHARGE_BACK")
    # An adjustment of an order that has no ORDER transaction yet: in no row either.
    early = ff.adjustment("TEARLY", "2.00", statement_id=last["id"], associated_order_id="999")
    # Two small adjustments whose float sum is not exact (0.1 + 0.2 = 0.30000000000000004).
    small = [
        ff.adjustment(f"TSMALL{n}", amount, statement_id=last["id"], associated_order_id=order)
        for n, amount in enumerate(("0.10", "0.20"))
        for order in [f"{SHOP[-3:]}001"]
    ]
    kinds["statement_transactions"] += [refund, loose, early, *small]
    return finance


def _load(wh: Warehouse, finance: dict[str, dict[str, list[dict]]]) -> None:
    with wh.begin() as tx:
        for shop, kinds in finance.items():
            for kind, spec in SPECS.items():
                tx.load(spec, shop, kinds[kind])


def _expected(finance: dict[str, dict[str, list[dict]]]) -> list[dict]:
    rows = ff.expected_settlements(finance)
    for row in rows:
        row["statement_at"] = datetime.fromtimestamp(row["statement_time"], UTC)
        paid = row.pop("paid_time")
        row["paid_at"] = datetime.fromtimestamp(paid, UTC) if paid else None
    return rows


def test_rows_are_the_exact_sums_of_each_orders_transactions(warehouse: Warehouse):
    finance = _finance()
    _load(warehouse, finance)
    view = schema.order_settlements
    with warehouse.engine.connect() as connection:
        got = [
            dict(r)
            for r in connection.execute(
                sa.select(view).order_by(view.c.shop_id, view.c.order_id)
            ).mappings()
        ]
    expected = _expected(finance)
    assert len(got) == 18
    assert got == [{c.name: row[c.name] for c in view.columns} for row in expected]

    refunded = next(r for r in got if r["order_id"] == f"{SHOP[-3:]}000")
    assert refunded["statement_id"] == finance[SHOP]["statements"][0]["id"]
    assert refunded["adjustment_amount"] == Decimal("1.25")
    for row in got:
        assert row["settlement_amount"] == (
            row["revenue_amount"]
            + row["fee_tax_amount"]
            + row["shipping_cost_amount"]
            + row["adjustment_amount"]
        )
        fees = [row[name] for name in (*ff.FEE_KEYS, "other_fees_amount", "tax_amount")]
        assert sum(fees, Decimal(0)) == row["fee_tax_amount"]
    assert {r["payment_status"] for r in got} == {"PAID"}
    assert all(r["paid_at"] is not None for r in got)


def test_the_view_is_exact_in_a_plain_sqlite_client(sqlite_db_url: str):
    """sqlite3 without the package's exact sums still reads the exact totals."""
    wh = Warehouse.from_url(sqlite_db_url, upgrade=True)
    finance = _finance()
    _load(wh, finance)
    wh.engine.dispose()
    path = sa.make_url(sqlite_db_url).database
    assert path is not None
    with closing(sqlite3.connect(path)) as connection:
        got = connection.execute(
            "SELECT order_id, settlement_amount, adjustment_amount, typeof(settlement_amount) "
            "FROM tiktok_order_settlements WHERE shop_id = ? ORDER BY order_id",
            (SHOP,),
        ).fetchall()
    expected = [r for r in ff.expected_settlements(finance) if r["shop_id"] == SHOP]
    assert got == [
        (r["order_id"], float(r["settlement_amount"]), float(r["adjustment_amount"]), "real")
        for r in expected
    ]
    assert [Decimal(repr(s)) for _, s, _, _ in got] == [r["settlement_amount"] for r in expected]
    assert got[1][2] == 0.3  # SQLite's own SUM would give 0.30000000000000004


def test_the_description_matches_the_database_view(warehouse: Warehouse):
    with warehouse.engine.connect() as connection:
        columns = sa.inspect(connection).get_columns("tiktok_order_settlements")
    assert [c["name"] for c in columns] == [c.name for c in schema.order_settlements.columns]
