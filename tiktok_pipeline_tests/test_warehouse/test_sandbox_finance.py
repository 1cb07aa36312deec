"""The sandbox's finance objects and cancellations, fetched over HTTP, land in the tables
exactly: every identity holds in the stored columns, the reconciliation checks find nothing
and a rerun writes nothing (a USD and an IDR shop, SQLite and Postgres)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tiktok_pipeline.sandbox import run_sandbox
from tiktok_pipeline.warehouse import (
    CANCELLATION_TABLES,
    PAYMENT_TABLES,
    STATEMENT_TABLES,
    STATEMENT_TRANSACTION_TABLES,
    UNSETTLED_TABLES,
    WITHDRAWAL_TABLES,
    Warehouse,
    finance_schema,
    quality,
    schema,
)
from tiktok_pipeline_tests.test_sandbox.conftest import authorized_client, small_config

SPECS = {
    "statements": STATEMENT_TABLES,
    "statement_transactions": STATEMENT_TRANSACTION_TABLES,
    "payments": PAYMENT_TABLES,
    "withdrawals": WITHDRAWAL_TABLES,
    "cancellations": CANCELLATION_TABLES,
}


def _fetch(client, cipher: str) -> dict[str, list[dict]]:
    """Everything one shop's finance endpoints serve, statement transactions with the
    ``statement_id`` the pipeline's fetch adds."""
    statements, _ = client.walk(
        "/finance/202309/statements",
        "statements",
        100,
        method="GET",
        query={"sort_field": "statement_time"},
        cipher=cipher,
    )
    transactions = []
    for statement in statements:
        token = ""
        while True:
            query = {"sort_field": "order_create_time", "page_size": 100}
            if token:
                query["page_token"] = token
            path = f"/finance/202501/statements/{statement['id']}/statement_transactions"
            data = client.ok("GET", path, query, cipher=cipher)
            transactions += [{**t, "statement_id": statement["id"]} for t in data["transactions"]]
            token = data["next_page_token"]
            if not token:
                break
    payments, _ = client.walk(
        "/finance/202309/payments",
        "payments",
        50,
        method="GET",
        query={"sort_field": "create_time"},
        cipher=cipher,
    )
    withdrawals, _ = client.walk(
        "/finance/202309/withdrawals", "withdrawals", 50, method="GET", cipher=cipher
    )
    unsettled, _ = client.walk(
        "/finance/202507/orders/unsettled",
        "transactions",
        50,
        method="GET",
        query={"sort_field": "order_create_time"},
        cipher=cipher,
    )
    cancellations, _ = client.walk(
        "/return_refund/202309/cancellations/search", "cancellations", 50, {}, cipher=cipher
    )
    return {
        "cancellations": cancellations,
        "statements": statements,
        "statement_transactions": transactions,
        "payments": payments,
        "withdrawals": withdrawals,
        "unsettled": unsettled,
    }


@pytest.fixture(scope="module")
def finance() -> Iterator[dict[str, dict[str, list[dict]]]]:
    """Shop id -> its finance objects: a US (USD) and an Indonesian (IDR, no decimals) shop."""
    with run_sandbox(small_config(regions=("US", "ID"), orders_per_shop=300, days=20)) as sandbox:
        client = authorized_client(sandbox)
        yield {shop.id: _fetch(client, shop.cipher) for shop in sandbox.shops}


def _load(wh: Warehouse, finance: dict[str, dict[str, list[dict]]]) -> dict[str, int]:
    written: dict[str, int] = {}
    with wh.begin() as tx:
        for shop, kinds in finance.items():
            results = [tx.load(spec, shop, kinds[kind]) for kind, spec in SPECS.items()]
            results.append(tx.replace_snapshot(UNSETTLED_TABLES, shop, kinds["unsettled"]))
            for result in results:
                for table, counts in result.items():
                    written[table] = written.get(table, 0) + counts.written + counts.deleted
    return written


def test_sandbox_finance_lands_exactly_and_reconciles(warehouse: Warehouse, finance):
    written = _load(warehouse, finance)
    for kind, table in (
        ("statements", schema.statements),
        ("statement_transactions", schema.statement_transactions),
        ("payments", schema.payments),
        ("withdrawals", schema.withdrawals),
        ("unsettled", schema.unsettled_transactions),
        ("cancellations", schema.cancellations),
    ):
        expected = sum(len(kinds[kind]) for kinds in finance.values())
        assert expected > 0, kind
        assert written[table.name] == expected, kind
    lines = [
        line
        for kinds in finance.values()
        for c in kinds["cancellations"]
        for line in c["cancel_line_items"]
    ]
    assert written["tiktok_cancellation_line_items"] == len(lines) > 0

    with warehouse.engine.connect() as connection:
        assert quality.statement_mismatches(connection) == (0, [])
        assert quality.payment_mismatches(connection) == (0, [])
        rows = connection.execute(sa.select(schema.statement_transactions)).mappings().all()
        settled = connection.execute(
            sa.select(
                schema.order_settlements.c.shop_id,
                sa.func.count(),
                sa.func.sum(schema.order_settlements.c.settlement_amount),
            ).group_by(schema.order_settlements.c.shop_id)
        ).all()

    def total(row, names) -> Decimal:
        return sum((row[n] or Decimal(0) for n in names), Decimal(0))

    for row in rows:
        assert total(row, finance_schema.FEE_COLUMNS) == row["fee_tax_amount"], row["id"]
        revenue = (*finance_schema.REVENUE_KEYS, finance_schema.OTHER_REVENUE)
        assert total(row, revenue) == row["revenue_amount"], row["id"]
        shipping = (*finance_schema.SHIPPING_KEYS, finance_schema.OTHER_SHIPPING)
        assert total(row, shipping) == row["shipping_cost_amount"], row["id"]
        assert row["settlement_amount"] == total(
            row, ("revenue_amount", "fee_tax_amount", "shipping_cost_amount", "adjustment_amount")
        )

    # The view settles every ORDER transaction's order once, with its amounts exactly.
    for shop, count, amount in settled:
        transactions = finance[shop]["statement_transactions"]
        orders = {t["order_id"] for t in transactions if t["type"] == "ORDER"}
        tied = [
            t
            for t in transactions
            if t["type"] == "ORDER" or (t["associated_order_id"] or t["order_id"]) in orders
        ]
        assert count == len(orders) > 0
        assert Decimal(str(amount)) == sum(
            (Decimal(t["settlement_amount"]) for t in tied), Decimal(0)
        )


def test_a_rerun_of_the_same_pull_writes_nothing(warehouse: Warehouse, finance):
    _load(warehouse, finance)
    assert _load(warehouse, finance) == {
        name: 0
        for name in (
            "tiktok_statements",
            "tiktok_statement_transactions",
            "tiktok_payments",
            "tiktok_withdrawals",
            "tiktok_unsettled_transactions",
            "tiktok_cancellations",
            "tiktok_cancellation_line_items",
        )
    }
