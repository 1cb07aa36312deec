"""Finance objects in the warehouse: exact columns that add up, changed content replaces a row,
the unsettled snapshot, and the reconciliation checks (SQLite and Postgres)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tiktok_pipeline.warehouse import (
    PAYMENT_TABLES,
    STATEMENT_TABLES,
    STATEMENT_TRANSACTION_TABLES,
    UNSETTLED_TABLES,
    WITHDRAWAL_TABLES,
    TableCounts,
    Warehouse,
    finance_schema,
    postgres_writer,
    quality,
    schema,
)
from tiktok_pipeline.warehouse.finance_mapping import statement_transaction_rows
from tiktok_pipeline.warehouse.mapping import Context, serialize
from tiktok_pipeline_tests.test_warehouse import finance_factories as ff
from tiktok_pipeline_tests.test_warehouse.conftest import OTHER_SHOP, SHOP, snapshot, table_rows

BREAKDOWN_SUMS = {
    "revenue_amount": (*finance_schema.REVENUE_KEYS, finance_schema.OTHER_REVENUE),
    "fee_tax_amount": finance_schema.FEE_COLUMNS,
    "shipping_cost_amount": (*finance_schema.SHIPPING_KEYS, finance_schema.OTHER_SHIPPING),
}


def _add(row: dict, names: tuple[str, ...]) -> Decimal:
    return sum((row[name] or Decimal(0) for name in names), Decimal(0))


def _mapped(data: dict) -> dict:
    ctx = Context(shop_id=SHOP, synced_at=datetime(2026, 1, 1, tzinfo=UTC), source="poll")
    return statement_transaction_rows(data, ctx, serialize(data)).row


def test_a_statement_transaction_maps_to_exact_columns_that_add_up():
    data = ff.transaction(
        "7311000000000000101",
        taxes={"vat_amount": "-0.53", "gst_amount": "0", "digital_services_tax_amount": "-0.07"},
    )
    row = _mapped(data)

    assert set(row) == {c.name for c in schema.statement_transactions.columns}
    assert row["statement_id"] == "7311000000000000001"
    assert row["adjustment_id"] is None and row["associated_order_id"] is None
    assert row["order_created_at"] == datetime(2024, 6, 1, tzinfo=UTC)
    assert row["platform_commission_amount"] == Decimal("-2.63")
    assert row["subtotal_before_discount_amount"] == Decimal("49.98")
    assert row["actual_shipping_fee_amount"] == Decimal("-7.99")
    # A fee TikTok adds later has no column: it lands in other_fees_amount.
    assert row["other_fees_amount"] == Decimal("-0.44")
    # Every tax is in tax_amount, vat also in its own column.
    assert row["vat_amount"] == Decimal("-0.53")
    assert row["tax_amount"] == Decimal("-0.60")
    assert row["other_revenue_amount"] == row["other_shipping_cost_amount"] == Decimal(0)
    for total, parts in BREAKDOWN_SUMS.items():
        assert _add(row, parts) == row[total], total
    assert row["settlement_amount"] == (
        row["revenue_amount"]
        + row["fee_tax_amount"]
        + row["shipping_cost_amount"]
        + row["adjustment_amount"]
    )
    assert row["fee_tax_amount"] == Decimal("-11.51")  # -10.91 fees, -0.60 taxes
    assert all(isinstance(row[name], Decimal) for name in finance_schema.FEE_COLUMNS)


def test_detail_keys_and_nested_details_are_not_counted_in_the_totals():
    """TikTok sends details beside the contributory amounts (the affiliate commission before
    the creator's income tax, a shipping ``supplementary_component``): they stay in ``raw``
    and the breakdown columns still add up to TikTok's totals."""
    plain = _mapped(ff.transaction("7311000000000000102"))
    data = ff.transaction("7311000000000000102")
    fee = data["fee_tax_breakdown"]["fee"]
    fee["affiliate_commission_amount_before_pit"] = "-9.99"
    data["shipping_cost_breakdown"]["supplementary_component"] = {
        "customer_shipping_fee": "7.99",
        "platform_shipping_fee_discount_amount": "1.00",
    }
    row = _mapped(data)
    assert row["other_fees_amount"] == plain["other_fees_amount"]
    assert row["other_shipping_cost_amount"] == plain["other_shipping_cost_amount"]
    for total, parts in BREAKDOWN_SUMS.items():
        assert _add(row, parts) == row[total], total


def test_an_adjustment_without_breakdowns_maps_to_nulls_not_zeros():
    data = ff.adjustment("9", "-3.10", statement_id="5", associated_order_id="77")
    del data["revenue_breakdown"], data["fee_tax_breakdown"], data["shipping_cost_breakdown"]
    row = _mapped(data)
    assert row["order_id"] is None and row["order_create_time"] is None
    assert row["associated_order_id"] == "77"
    assert row["adjustment_amount"] == row["settlement_amount"] == Decimal("-3.10")
    assert row["other_fees_amount"] is None and row["tax_amount"] is None
    assert row["platform_commission_amount"] is None


def test_a_transaction_without_its_statement_id_is_refused(warehouse: Warehouse):
    data = ff.transaction("1")
    del data["statement_id"]
    with pytest.raises(ValueError, match=r"statement transaction '1'.*statement_id"):
        warehouse.load(STATEMENT_TRANSACTION_TABLES, SHOP, [data])


def test_round_trip_keeps_every_amount_exact(warehouse: Warehouse):
    data = ff.transaction("1")
    warehouse.load(STATEMENT_TRANSACTION_TABLES, SHOP, [data])
    (stored,) = table_rows(warehouse, schema.statement_transactions)
    mapped = _mapped(data)
    money = [c.name for c in schema.statement_transactions.columns if c.name.endswith("_amount")]
    assert {m: stored[m] for m in money} == {m: mapped[m] for m in money}
    assert stored["raw"]["statement_id"] == "7311000000000000001"


def test_payment_amounts_currency_and_exchange_rate(warehouse: Warehouse):
    statement = ff.statement("S1", [ff.transaction("1")], statement_time=1_717_286_400)
    data = ff.payment("P1", [statement], create_time=1_717_300_000, reserve="2.50")
    data["exchange_rate"] = "1.0842375"
    data["payment_amount_before_exchange"] = {"value": "31.11", "currency": "EUR"}
    warehouse.load(PAYMENT_TABLES, SHOP, [data])
    (row,) = table_rows(warehouse, schema.payments)
    assert row["currency"] == "USD"
    assert row["amount"] + row["reserve_amount"] == row["settlement_amount"]
    assert row["settlement_amount"] == Decimal(statement["settlement_amount"])
    assert row["exchange_rate"] == Decimal("1.0842375")
    assert row["payment_amount_before_exchange"] == Decimal("31.11")
    assert row["payment_amount_before_exchange_currency"] == "EUR"
    assert row["bank_account"] == "****1234"
    assert row["paid_at"] == datetime.fromtimestamp(1_717_303_600, UTC)


def test_changed_content_replaces_a_finance_row_and_identical_content_writes_nothing(
    warehouse: Warehouse,
):
    statement = ff.statement("S1", [ff.transaction("1")], statement_time=1_717_286_400)
    first = datetime(2026, 1, 1, tzinfo=UTC)
    assert warehouse.load(STATEMENT_TABLES, SHOP, [statement], synced_at=first)[
        "tiktok_statements"
    ] == TableCounts(inserted=1)
    again = warehouse.load(STATEMENT_TABLES, SHOP, [statement], synced_at=datetime.now(UTC))
    assert again["tiktok_statements"] == TableCounts(unchanged=1)
    assert table_rows(warehouse, schema.statements)[0]["_synced_at"] == first

    # No update_time: whatever TikTok sends last replaces the row, even "back" to PROCESSING.
    for status in ("PAID", "PROCESSING"):
        changed = ff.changed(statement, payment_status=status)
        result = warehouse.load(STATEMENT_TABLES, SHOP, [changed])
        assert result["tiktok_statements"] == TableCounts(updated=1)
        (row,) = table_rows(warehouse, schema.statements)
        assert row["payment_status"] == status
        assert row["raw"]["payment_status"] == status


def test_withdrawals_keep_their_sign(warehouse: Warehouse):
    data = {
        "id": "W1",
        "type": "WITHDRAW",
        "amount": "-1250.40",
        "currency": "GBP",
        "status": "SUCCESS",
        "create_time": 1_717_300_000,
    }
    reverse = {**data, "id": "W2", "type": "REVERSE", "amount": "1250.40"}
    warehouse.load(WITHDRAWAL_TABLES, SHOP, [data, reverse])
    rows = table_rows(warehouse, schema.withdrawals)
    assert [(r["id"], r["type"], r["amount"]) for r in rows] == [
        ("W1", "WITHDRAW", Decimal("-1250.40")),
        ("W2", "REVERSE", Decimal("1250.40")),
    ]


def test_unsettled_snapshot_replaces_one_shops_rows(warehouse: Warehouse):
    first = [ff.unsettled(str(n), f"O{n}") for n in range(4)]
    with warehouse.begin() as tx:
        loaded = tx.replace_snapshot(UNSETTLED_TABLES, SHOP, first)
        tx.replace_snapshot(UNSETTLED_TABLES, OTHER_SHOP, first[:2])
    assert loaded["tiktok_unsettled_transactions"] == TableCounts(inserted=4)

    # Orders 0 and 1 settled, 2 changed its estimate, 3 is the same, 4 is new.
    second = [
        ff.unsettled("2", "O2", est_settlement_amount="12.00"),
        first[3],
        ff.unsettled("4", "O4"),
    ]
    with warehouse.begin() as tx:
        result = tx.replace_snapshot(UNSETTLED_TABLES, SHOP, second)
    assert result["tiktok_unsettled_transactions"] == TableCounts(
        inserted=1, updated=1, unchanged=1, deleted=2
    )
    rows = table_rows(warehouse, schema.unsettled_transactions)
    assert [(r["shop_id"], r["id"]) for r in rows] == [
        (SHOP, "2"),
        (SHOP, "3"),
        (SHOP, "4"),
        (OTHER_SHOP, "0"),
        (OTHER_SHOP, "1"),
    ]
    assert rows[0]["est_settlement_amount"] == Decimal("12.00")

    # An empty list: nothing is unsettled any more.
    with warehouse.begin() as tx:
        result = tx.replace_snapshot(UNSETTLED_TABLES, SHOP, [])
    assert result["tiktok_unsettled_transactions"] == TableCounts(deleted=3)
    assert [r["shop_id"] for r in table_rows(warehouse, schema.unsettled_transactions)] == [
        OTHER_SHOP,
        OTHER_SHOP,
    ]


def test_a_failed_snapshot_replace_leaves_the_old_snapshot(warehouse: Warehouse):
    warehouse.load(UNSETTLED_TABLES, SHOP, [ff.unsettled("1", "O1")])
    broken = ff.unsettled("2", "O2", est_settlement_amount="twelve")
    with pytest.raises(ValueError, match="est_settlement_amount"), warehouse.begin() as tx:
        tx.replace_snapshot(UNSETTLED_TABLES, SHOP, [broken])
    assert [r["id"] for r in table_rows(warehouse, schema.unsettled_transactions)] == ["1"]


def _load_finance(wh: Warehouse, shop_id: str, kinds: dict[str, list[dict]]) -> None:
    specs = {
        "statements": STATEMENT_TABLES,
        "statement_transactions": STATEMENT_TRANSACTION_TABLES,
        "payments": PAYMENT_TABLES,
        "withdrawals": WITHDRAWAL_TABLES,
    }
    with wh.begin() as tx:
        for kind, objects in kinds.items():
            tx.load(specs[kind], shop_id, objects)


def _orders(count: int) -> list[dict]:
    from tiktok_pipeline_tests.test_warehouse import factories as f

    return [
        {**f.order(str(1000 + n), create_time=1_717_200_000 + n * 40_000), "_shop_id": SHOP}
        for n in range(count)
    ]


def test_reconciliation_checks_find_statements_and_payments_that_do_not_add_up(
    warehouse: Warehouse,
):
    (kinds,) = ff.finance_of_orders(_orders(12)).values()
    _load_finance(warehouse, SHOP, kinds)
    with warehouse.engine.connect() as connection:
        assert quality.statement_mismatches(connection) == (0, [])
        assert quality.payment_mismatches(connection) == (0, [])

    # One cent off on a transaction of the second statement, and a payment with no reserve.
    victim = kinds["statement_transactions"][-1]
    payment = kinds["payments"][0]
    with warehouse.engine.begin() as connection:
        tx, pay = schema.statement_transactions, schema.payments
        connection.execute(
            sa.update(tx)
            .where(tx.c.id == victim["id"])
            .values(settlement_amount=tx.c.settlement_amount + Decimal("0.01"))
        )
        connection.execute(sa.update(pay).where(pay.c.id == payment["id"]).values(reserve_amount=0))
    with warehouse.engine.connect() as connection:
        count, sample = quality.statement_mismatches(connection)
        (payment_count, payment_sample) = quality.payment_mismatches(connection)
    stated = Decimal(
        next(s for s in kinds["statements"] if s["id"] == victim["statement_id"])[
            "settlement_amount"
        ]
    )
    assert count == 1
    assert [(m.shop_id, m.id, m.stated, m.summed) for m in sample] == [
        (SHOP, victim["statement_id"], stated, stated + Decimal("0.01"))
    ]
    assert sample[0].difference == Decimal("-0.01")
    assert payment_count == 1 and payment_sample[0].id == payment["id"]
    assert payment_sample[0].difference == Decimal("-1.00")  # the reserve it lost


@pytest.mark.postgres
def test_both_postgres_paths_write_the_same_finance_rows(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
):
    """A table without update_time through COPY and through the guarded upsert."""
    wh = Warehouse.from_url(postgres_url, upgrade=True)
    (kinds,) = ff.finance_of_orders(_orders(6)).values()
    kinds["unsettled"] = [ff.unsettled("U1", "O1")]
    for shop, savepoints in ((SHOP, 32), (OTHER_SHOP, 0)):
        monkeypatch.setattr(postgres_writer, "MAX_SAVEPOINTS", savepoints)
        for round_ in range(2):  # then every row changes: replaced on each path
            with wh.begin() as tx:
                for kind, spec in (
                    ("statements", STATEMENT_TABLES),
                    ("statement_transactions", STATEMENT_TRANSACTION_TABLES),
                    ("payments", PAYMENT_TABLES),
                    ("withdrawals", WITHDRAWAL_TABLES),
                    ("unsettled", UNSETTLED_TABLES),
                ):
                    objects = [ff.changed(o, currency=f"X{round_}") for o in kinds[kind]]
                    result = tx.load(spec, shop, objects)
                    counts = result[spec.table.name]
                    assert (counts.inserted, counts.updated) == (
                        (len(objects), 0) if round_ == 0 else (0, len(objects))
                    )

    tables = snapshot(wh)
    for name in finance_schema.__dict__.values():
        if not isinstance(name, sa.Table):
            continue
        rows = [{k: v for k, v in r.items() if k != "_synced_at"} for r in tables[name.name]]
        direct = [{**r, "shop_id": None} for r in rows if r["shop_id"] == SHOP]
        guarded = [{**r, "shop_id": None} for r in rows if r["shop_id"] == OTHER_SHOP]
        assert direct and guarded == direct, name.name
