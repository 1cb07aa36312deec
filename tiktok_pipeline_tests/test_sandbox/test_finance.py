"""Finance over HTTP: statements, transactions, payments, withdrawals and unsettled orders add
up exactly, follow the region's fees and currency decimals, and move with the clock."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tiktok_pipeline.sandbox import run_sandbox
from tiktok_pipeline.warehouse.finance_mapping import DETAIL_KEYS
from tiktok_pipeline_tests.test_sandbox.conftest import ANCHOR, authorized_client, small_config

DAY = 86400
STATEMENTS = "/finance/202309/statements"
PAYMENTS = "/finance/202309/payments"
WITHDRAWALS = "/finance/202309/withdrawals"
UNSETTLED = "/finance/202507/orders/unsettled"
FINANCE_PARAM = 36009004
ADJUSTMENT_TYPES = {
    "LOGISTICS_REIMBURSEMENT",
    "PLATFORM_REIMBURSEMENT",
    "SHIPPING_FEE_ADJUSTMENT",
    "CHARGE_BACK",
}
#: US (USD, 2 decimals) and Indonesia (IDR, no decimals).
REGIONS = ("US", "ID")
AMOUNT = {"US": re.compile(r"^-?\d+\.\d{2}$"), "ID": re.compile(r"^-?\d+$")}


def finance_config():
    """Two shops in two currencies, a month of orders, a frozen clock."""
    return small_config(regions=REGIONS, orders_per_shop=600, days=30)


def statement_transactions_path(statement_id: str) -> str:
    return f"/finance/202501/statements/{statement_id}/statement_transactions"


def order_transactions_path(order_id: str) -> str:
    return f"/finance/202501/orders/{order_id}/statement_transactions"


def D(value: str) -> Decimal:
    return Decimal(value)


def contributory(values: dict) -> dict:
    """A breakdown's contributory amounts: without the details TikTok sends beside them."""
    return {
        k: v for k, v in values.items() if k not in DETAIL_KEYS and not isinstance(v, dict | list)
    }


def total(values: dict) -> Decimal:
    return sum((D(v) for v in contributory(values).values()), Decimal(0))


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox(finance_config()) as running:
        yield running


@pytest.fixture(scope="module")
def client(sandbox):
    return authorized_client(sandbox)


class Ledger:
    """Everything one shop's finance endpoints serve at the (frozen) clock."""

    def __init__(self, client, shop) -> None:
        self.region = shop.region
        self.cipher = shop.cipher
        self.statements, _ = client.walk(
            STATEMENTS,
            "statements",
            100,
            method="GET",
            query={"sort_field": "statement_time"},
            cipher=self.cipher,
        )
        self.headers: dict[str, dict] = {}
        self.transactions: dict[str, list[dict]] = {}
        for s in self.statements:
            items: list[dict] = []
            token = ""
            while True:
                query = {"sort_field": "order_create_time", "page_size": 37}
                if token:
                    query["page_token"] = token
                data = client.ok(
                    "GET", statement_transactions_path(s["id"]), query, cipher=self.cipher
                )
                items.extend(data.pop("transactions"))
                token = data.pop("next_page_token")
                if not token:
                    break
            self.headers[s["id"]] = data
            self.transactions[s["id"]] = items
        self.payments, _ = client.walk(
            PAYMENTS,
            "payments",
            50,
            method="GET",
            query={"sort_field": "create_time"},
            cipher=self.cipher,
        )
        self.withdrawals, _ = client.walk(
            WITHDRAWALS, "withdrawals", 50, method="GET", cipher=self.cipher
        )

    def orders(self) -> list[dict]:
        """Every ORDER transaction."""
        return [t for ts in self.transactions.values() for t in ts if t["type"] == "ORDER"]


@pytest.fixture(scope="module")
def ledgers(sandbox, client) -> dict[str, Ledger]:
    return {shop.region: Ledger(client, shop) for shop in sandbox.shops}


