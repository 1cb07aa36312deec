"""Finance data derived from the orders: daily statements, payments, withdrawals, transactions.

An order settles when it reaches COMPLETED. The statement generated at day D 00:00 UTC holds
the orders completed during the previous day. Amounts (minor units, signed):
``revenue = sub_total + platform_discount`` (the platform funds its own discounts),
``fee_tax = -(6% commission + 2% transaction fee of revenue)``,
``shipping_cost = -shipping_fee_seller_discount``,
``settlement = revenue + fee_tax + shipping_cost (+ adjustment)``.
Refunds are not deducted (a simplification, see docs/sandbox.md).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from tiktok_pipeline.sandbox.catalog import money
from tiktok_pipeline.sandbox.orders import COMPLETED, MAX_LIFECYCLE, Lifecycle, OrderBook
from tiktok_pipeline.sandbox.rng import IdCodec, mix64
from tiktok_pipeline.sandbox.shops import ShopContext

DAY = 86400


@dataclass(slots=True)
class OrderSettlement:
    """What one settled order contributes to its statement (minor units)."""

    order_index: int
    completed: int
    revenue: int
    fee_tax: int
    shipping_cost: int

    @property
    def settlement(self) -> int:
        """The order's settlement amount."""
        return self.revenue + self.fee_tax + self.shipping_cost


@dataclass(slots=True)
class Statement:
    """A daily statement (minor units)."""

    day: int
    revenue: int
    fee_tax: int
    shipping_cost: int
    adjustment: int
    order_count: int

    @property
    def statement_time(self) -> int:
        """00:00 UTC of the statement day."""
        return self.day * DAY

    @property
    def settlement(self) -> int:
        """The statement's settlement amount."""
        return self.revenue + self.fee_tax + self.shipping_cost + self.adjustment


