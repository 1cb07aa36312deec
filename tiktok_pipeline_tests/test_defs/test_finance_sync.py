"""Finance and cancellations through the real sync job: an analyst reconciles every settled
order to its payout to the cent, the finance checks catch a wrong statement, and a statement
paid days after its partition is refreshed by today's incremental run."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import dagster as dg
import pytest
import sqlalchemy as sa

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline.warehouse.schema import relation
from tiktok_pipeline_tests.test_defs.conftest import ANCHOR, authorize_seller, day_key

DAYS = 12
DAY = 86400

pytestmark = pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture(scope="module")
def sandbox():
    """One seller with one shop: 12 days of orders, returns and cancellations, frozen clock."""
    config = SandboxConfig(
        seed=21,
        sellers=1,
        shops=1,
        orders_per_shop=360,
        products_per_shop=20,
        days=DAYS,
        anchor=ANCHOR,
        frozen_clock=True,
    )
    with run_sandbox(config) as running:
        yield running


@pytest.fixture(autouse=True)
def _clock_back(sandbox):
    """A test here moves the sandbox's clock; put it back for the next one."""
    yield
    sandbox.control.reset()


def _rows(engine, sql: str, **params) -> list[dict]:
    with engine.connect() as connection:
        return [dict(r) for r in connection.execute(sa.text(sql), params).mappings()]


def _shop_rows(engine, name: str, shop_id: str, *columns: str) -> list[dict]:
    """A table's or view's rows of one shop, typed (money as Decimal) as an analyst reads them
    through SQLAlchemy."""
    table = relation(name)
    query = sa.select(*(table.c[c] for c in columns)).where(table.c.shop_id == shop_id)
    with engine.connect() as connection:
        return [dict(r) for r in connection.execute(query).mappings()]


def _money(value) -> Decimal:
    assert value is None or isinstance(value, Decimal), value
    return value if value is not None else Decimal(0)


def _backfill(defs, instance, first: str, last: str) -> dg.ExecuteInProcessResult:
    """A range of partitions in one run of the sync job, as a backfill's run does."""
    return defs.resolve_job_def("tiktok_sync_job").execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
    )


def _evaluate(defs, instance, asset: str, name: str) -> dg.AssetCheckEvaluation:
    """Run one check on its own, as the UI's "Execute" button does."""
    key = dg.AssetCheckKey(dg.AssetKey(asset), name)
    job = dg.define_asset_job("one_check", selection=dg.AssetSelection.checks(key))
    merged = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    result = merged.resolve_job_def("one_check").execute_in_process(instance=instance)
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def _api(sandbox, store, shop_id: str):
    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        credentials=store.tokens,
    )
    return client.shop(shop_id)