def assert_transaction_identities(t: dict, amount: re.Pattern) -> None:
    revenue = t["revenue_breakdown"]
    fee, tax = t["fee_tax_breakdown"]["fee"], t["fee_tax_breakdown"]["tax"]
    shipping = t["shipping_cost_breakdown"]
    revenue, fee, tax, shipping = map(contributory, (revenue, fee, tax, shipping))
    values = [*revenue.values(), *fee.values(), *tax.values(), *shipping.values()]
    values += [t[k] for k in ("revenue_amount", "fee_tax_amount", "shipping_cost_amount")]
    values.append(t["settlement_amount"])
    assert all(amount.match(v) for v in values), t
    assert D(t["revenue_amount"]) == total(revenue)
    assert D(t["fee_tax_amount"]) == total(fee) + total(tax)
    assert D(t["shipping_cost_amount"]) == total(shipping)
    assert all(D(v) <= 0 for v in [*fee.values(), *tax.values()]), t


@pytest.mark.parametrize("region", REGIONS)
def test_every_transaction_adds_up_exactly(ledgers, region):
    ledger = ledgers[region]
    amount = AMOUNT[region]
    assert len(ledger.statements) == 30
    for s in ledger.statements:
        for t in ledger.transactions[s["id"]]:
            assert_transaction_identities(t, amount)
            assert D(t["settlement_amount"]) == (
                D(t["revenue_amount"])
                + D(t["fee_tax_amount"])
                + D(t["shipping_cost_amount"])
                + D(t["adjustment_amount"])
            )
            assert amount.match(t["adjustment_amount"]) and t["currency"] == s["currency"]
    assert len(ledger.orders()) > 300


@pytest.mark.parametrize("region", REGIONS)
def test_order_transactions_match_the_orders(client, ledgers, region):
    ledger = ledgers[region]
    orders = ledger.orders()
    for start in range(0, len(orders), 50):
        chunk = orders[start : start + 50]
        details = client.ok(
            "GET",
            "/order/202309/orders",
            {"ids": ",".join(t["order_id"] for t in chunk)},
            cipher=ledger.cipher,
        )["orders"]
        by_id = {o["id"]: o for o in details}
        for t in chunk:
            order = by_id[t["order_id"]]
            payment = order["payment"]
            revenue = t["revenue_breakdown"]
            shipping = t["shipping_cost_breakdown"]
            assert order["status"] == "COMPLETED" and t["order_create_time"] == order["create_time"]
            assert D(t["adjustment_amount"]) == 0
            assert t["adjustment_id"] == t["associated_order_id"] == ""
            assert D(revenue["subtotal_before_discount_amount"]) == D(
                payment["original_total_product_price"]
            )
            assert D(revenue["seller_discount_amount"]) == -D(payment["seller_discount"])
            assert D(shipping["customer_paid_shipping_fee_amount"]) == D(payment["shipping_fee"])
            assert D(shipping["actual_shipping_fee_amount"]) == -D(payment["original_shipping_fee"])
            assert D(shipping["customer_paid_shipping_fee_amount"]) + D(
                shipping["platform_shipping_fee_discount_amount"]
            ) + D(shipping["actual_shipping_fee_amount"]) == -D(
                payment["shipping_fee_seller_discount"]
            )