class FinanceBook:
    """Statements, payments and withdrawals of one shop."""

    def __init__(self, ctx: ShopContext, orders: OrderBook) -> None:
        self.ctx = ctx
        self.orders = orders
        self.statement_codec: IdCodec = ctx.codec("7238", 10, 0xF101)
        self.payment_codec: IdCodec = ctx.codec("3458", 10, 0xF102)
        self.transaction_codec: IdCodec = ctx.codec("1636", 10, 0xF103)
        self.adjustment_codec: IdCodec = ctx.codec("7239", 10, 0xF104)
        self.withdrawal_codec: IdCodec = ctx.codec("5018", 10, 0xF105)
        self._statements: dict[int, Statement] = {}
        self._lock = threading.Lock()

    @property
    def first_day(self) -> int:
        """The day number of the first statement."""
        return self.ctx.start // DAY + 1

    def settlement_of(self, i: int, lc: Lifecycle | None = None) -> OrderSettlement | None:
        """The settlement of order ``i`` (None when it never completes); ``lc``: its lifecycle,
        when the caller has it already."""
        lc = lc or self.orders.lifecycle(i)
        if lc.statuses[-1] != COMPLETED:
            return None
        b = self.orders.base(i)
        sub_total = sum(it.sale for it in b.items)
        platform = sum(it.platform_discount for it in b.items)
        revenue = sub_total + platform
        fee = -(revenue * 8 // 100)
        return OrderSettlement(i, lc.times[-1], revenue, fee, -b.shipping_seller_discount)

    def statement(self, day: int) -> Statement:
        """The statement of ``day`` (cached: a past day never changes)."""
        return self.statements([day])[0]

    def statements(self, days: list[int]) -> list[Statement]:
        """Statements of several days, computing the missing ones in one sweep of the orders."""
        missing = sorted(d for d in set(days) if d not in self._statements)
        if missing:
            self._compute(missing[0], missing[-1])
        return [self._statements[d] for d in days]

    def _compute(self, first_day: int, last_day: int) -> None:
        books = self.orders
        t0 = (first_day - 1) * DAY
        t1 = last_day * DAY
        sums: dict[int, list[int]] = {d: [0, 0, 0, 0] for d in range(first_day, last_day + 1)}
        for i in range(books.first_at_or_after(t0 - MAX_LIFECYCLE), books.first_at_or_after(t1)):
            lc = books.lifecycle(i)
            done = lc.times[-1]
            if lc.statuses[-1] != COMPLETED or not t0 <= done < t1:
                continue
            s = self.settlement_of(i, lc)
            if s is None:  # cannot happen for a completed order; keeps the types honest
                continue
            acc = sums[done // DAY + 1]
            acc[0] += s.revenue
            acc[1] += s.fee_tax
            acc[2] += s.shipping_cost
            acc[3] += 1
        with self._lock:
            for day, (revenue, fee, shipping, count) in sums.items():
                h = mix64(self.ctx.base(0xF1AD) + day)
                adjustment = 0
                if h % 7 == 0 and count:
                    adjustment = (h >> 8) % max(1, revenue // 50 + 1)
                self._statements[day] = Statement(day, revenue, fee, shipping, adjustment, count)

    def statement_orders(self, day: int) -> list[int]:
        """The orders settled in a day's statement, by create time."""
        books = self.orders
        t1 = day * DAY
        t0 = t1 - DAY
        out = []
        for i in range(books.first_at_or_after(t0 - MAX_LIFECYCLE), books.first_at_or_after(t1)):
            lc = books.lifecycle(i)
            if lc.statuses[-1] == COMPLETED and t0 <= lc.times[-1] < t1:
                out.append(i)
        return out

    def days_until(self, t: int) -> range:
        """Day numbers of the statements generated at or before ``t``."""
        return range(self.first_day, t // DAY + 1)

    def statement_id(self, day: int) -> str:
        """The id of a day's statement."""
        return self.statement_codec.encode(day)

    def day_of_statement(self, statement_id: str) -> int | None:
        """The day number of a statement id, or None."""
        return self.statement_codec.decode(statement_id)

    @staticmethod
    def payment_status(day: int, t: int) -> str:
        """PAID two days after the statement, PROCESSING before."""
        return "PAID" if (day + 2) * DAY <= t else "PROCESSING"

    def render_statement(self, s: Statement, t: int) -> dict:
        """A Get Statements entry."""
        dec = self.ctx.region.decimals
        return {
            "id": self.statement_id(s.day),
            "statement_time": s.statement_time,
            "settlement_amount": money(s.settlement, dec),
            "currency": self.ctx.region.currency,
            "revenue_amount": money(s.revenue, dec),
            "fee_amount": money(s.fee_tax, dec),
            "adjustment_amount": money(s.adjustment, dec),
            "shipping_cost_amount": money(s.shipping_cost, dec),
            "net_sales_amount": money(s.revenue, dec),
            "payment_status": self.payment_status(s.day, t),
            "payment_id": self.payment_codec.encode(s.day),
        }

    def render_payment(self, s: Statement, t: int) -> dict:
        """A Get Payments entry (one payment per statement)."""
        dec = self.ctx.region.decimals
        cur = self.ctx.region.currency
        amount = {"value": money(s.settlement, dec), "currency": cur}
        status = self.payment_status(s.day, t)
        out = {
            "create_time": s.statement_time + 3600,
            "id": self.payment_codec.encode(s.day),
            "status": status,
            "amount": amount,
            "settlement_amount": dict(amount),
            "reserve_amount": {"value": money(0, dec), "currency": cur},
            "payment_amount_before_exchange": dict(amount),
            "exchange_rate": "1.000000",
            "bank_account": "***********1234",
        }
        if status == "PAID":
            out["paid_time"] = s.statement_time + 2 * DAY
        return out

    def render_withdrawal(self, s: Statement) -> dict:
        """A Get Withdrawals entry (the settlement of each statement)."""
        return {
            "id": self.withdrawal_codec.encode(s.day),
            "type": "SETTLE",
            "amount": money(s.settlement, self.ctx.region.decimals),
            "currency": self.ctx.region.currency,
            "status": "SUCCESS",
            "create_time": s.statement_time + 7200,
        }

    def render_order_transaction(self, s: OrderSettlement, statement_day: int) -> dict:
        """A statement transaction of type ORDER."""
        dec = self.ctx.region.decimals
        b = self.orders.base(s.order_index)
        return {
            "id": self.transaction_codec.encode(s.order_index),
            "type": "ORDER",
            "order_id": b.id,
            "order_create_time": b.create_time,
            "currency": self.ctx.region.currency,
            "settlement_amount": money(s.settlement, dec),
            "revenue_amount": money(s.revenue, dec),
            "fee_tax_amount": money(s.fee_tax, dec),
            "shipping_cost_amount": money(s.shipping_cost, dec),
            "adjustment_amount": money(0, dec),
            "statement_id": self.statement_id(statement_day),
        }

    def order_transactions(self, i: int, t: int) -> dict | None:
        """Get Transactions by Order's data, or None when the order has not settled by ``t``."""
        s = self.settlement_of(i)
        if s is None or s.completed > t:
            return None
        day = s.completed // DAY + 1
        if day * DAY > t:
            return None
        dec = self.ctx.region.decimals
        b = self.orders.base(i)
        catalog = self.orders.catalog
        skus = []
        for it in b.items:
            revenue = it.sale + it.platform_discount
            fee = -(revenue * 8 // 100)
            skus.append(
                {
                    "sku_id": it.sku.id,
                    "sku_name": f"{it.sku.attr_name}: {it.sku.attr_value}",
                    "product_name": catalog.products[it.sku.product_index].title,
                    "statement_id": self.statement_id(day),
                    "quantity": "1",
                    "settlement_amount": money(revenue + fee, dec),
                    "revenue_amount": money(revenue, dec),
                    "fee_tax_amount": money(fee, dec),
                    "revenue_breakdown": {
                        "subtotal_before_discount_amount": money(it.original, dec),
                        "seller_discount_amount": money(-it.seller_discount, dec),
                        "refund_subtotal_before_discount_amount": money(0, dec),
                        "seller_discount_refund_amount": money(0, dec),
                    },
                }
            )
        return {
            "order_id": b.id,
            "order_create_time": b.create_time,
            "currency": self.ctx.region.currency,
            "revenue_amount": money(s.revenue, dec),
            "fee_and_tax_amount": money(s.fee_tax, dec),
            "shipping_cost_amount": money(s.shipping_cost, dec),
            "settlement_amount": money(s.settlement, dec),
            "sku_transactions": skus,
        }