def test_every_settled_order_reconciles_to_its_payout(sandbox, store, warehouse, defs, instance):
    (shop_id,) = authorize_seller(sandbox, store)
    result = _backfill(defs, instance, day_key(DAYS), day_key(0))
    assert result.success
    engine = warehouse.engine

    # Every order completed before the sandbox's clock (the anchor) has had its statement
    # generated (at 00:00 UTC after the day it completed): each one has its settlement row.
    orders = [
        order
        for order in _shop_rows(
            engine,
            "tiktok_orders",
            shop_id,
            "id",
            "status",
            "update_time",
            "original_total_product_price",
            "seller_discount",
        )
        if order["status"] == "COMPLETED" and order["update_time"] < ANCHOR
    ]
    settlements = _shop_rows(
        engine,
        "tiktok_order_settlements",
        shop_id,
        "order_id",
        "statement_id",
        "payment_id",
        "revenue_amount",
        "fee_tax_amount",
        "shipping_cost_amount",
        "adjustment_amount",
        "settlement_amount",
    )
    # The sandbox deducts a refund granted before the order completed from its revenue
    # (sandbox/finance.py): the ORDER transaction's refund parts, only for returned orders.
    refunds: dict[str, Decimal] = defaultdict(Decimal)
    for transaction in _shop_rows(
        engine,
        "tiktok_statement_transactions",
        shop_id,
        "order_id",
        "type",
        "refund_subtotal_before_discount_amount",
        "seller_discount_refund_amount",
    ):
        if transaction["type"] == "ORDER":
            refunds[transaction["order_id"]] += _money(
                transaction["refund_subtotal_before_discount_amount"]
            ) + _money(transaction["seller_discount_refund_amount"])
    returned = {r["order_id"] for r in _shop_rows(engine, "tiktok_returns", shop_id, "order_id")}
    assert len(orders) > 50
    assert any(refunds[o["id"]] for o in orders)  # some revenue is reduced by a refund
    by_order = defaultdict(list)
    for row in settlements:
        by_order[row["order_id"]].append(row)
    for order in orders:
        (row,) = by_order[order["id"]]
        if order["id"] not in returned:
            assert not refunds[order["id"]], order
        assert (
            _money(row["revenue_amount"])
            == _money(order["original_total_product_price"])
            - _money(order["seller_discount"])
            + refunds[order["id"]]
        ), (order, row)
        assert _money(row["settlement_amount"]) == (
            _money(row["revenue_amount"])
            + _money(row["fee_tax_amount"])
            + _money(row["shipping_cost_amount"])
            + _money(row["adjustment_amount"])
        )
        assert row["statement_id"] and row["payment_id"]

    # A statement pays out exactly the sum of its transactions...
    statements = _shop_rows(
        engine, "tiktok_statements", shop_id, "id", "settlement_amount", "payment_id"
    )
    transactions = _shop_rows(
        engine, "tiktok_statement_transactions", shop_id, "statement_id", "settlement_amount"
    )
    assert len(statements) >= DAYS - 1
    summed: dict[str, Decimal] = defaultdict(Decimal)
    for transaction in transactions:
        summed[transaction["statement_id"]] += _money(transaction["settlement_amount"])
    for statement in statements:
        assert _money(statement["settlement_amount"]) == summed[statement["id"]], statement
    settled_ids = {row["statement_id"] for row in settlements}
    assert settled_ids <= {s["id"] for s in statements}

    # ... and a payment pays exactly its statements, less the reserve.
    payments = _shop_rows(engine, "tiktok_payments", shop_id, "id", "amount", "reserve_amount")
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for statement in statements:
        paid[statement["payment_id"]] += _money(statement["settlement_amount"])
    assert payments
    for payment in payments:
        assert _money(payment["amount"]) == paid[payment["id"]] - _money(
            payment["reserve_amount"]
        ), payment

    # The cancellations are the ones TikTok serves.
    served = list(
        _api(sandbox, store, shop_id)
        .returns.pages(
            "cancellations",
            query={"page_size": 50},
            body={"update_time_ge": 0, "update_time_lt": ANCHOR + 1},
        )
        .items()
    )
    landed = _rows(
        engine,
        "SELECT id, order_id, cancel_status, update_time FROM tiktok_cancellations "
        "WHERE shop_id = :s",
        s=shop_id,
    )
    assert served
    assert {(r["id"], r["order_id"], r["cancel_status"], r["update_time"]) for r in landed} == {
        (c["cancel_id"], c["order_id"], c["cancel_status"], c["update_time"]) for c in served
    }

    # A window's statement transactions come from one search per statement: the ledger's
    # total_count is their sum, so the count check compares like with like.
    ledger = _rows(
        engine,
        "SELECT api_total_count, items_received FROM tiktok_sync_ledger "
        "WHERE entity = 'statement_transactions'",
    )
    assert sum(r["api_total_count"] for r in ledger) >= len(transactions) > 0
    assert all(r["api_total_count"] == r["items_received"] for r in ledger), ledger
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }
    for check in (
        ("tiktok_statements", "statement_matches_transactions"),
        ("tiktok_payments", "payment_matches_statements"),
        ("tiktok_statement_transactions", "landed_matches_total_count"),
        ("tiktok_statements", "landed_matches_total_count"),
        ("tiktok_cancellations", "landed_matches_total_count"),
        ("tiktok_cancellation_line_items", "no_orphans"),
    ):
        assert checks[check], check


