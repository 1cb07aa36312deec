"""TikTok Finance objects shaped like the API's (the finance contract), for tests.

Every builder keeps TikTok's exact identities: a transaction's totals are the sums of its
breakdowns and its settlement is revenue + fee_tax + shipping_cost + adjustment; a
statement's settlement is the sum of its transactions'; a payment's amount is the sum of its
statements' settlements minus the reserve. Amounts are decimal strings, signed.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")
DAY = 86400


def _text(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def _sum(values: Iterable[str]) -> Decimal:
    return sum((Decimal(v) for v in values), Decimal(0))


def transaction(
    transaction_id: str,
    *,
    statement_id: str = "7311000000000000001",
    order_id: str = "576461413038785752",
    order_create_time: int = 1_717_200_000,
    currency: str = "USD",
    revenue: dict[str, str] | None = None,
    fees: dict[str, str] | None = None,
    taxes: dict[str, str] | None = None,
    shipping: dict[str, str] | None = None,
    type_: str = "ORDER",
    adjustment_amount: str = "0",
    associated_order_id: str = "",
    adjustment_id: str = "",
) -> dict[str, Any]:
    """One statement transaction (202501), with the ``statement_id`` the fetch adds."""
    if revenue is None:
        revenue = {
            "subtotal_before_discount_amount": "49.98",
            "seller_discount_amount": "-6.00",
            "refund_subtotal_before_discount_amount": "0",
            "seller_discount_refund_amount": "0",
            "cod_service_fee_amount": "0",
        }
    if fees is None:
        fees = {
            "platform_commission_amount": "-2.63",
            "referral_fee_amount": "-1.20",
            "transaction_fee_amount": "-1.28",
            "affiliate_commission_amount": "-4.40",
            "affiliate_partner_commission_amount": "0",
            "sfp_service_fee_amount": "-0.66",
            "fee_per_item_sold_amount": "-0.30",
            "live_specials_fee_amount": "-0.44",  # a fee key without a column of its own
        }
    if taxes is None:
        taxes = {"vat_amount": "-0.53", "gst_amount": "0", "sst_amount": "0"}
    if shipping is None:
        shipping = {
            "actual_shipping_fee_amount": "-7.99",
            "customer_paid_shipping_fee_amount": "5.99",
            "platform_shipping_fee_discount_amount": "0",
            "return_shipping_fee_amount": "0",
            "shipping_fee_subsidy_amount": "2.00",
        }
    revenue_amount = _sum(revenue.values())
    fee_tax_amount = _sum(fees.values()) + _sum(taxes.values())
    shipping_amount = _sum(shipping.values())
    settlement = revenue_amount + fee_tax_amount + shipping_amount + Decimal(adjustment_amount)
    return {
        "id": transaction_id,
        "statement_id": statement_id,
        "type": type_,
        "order_id": order_id,
        "order_create_time": order_create_time if order_id else 0,
        "adjustment_id": adjustment_id,
        "associated_order_id": associated_order_id,
        "currency": currency,
        "settlement_amount": _text(settlement),
        "revenue_amount": _text(revenue_amount),
        "fee_tax_amount": _text(fee_tax_amount),
        "shipping_cost_amount": _text(shipping_amount),
        "adjustment_amount": adjustment_amount,
        "revenue_breakdown": revenue,
        "fee_tax_breakdown": {"fee": fees, "tax": taxes},
        "shipping_cost_breakdown": shipping,
    }


def adjustment(
    transaction_id: str,
    amount: str,
    *,
    statement_id: str,
    associated_order_id: str = "",
    type_: str = "LOGISTICS_REIMBURSEMENT",
    currency: str = "USD",
) -> dict[str, Any]:
    """An adjustment transaction (nothing but ``adjustment_amount``)."""
    zeros: dict[str, str] = {}
    return transaction(
        transaction_id,
        statement_id=statement_id,
        order_id="",
        currency=currency,
        revenue=zeros,
        fees=zeros,
        taxes=zeros,
        shipping=zeros,
        type_=type_,
        adjustment_amount=amount,
        associated_order_id=associated_order_id,
        adjustment_id=f"A{transaction_id}",
    )


def statement(
    statement_id: str,
    transactions: list[dict[str, Any]],
    *,
    statement_time: int,
    payment_id: str = "",
    payment_status: str = "PROCESSING",
    currency: str = "USD",
) -> dict[str, Any]:
    """A statement (202309) whose amounts are the sums of ``transactions``."""
    revenue = _sum(t["revenue_amount"] for t in transactions)
    fees = _sum(t["fee_tax_amount"] for t in transactions)
    shipping = _sum(t["shipping_cost_amount"] for t in transactions)
    adjustments = _sum(t["adjustment_amount"] for t in transactions)
    return {
        "id": statement_id,
        "statement_time": statement_time,
        "currency": currency,
        "settlement_amount": _text(revenue + fees + shipping + adjustments),
        "revenue_amount": _text(revenue),
        "fee_amount": _text(fees),
        "adjustment_amount": _text(adjustments),
        "shipping_cost_amount": _text(shipping),
        "net_sales_amount": _text(revenue),
        "payment_status": payment_status,
        "payment_id": payment_id,
    }


def payment(
    payment_id: str,
    statements: list[dict[str, Any]],
    *,
    create_time: int,
    reserve: str = "0",
    status: str = "PAID",
    currency: str = "USD",
) -> dict[str, Any]:
    """A payment (202309) paying out ``statements``, keeping ``reserve`` back."""
    settled = _sum(s["settlement_amount"] for s in statements)

    def money(value: Decimal) -> dict[str, str]:
        return {"value": _text(value), "currency": currency}

    return {
        "id": payment_id,
        "create_time": create_time,
        "status": status,
        "paid_time": create_time + 3600 if status == "PAID" else 0,
        "amount": money(settled - Decimal(reserve)),
        "settlement_amount": money(settled),
        "reserve_amount": money(Decimal(reserve)),
        "payment_amount_before_exchange": money(settled - Decimal(reserve)),
        "exchange_rate": "1",
        "bank_account": "****1234",
    }


def unsettled(transaction_id: str, order_id: str, **overrides: Any) -> dict[str, Any]:
    """An unsettled order transaction (202507) with estimated amounts."""
    settled = transaction(transaction_id, order_id=order_id)
    data = {
        "id": transaction_id,
        "type": "ORDER",
        "status": "UNSETTLED",
        "order_id": order_id,
        "order_create_time": settled["order_create_time"],
        "currency": "USD",
        "est_revenue_amount": settled["revenue_amount"],
        "est_fee_tax_amount": settled["fee_tax_amount"],
        "est_shipping_cost_amount": settled["shipping_cost_amount"],
        "est_adjustment_amount": "0",
        "est_settlement_amount": settled["settlement_amount"],
        "unsettled_reason": "Delivery not confirmed yet",
        "estimated_settle_time": settled["order_create_time"] + 10 * DAY,
        "revenue_breakdown": settled["revenue_breakdown"],
        "fee_tax_breakdown": settled["fee_tax_breakdown"],
        "shipping_cost_breakdown": settled["shipping_cost_breakdown"],
    }
    data.update(overrides)
    return data


def cancellation(
    cancel_id: str,
    *,
    order_id: str = "576461413038785752",
    update_time: int = 1_717_300_000,
    cancel_status: str = "CANCELLATION_REQUEST_PENDING",
    lines: list[str] = ("1",),  # type: ignore[assignment]
) -> dict[str, Any]:
    """A cancellation (Search Cancellations 202309) with one line per entry of ``lines``."""
    return {
        "cancel_id": cancel_id,
        "order_id": order_id,
        "cancel_type": "BUYER_CANCEL",
        "cancel_status": cancel_status,
        "role": "BUYER",
        "create_time": 1_717_200_000,
        "update_time": update_time,
        "cancel_reason": "ecom_order_cancel_reason_no_longer_needed",
        "cancel_reason_text": "No longer needed",
        "refund_amount": {
            "currency": "USD",
            "refund_total": "21.59",
            "refund_subtotal": "19.99",
            "refund_shipping_fee": "0",
            "refund_tax": "1.60",
            "retail_delivery_fee": "0",
            "buyer_service_fee": "0",
        },
        "cancel_line_items": [
            {
                "cancel_line_item_id": f"{cancel_id}{line}",
                "order_line_item_id": f"{order_id}{line}",
                "sku_id": "1729385730000000001",
                "sku_name": "Rose, 30ml",
                "product_name": "Glow Serum 30ml",
                "seller_sku": "GLOW-ROSE-30",
                "refund_amount": {
                    "currency": "USD",
                    "refund_total": "21.59",
                    "refund_subtotal": "19.99",
                    "refund_tax": "1.60",
                },
            }
            for line in lines
        ],
    }


def _percent(amount: Decimal, rate: str) -> str:
    return _text(-(amount * Decimal(rate)))


def finance_of_orders(orders: Iterable[dict[str, Any]]) -> dict[str, dict[str, list[dict]]]:
    """Statements, transactions, payments and withdrawals settling ``orders`` (TikTok JSON,
    each with ``_shop_id``), per shop: each paid, not cancelled order settles 7 days after
    it was placed, in the daily statement of that day; every 3rd order gets a logistics
    reimbursement; each 2 statements are paid out together, keeping 1.00 in reserve."""
    by_shop: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for number, order in enumerate(sorted(orders, key=lambda o: (o["_shop_id"], o["id"]))):
        if order.get("status") in ("UNPAID", "CANCELLED"):
            continue
        day = (order["create_time"] // DAY + 7) * DAY
        statement_id = f"{order['_shop_id'][-6:]}{day // DAY}"
        pay = order["payment"]
        original = Decimal(pay["original_total_product_price"])
        discount = Decimal(pay["seller_discount"])
        revenue = {
            "subtotal_before_discount_amount": _text(original),
            "seller_discount_amount": _text(-discount),
        }
        base = original - discount
        fees = {
            "platform_commission_amount": _percent(base, "0.06"),
            "transaction_fee_amount": _percent(base, "0.029"),
            "fee_per_item_sold_amount": "-0.30",
        }
        if number % 4 == 0:
            fees["affiliate_commission_amount"] = _percent(base, "0.1")
        if number % 5 == 0:
            fees["live_specials_fee_amount"] = _percent(base, "0.015")
        taxes = {"vat_amount": _percent(base, "0.007")} if number % 2 else {}
        shipping = {
            "actual_shipping_fee_amount": "-7.99",
            "customer_paid_shipping_fee_amount": pay["shipping_fee"],
        }
        by_shop[order["_shop_id"]][day].append(
            transaction(
                f"T{order['id']}",
                statement_id=statement_id,
                order_id=order["id"],
                order_create_time=order["create_time"],
                currency=pay["currency"],
                revenue=revenue,
                fees=fees,
                taxes=taxes,
                shipping=shipping,
            )
        )
        if number % 3 == 0:
            by_shop[order["_shop_id"]][day].append(
                adjustment(
                    f"A{order['id']}",
                    "1.25",
                    statement_id=statement_id,
                    associated_order_id=order["id"],
                    currency=pay["currency"],
                )
            )
    return {shop: _statements_and_payments(days) for shop, days in by_shop.items()}


def _statements_and_payments(days: dict[int, list[dict]]) -> dict[str, list[dict]]:
    kinds: dict[str, list[dict]] = defaultdict(list)
    ordered = sorted(days.items())
    for start in range(0, len(ordered), 2):
        pair = ordered[start : start + 2]
        payment_id = f"P{pair[0][1][0]['statement_id']}"
        paid = [
            statement(
                txs[0]["statement_id"],
                txs,
                statement_time=day,
                payment_id=payment_id,
                payment_status="PAID",
                currency=txs[0]["currency"],
            )
            for day, txs in pair
        ]
        kinds["statements"] += paid
        kinds["statement_transactions"] += [t for _, txs in pair for t in txs]
        kinds["payments"].append(
            payment(
                payment_id,
                paid,
                create_time=pair[-1][0] + DAY,
                reserve="1.00",
                currency=paid[0]["currency"],
            )
        )
        kinds["withdrawals"].append(
            {
                "id": f"W{payment_id}",
                "type": "WITHDRAW",
                "amount": _text(-Decimal(kinds["payments"][-1]["amount"]["value"])),
                "currency": paid[0]["currency"],
                "status": "SUCCESS",
                "create_time": pair[-1][0] + DAY,
            }
        )
    return dict(kinds)


def changed(data: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with top-level fields replaced."""
    copied = copy.deepcopy(data)
    copied.update(overrides)
    return copied