@pytest.mark.parametrize("region", REGIONS)
def test_statements_are_the_sums_of_their_transactions(ledgers, region):
    ledger = ledgers[region]
    kinds: dict[str, int] = {}
    tied = untied = 0
    for s in ledger.statements:
        items = ledger.transactions[s["id"]]
        header = ledger.headers[s["id"]]
        assert header["total_count"] == len(items)
        assert D(s["settlement_amount"]) == sum((D(t["settlement_amount"]) for t in items), 0)
        assert D(s["revenue_amount"]) == sum((D(t["revenue_amount"]) for t in items), 0)
        assert D(s["fee_amount"]) == sum((D(t["fee_tax_amount"]) for t in items), 0)
        assert D(s["shipping_cost_amount"]) == sum((D(t["shipping_cost_amount"]) for t in items), 0)
        assert D(s["adjustment_amount"]) == sum((D(t["adjustment_amount"]) for t in items), 0)
        assert D(s["settlement_amount"]) == (
            D(s["revenue_amount"])
            + D(s["fee_amount"])
            + D(s["shipping_cost_amount"])
            + D(s["adjustment_amount"])
        )
        breakdown = header["total_settlement_breakdown"]
        assert header["total_settlement_amount"] == s["settlement_amount"]
        assert breakdown["total_revenue_amount"] == s["revenue_amount"]
        assert breakdown["total_fee_tax_amount"] == s["fee_amount"]
        assert [t["order_create_time"] for t in items] == sorted(
            t["order_create_time"] for t in items
        )
        order_ids = {t["order_id"] for t in items if t["type"] == "ORDER"}
        for t in items:
            kinds[t["type"]] = kinds.get(t["type"], 0) + 1
            if t["type"] == "ORDER":
                continue
            assert t["type"] in ADJUSTMENT_TYPES and t["adjustment_id"]
            assert D(t["settlement_amount"]) == D(t["adjustment_amount"]) != 0
            assert D(t["revenue_amount"]) == D(t["fee_tax_amount"]) == 0
            if t["associated_order_id"]:
                tied += 1
                assert t["order_id"] == t["associated_order_id"] in order_ids
            else:
                untied += 1
                assert t["order_id"] == "" and t["order_create_time"] == 0
    assert kinds["ORDER"] > 300 and tied and untied
    assert len(set(kinds) & ADJUSTMENT_TYPES) >= 2


def test_fees_follow_the_region(ledgers):
    """US: a 6 % referral fee and no tax on fees; Indonesia: commission, payment and SFP fees,
    Rp 1,250 per item, 11 % VAT on the platform's fees. Each rounded per SKU line."""

    def half_up(x: Decimal) -> Decimal:
        return x.quantize(Decimal(1), rounding="ROUND_HALF_UP")

    us = ledgers["US"].orders()
    for t in us:
        fee = t["fee_tax_breakdown"]["fee"]
        tax = t["fee_tax_breakdown"]["tax"]
        assert D(fee["platform_commission_amount"]) == 0 and total(tax) == 0
        if D(t["revenue_breakdown"]["refund_subtotal_before_discount_amount"]) == 0:
            # Within a cent per line of 6 % of the revenue (rounding is per SKU line).
            assert abs(D(fee["referral_fee_amount"]) + D(t["revenue_amount"]) * 6 / 100) < 0.05
    ids = ledgers["ID"].orders()
    sample = [
        t for t in ids if D(t["revenue_breakdown"]["refund_subtotal_before_discount_amount"]) == 0
    ]
    for t in sample:
        fee = t["fee_tax_breakdown"]["fee"]
        tax = t["fee_tax_breakdown"]["tax"]
        platform = sum((D(fee[k]) for k in fee if not k.startswith("affiliate")), Decimal(0))
        assert D(fee["fee_per_item_sold_amount"]) % 1250 == 0 < -D(fee["fee_per_item_sold_amount"])
        assert D(fee["platform_commission_amount"]) < 0 and D(fee["transaction_fee_amount"]) < 0
        # Rounded per line: within a rupiah per line of 11 % of the platform's fees.
        lines = -D(fee["fee_per_item_sold_amount"]) / 1250
        assert abs(D(tax["vat_amount"]) - half_up(platform * Decimal("0.11"))) <= lines
        assert D(tax["gst_amount"]) == D(tax["sst_amount"]) == 0