def test_a_tampered_statement_fails_its_check(sandbox, store, warehouse, defs, instance):
    (shop_id,) = authorize_seller(sandbox, store)
    assert _backfill(defs, instance, day_key(6), day_key(1)).success
    check = ("tiktok_statements", "statement_matches_transactions")
    assert _evaluate(defs, instance, *check).passed
    statement = _rows(
        warehouse.engine,
        "SELECT id FROM tiktok_statements WHERE shop_id = :s AND settlement_amount <> 0 "
        "ORDER BY id LIMIT 1",
        s=shop_id,
    )[0]["id"]
    with warehouse.engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE tiktok_statements SET settlement_amount = settlement_amount + 0.01 "
                "WHERE id = :id"
            ),
            {"id": statement},
        )
    failed = _evaluate(defs, instance, *check)
    assert not failed.passed
    assert statement in str(failed.metadata)
    payment_check = _evaluate(defs, instance, "tiktok_payments", "payment_matches_statements")
    assert not payment_check.passed


def test_todays_run_refreshes_a_statement_paid_after_its_day(
    sandbox, store, warehouse, defs, instance
):
    (shop_id,) = authorize_seller(sandbox, store)
    job = defs.resolve_job_def("tiktok_sync_job")
    assert job.execute_in_process(partition_key=day_key(1), instance=instance).success
    yesterday = ANCHOR - DAY
    query = (
        "SELECT s.payment_status, p.status AS paid, p.paid_time FROM tiktok_statements s "
        "JOIN tiktok_payments p ON p.shop_id = s.shop_id AND p.id = s.payment_id "
        "WHERE s.shop_id = :s AND s.statement_time = :t"
    )
    assert _rows(warehouse.engine, query, s=shop_id, t=yesterday) == [
        {"payment_status": "PROCESSING", "paid": "PROCESSING", "paid_time": None}
    ]
    # Four days on, TikTok has paid yesterday's statement out (or the bank refused it).
    # Today's partition is the only one the incremental schedule runs; it looks back a week.
    sandbox.control.advance(4 * DAY)
    assert job.execute_in_process(partition_key=day_key(0), instance=instance).success
    (row,) = _rows(warehouse.engine, query, s=shop_id, t=yesterday)
    assert row["payment_status"] == row["paid"] != "PROCESSING"
    if row["paid"] == "PAID":
        assert yesterday < row["paid_time"] <= ANCHOR + 4 * DAY
    # The ledger keeps the partitions' own windows.
    ledger = _rows(
        warehouse.engine,
        "SELECT partition_key, window_start FROM tiktok_sync_ledger WHERE entity = 'statements'",
    )
    assert {r["partition_key"] for r in ledger} == {day_key(1), day_key(0)}
    assert {str(r["window_start"])[:10] for r in ledger} == {day_key(1), day_key(0)}


def test_unsettled_transactions_are_the_list_tiktok_shows_now(
    sandbox, store, warehouse, defs, instance
):
    (shop_id,) = authorize_seller(sandbox, store)
    api = _api(sandbox, store, shop_id)
    job = defs.resolve_job_def("tiktok_unsettled_job")
    columns = ("id", "order_id", "est_settlement_amount", "currency")

    def served() -> dict[str, dict]:
        pages = api.finance.pages(
            "unsettled_transactions",
            query={"page_size": 100, "sort_field": "order_create_time"},
        )
        return {t["id"]: t for t in pages.items()}

    first = job.execute_in_process(instance=instance)
    assert first.success
    before = served()
    landed = {
        r["id"]: r
        for r in _shop_rows(warehouse.engine, "tiktok_unsettled_transactions", shop_id, *columns)
    }
    assert len(before) > 10
    assert {i: (r["order_id"], r["est_settlement_amount"]) for i, r in landed.items()} == {
        i: (t["order_id"], Decimal(t["est_settlement_amount"])) for i, t in before.items()
    }
    (event,) = first.asset_materializations_for_node("tiktok_unsettled_transactions")
    assert event.metadata["transactions"].value == len(before)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for t in before.values():
        totals[t["currency"]] += Decimal(t["est_settlement_amount"])
    assert event.metadata["est_settlement_by_currency"].value == {
        currency: str(amount) for currency, amount in totals.items()
    }

    # Three days on, orders have settled (they left the list) and new ones are pending.
    sandbox.control.advance(3 * DAY)
    after = served()
    assert set(before) - set(after) and set(after) - set(before)
    assert job.execute_in_process(instance=instance).success
    landed_after = _shop_rows(warehouse.engine, "tiktok_unsettled_transactions", shop_id, "id")
    assert {r["id"] for r in landed_after} == set(after)