#: The fee columns of tiktok_order_settlements with their own TikTok key (the contract's).
FEE_KEYS = (
    "platform_commission_amount",
    "referral_fee_amount",
    "transaction_fee_amount",
    "affiliate_commission_amount",
    "affiliate_partner_commission_amount",
    "sfp_service_fee_amount",
    "fee_per_item_sold_amount",
)


def expected_settlements(finance: dict[str, dict[str, list[dict]]]) -> list[dict[str, Any]]:
    """What tiktok_order_settlements documents, from the JSON with Decimal: per shop and
    settled order (one with an ORDER transaction), sorted by shop and order."""
    rows = []
    for shop, kinds in sorted(finance.items()):
        statements = {s["id"]: s for s in kinds.get("statements", [])}
        payments = {p["id"]: p for p in kinds.get("payments", [])}
        by_order: dict[str, list[dict]] = defaultdict(list)
        for t in kinds.get("statement_transactions", []):
            order_id = t["order_id"] if t["type"] == "ORDER" else t["associated_order_id"]
            if order_id:
                by_order[order_id].append(t)
        for order_id, txs in sorted(by_order.items()):
            settling = [t for t in txs if t["type"] == "ORDER"]
            if not settling:
                continue
            first = min(
                settling,
                key=lambda t: (statements[t["statement_id"]]["statement_time"], t["statement_id"]),
            )
            statement = statements[first["statement_id"]]
            row: dict[str, Any] = {
                "shop_id": shop,
                "order_id": order_id,
                "currency": first["currency"],
                "statement_id": statement["id"],
                "statement_time": statement["statement_time"],
            }
            fee_dicts = [t["fee_tax_breakdown"]["fee"] for t in txs]
            row["revenue_amount"] = _sum(t["revenue_amount"] for t in txs)
            for key in FEE_KEYS:
                row[key] = _sum(fees.get(key, "0") for fees in fee_dicts)
            row["other_fees_amount"] = _sum(
                v for fees in fee_dicts for k, v in fees.items() if k not in FEE_KEYS
            )
            row["tax_amount"] = _sum(v for t in txs for v in t["fee_tax_breakdown"]["tax"].values())
            for total in (
                "fee_tax_amount",
                "shipping_cost_amount",
                "adjustment_amount",
                "settlement_amount",
            ):
                row[total] = _sum(t[total] for t in txs)
            payment_ = payments.get(statement["payment_id"])
            row["payment_id"] = statement["payment_id"] or None
            row["payment_status"] = statement["payment_status"]
            row["paid_time"] = payment_["paid_time"] if payment_ else None
            rows.append(row)
    return rows