def test_a_fifth_of_orders_pay_an_affiliate_commission(ledgers):
    orders = ledgers["US"].orders()
    with_affiliate = [
        t for t in orders if D(t["fee_tax_breakdown"]["fee"]["affiliate_commission_amount"]) < 0
    ]
    assert 0.1 < len(with_affiliate) / len(orders) < 0.3
    for t in with_affiliate:
        rate = -D(t["fee_tax_breakdown"]["fee"]["affiliate_commission_amount"]) / D(
            t["revenue_amount"]
        )
        assert Decimal("0.045") < rate < Decimal("0.205")


def test_refunds_granted_before_completion_are_deducted(client, sandbox, ledgers):
    ledger = ledgers["US"]
    refunded = [
        t
        for t in ledger.orders()
        if D(t["revenue_breakdown"]["refund_subtotal_before_discount_amount"]) < 0
    ]
    assert refunded
    returns = client.ok(
        "POST",
        "/return_refund/202309/returns/search",
        {"page_size": 50},
        {"order_ids": [t["order_id"] for t in refunded]},
        cipher=ledger.cipher,
    )["return_orders"]
    by_order = {r["order_id"]: r for r in returns}
    for t in refunded:
        ret = by_order[t["order_id"]]
        assert ret["return_type"] in ("REFUND", "RETURN_AND_REFUND")
        assert ret["return_status"] in (
            "RETURN_OR_REFUND_REQUEST_SUCCESS",
            "RETURN_OR_REFUND_REQUEST_COMPLETE",
        )
        revenue = t["revenue_breakdown"]
        by_sku = client.ok("GET", order_transactions_path(t["order_id"]), cipher=ledger.cipher)
        refunded_skus = [
            sku
            for sku in by_sku["sku_transactions"]
            if D(sku["revenue_breakdown"]["refund_subtotal_before_discount_amount"]) < 0
        ]
        # A refunded SKU line earns nothing and pays no fee.
        assert len(refunded_skus) == len(ret["return_line_items"])
        for sku in refunded_skus:
            assert D(sku["revenue_amount"]) == 0 and D(sku["fee_tax_amount"]) == 0
        assert D(revenue["refund_subtotal_before_discount_amount"]) == -sum(
            (D(s["revenue_breakdown"]["subtotal_before_discount_amount"]) for s in refunded_skus),
            Decimal(0),
        )
        assert D(revenue["seller_discount_refund_amount"]) == -sum(
            (D(s["revenue_breakdown"]["seller_discount_amount"]) for s in refunded_skus),
            Decimal(0),
        )


@pytest.mark.parametrize("region", REGIONS)
def test_order_transactions_are_the_sums_of_their_skus(client, ledgers, region):
    ledger = ledgers[region]
    for s in ledger.statements[-6:]:
        for t in ledger.transactions[s["id"]]:
            if t["type"] != "ORDER":
                continue
            data = client.ok("GET", order_transactions_path(t["order_id"]), cipher=ledger.cipher)
            skus = data["sku_transactions"]
            assert skus and {sku["statement_id"] for sku in skus} == {s["id"]}
            assert data["settlement_amount"] == t["settlement_amount"]
            assert data["revenue_amount"] == t["revenue_amount"]
            assert data["fee_and_tax_amount"] == t["fee_tax_amount"]
            assert data["shipping_cost_amount"] == t["shipping_cost_amount"]
            for key, order_key in (
                ("settlement_amount", "settlement_amount"),
                ("revenue_amount", "revenue_amount"),
                ("fee_tax_amount", "fee_and_tax_amount"),
                ("shipping_cost_amount", "shipping_cost_amount"),
            ):
                assert sum((D(sku[key]) for sku in skus), Decimal(0)) == D(data[order_key])
            for sku in skus:
                assert_transaction_identities(sku, AMOUNT[region])
                assert D(sku["settlement_amount"]) == (
                    D(sku["revenue_amount"])
                    + D(sku["fee_tax_amount"])
                    + D(sku["shipping_cost_amount"])
                )
            for group in ("revenue_breakdown", "shipping_cost_breakdown"):
                for key, value in contributory(t[group]).items():
                    assert sum((D(sku[group][key]) for sku in skus), Decimal(0)) == D(value)


@pytest.mark.parametrize("region", REGIONS)
def test_payments_and_withdrawals_follow_the_statements(ledgers, region):
    ledger = ledgers[region]
    payments = {p["id"]: p for p in ledger.payments}
    assert len(payments) == len(ledger.statements)
    statuses = set()
    for s in ledger.statements:
        p = payments[s["payment_id"]]
        statuses.add(p["status"])
        assert p["status"] == s["payment_status"]
        assert D(p["amount"]["value"]) == D(s["settlement_amount"]) - D(
            p["reserve_amount"]["value"]
        )
        assert p["amount"]["currency"] == s["currency"]
        assert ("paid_time" in p) == (p["status"] == "PAID")
        if p["status"] == "PAID":
            assert p["paid_time"] > s["statement_time"] and p["paid_time"] <= ANCHOR
    assert "PAID" in statuses and "PROCESSING" in statuses
    settles = [w for w in ledger.withdrawals if w["type"] == "SETTLE"]
    withdraws = [w for w in ledger.withdrawals if w["type"] == "WITHDRAW"]
    assert len(settles) == len(withdraws) == len(ledger.statements)
    assert [w["create_time"] for w in ledger.withdrawals] == sorted(
        w["create_time"] for w in ledger.withdrawals
    )
    for s, settle, withdraw in zip(ledger.statements, settles, withdraws, strict=True):
        p = payments[s["payment_id"]]
        assert settle["amount"] == s["settlement_amount"] and settle["status"] == "SUCCESS"
        assert D(withdraw["amount"]) == -D(p["amount"]["value"])
        expected = {"PAID": "SUCCESS"}.get(p["status"], p["status"])
        assert withdraw["status"] == expected
        assert settle["create_time"] >= s["statement_time"]


def test_withdrawal_types_filter(client, ledgers):
    ledger = ledgers["US"]
    for kind in ("WITHDRAW", "SETTLE"):
        items, totals = client.walk(
            WITHDRAWALS,
            "withdrawals",
            100,
            method="GET",
            query={"types": kind},
            cipher=ledger.cipher,
        )
        assert {w["type"] for w in items} == {kind} and len(items) == totals[0] == 30
    both, _ = client.walk(
        WITHDRAWALS,
        "withdrawals",
        100,
        method="GET",
        query={"types": "WITHDRAW,SETTLE"},
        cipher=ledger.cipher,
    )
    assert both == ledger.withdrawals
    transfers = client.ok("GET", WITHDRAWALS, {"types": "TRANSFER"}, cipher=ledger.cipher)
    assert transfers["withdrawals"] == [] and transfers["total_count"] == 0


def test_statement_windows_sorting_and_payment_status(client, ledgers):
    ledger = ledgers["US"]
    cipher = ledger.cipher
    ge, lt = ANCHOR - 10 * DAY, ANCHOR - 3 * DAY
    window, _ = client.walk(
        STATEMENTS,
        "statements",
        100,
        method="GET",
        query={"sort_field": "statement_time", "statement_time_ge": ge, "statement_time_lt": lt},
        cipher=cipher,
    )
    assert [s["statement_time"] for s in window] == list(range(ge, lt, DAY))
    newest_first = client.ok(
        "GET",
        STATEMENTS,
        {"sort_field": "statement_time", "sort_order": "DESC", "page_size": 3},
        cipher=cipher,
    )["statements"]
    assert newest_first == ledger.statements[::-1][:3]
    for status in ("PAID", "PROCESSING"):
        found, totals = client.walk(
            STATEMENTS,
            "statements",
            100,
            method="GET",
            query={"sort_field": "statement_time", "payment_status": status},
            cipher=cipher,
        )
        assert found == [s for s in ledger.statements if s["payment_status"] == status]
        assert totals[0] == len(found) > 0
    payments_window = client.ok(
        "GET",
        PAYMENTS,
        {"sort_field": "create_time", "create_time_ge": ge, "create_time_lt": lt},
        cipher=cipher,
    )["payments"]
    assert len(payments_window) == 7 and all(ge <= p["create_time"] < lt for p in payments_window)
    every = unsettled_now(client, cipher)
    middle = every[len(every) // 2]["order_create_time"]
    newer, totals = client.walk(
        UNSETTLED,
        "transactions",
        100,
        method="GET",
        query={"sort_field": "order_create_time", "sort_order": "DESC", "search_time_ge": middle},
        cipher=cipher,
    )
    assert newer == [u for u in every if u["order_create_time"] >= middle][::-1]
    assert totals[0] == len(newer) > 0


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (STATEMENTS, "statement_time"),
        (PAYMENTS, "create_time"),
        ("/finance/202605/payments", "create_time"),
        (UNSETTLED, "order_create_time"),
        ("statement", "order_create_time"),
    ],
)
def test_sort_field_is_required(client, ledgers, path, field):
    ledger = ledgers["US"]
    if path == "statement":
        path = statement_transactions_path(ledger.statements[-1]["id"])
    for query in ({}, {"sort_field": "update_time"}):
        answer = client.call("GET", path, query, cipher=ledger.cipher).json()
        assert answer["code"] == FINANCE_PARAM
        assert f"sort_field={field}" in answer["message"]
    for size in (0, 101):
        answer = client.call(
            "GET", path, {"sort_field": field, "page_size": size}, cipher=ledger.cipher
        ).json()
        assert answer["code"] == FINANCE_PARAM and "page_size" in answer["message"]
    assert client.ok("GET", path, {"sort_field": field, "page_size": 100}, cipher=ledger.cipher)


@pytest.mark.parametrize(
    ("path", "query", "word"),
    [
        (STATEMENTS, {"sort_field": "statement_time", "payment_status": "LOST"}, "payment_status"),
        (
            STATEMENTS,
            {"sort_field": "statement_time", "statement_time_ge": 10, "statement_time_lt": 5},
            "statement_time_ge",
        ),
        (WITHDRAWALS, {"types": "WITHDRAW,REFUND"}, "types"),
        (UNSETTLED, {"sort_field": "order_create_time", "sort_order": "UP"}, "sort_order"),
    ],
)
def test_bad_finance_parameters_are_named(client, ledgers, path, query, word):
    answer = client.call("GET", path, query, cipher=ledgers["US"].cipher).json()
    assert answer["code"] == FINANCE_PARAM and word in answer["message"]


def unsettled_now(client, cipher: str) -> list[dict]:
    items, totals = client.walk(
        UNSETTLED,
        "transactions",
        100,
        method="GET",
        query={"sort_field": "order_create_time"},
        cipher=cipher,
    )
    assert len(items) == totals[0]
    return items


def test_unsettled_estimates_become_the_settlements_as_the_clock_moves(ledgers):
    """The module's data at the anchor, then the clock moves three weeks: every unsettled
    order settles for its estimate (unless a refund came in meanwhile), payments get paid,
    statements appear day by day and nothing beyond the clock is visible."""
    with run_sandbox(finance_config()) as fresh:
        client = authorized_client(fresh)
        unsettled_before: dict[str, list[dict]] = {}
        for shop in fresh.shops:
            ledger = ledgers[shop.region]
            cipher = shop.cipher
            first = client.ok(
                "GET",
                STATEMENTS,
                {"sort_field": "statement_time", "page_size": 100},
                cipher=cipher,
            )["statements"]
            assert first == ledger.statements  # same seed, same clock: same statements
            before = unsettled_before[shop.region] = unsettled_now(client, cipher)
            assert before and all(u["estimated_settle_time"] > ANCHOR for u in before)
            assert [u["order_create_time"] for u in before] == sorted(
                u["order_create_time"] for u in before
            )
            for u in before:
                assert u["status"] == "UNSETTLED" and D(u["est_adjustment_amount"]) == 0
                assert D(u["est_settlement_amount"]) == (
                    D(u["est_revenue_amount"])
                    + D(u["est_fee_tax_amount"])
                    + D(u["est_shipping_cost_amount"])
                )
                assert D(u["est_revenue_amount"]) == total(u["revenue_breakdown"])
                assert D(u["est_shipping_cost_amount"]) == total(u["shipping_cost_breakdown"])
                fee_tax = u["fee_tax_breakdown"]
                assert D(u["est_fee_tax_amount"]) == total(fee_tax["fee"]) + total(fee_tax["tax"])
                assert AMOUNT[shop.region].match(u["est_settlement_amount"])
            # Not settled yet: the order's transactions are empty.
            probe = client.ok("GET", order_transactions_path(before[0]["order_id"]), cipher=cipher)
            assert probe["sku_transactions"] == [] and D(probe["settlement_amount"]) == 0

        fresh.control.advance(21 * DAY)
        now = ANCHOR + 21 * DAY
        for shop in fresh.shops:
            ledger = ledgers[shop.region]
            cipher = shop.cipher
            statements, _ = client.walk(
                STATEMENTS,
                "statements",
                100,
                method="GET",
                query={"sort_field": "statement_time"},
                cipher=cipher,
            )
            assert len(statements) == 30 + 21 and statements[-1]["statement_time"] == now
            old = {s["id"]: s for s in ledger.statements}
            changed = 0
            for s in statements[:30]:
                was = old[s["id"]]
                moving = ("payment_status", "payment_time")  # change when paid out
                assert {k: v for k, v in s.items() if k not in moving} == {
                    k: v for k, v in was.items() if k not in moving
                }
                if was["payment_status"] == "PROCESSING":
                    assert s["payment_status"] in ("PAID", "FAILED")
                    changed += 1
            assert changed
            withdraws, _ = client.walk(
                WITHDRAWALS,
                "withdrawals",
                100,
                method="GET",
                query={"types": "WITHDRAW"},
                cipher=cipher,
            )
            assert [w for w in withdraws if w["create_time"] < ANCHOR - 5 * DAY]
            assert all(w["status"] != "PROCESSING" for w in withdraws[:30])

            after = {u["order_id"] for u in unsettled_now(client, cipher)}
            before = unsettled_before[shop.region]
            by_id = {s["id"]: s for s in statements}
            compared = 0
            for u in before:
                if u["order_id"] in after:
                    continue  # cancelled meanwhile or still in transit
                final = client.ok("GET", order_transactions_path(u["order_id"]), cipher=cipher)
                if not final["sku_transactions"]:
                    continue  # cancelled after payment: never settles
                settled_in = by_id[final["sku_transactions"][0]["statement_id"]]
                assert settled_in["statement_time"] == u["estimated_settle_time"]
                refund_key = "refund_subtotal_before_discount_amount"
                refund_then = D(u["revenue_breakdown"][refund_key])
                refund_now = sum(
                    (D(sku["revenue_breakdown"][refund_key]) for sku in final["sku_transactions"]),
                    Decimal(0),
                )
                if refund_now != refund_then:
                    continue  # a refund was granted while the order was unsettled
                compared += 1
                assert final["settlement_amount"] == u["est_settlement_amount"]
                assert final["revenue_amount"] == u["est_revenue_amount"]
                assert final["fee_and_tax_amount"] == u["est_fee_tax_amount"]
                assert final["shipping_cost_amount"] == u["est_shipping_cost_amount"]
            assert compared > 0.8 * len(before)
