"""Finance derived from the orders: settlements, daily statements, adjustments and payouts.

An order settles when it reaches COMPLETED: the statement generated at day D 00:00 UTC holds
the orders completed during day D-1 (one ORDER transaction each) and that day's adjustments
(one transaction each). Amounts are signed minor units, as fixed-order parts lists
(:mod:`~tiktok_pipeline.sandbox.fees`): per SKU line the revenue (list price, seller
discount, refunds), the region's fees and the tax on them; per order the shipping
(``customer_paid + platform_discount - actual = -shipping_fee_seller_discount``, plus return
shipping). A refund granted before the order completed is deducted in its ORDER
transaction; one granted later is not charged back (see docs/sandbox.md).

Every statement has one payment (created with the statement, paid out after the region's
payout delay, a few FAILED) and two withdrawal entries: SETTLE (+settlement) and WITHDRAW
(minus the payment, moving from PROCESSING to SUCCESS or FAILED with the payment).
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tiktok_pipeline.sandbox import fees
from tiktok_pipeline.sandbox.fees import FeeSchedule
from tiktok_pipeline.sandbox.orders import COMPLETED, MAX_LIFECYCLE, OrderBook
from tiktok_pipeline.sandbox.orders import arrays as order_arrays
from tiktok_pipeline.sandbox.returns import ReturnBook
from tiktok_pipeline.sandbox.rng import IdCodec, mix64
from tiktok_pipeline.sandbox.settlements import BatchParts, SettlementCalculator
from tiktok_pipeline.sandbox.shops import ShopContext

DAY = 86400
#: Transaction numbers of adjustments start here (order transactions use the order index).
ADJUSTMENT_BASE = 9_000_000_000
#: At most this many adjustments per statement.
MAX_ADJUSTMENTS = 4
#: Orders per vectorised lifecycle batch in a statement sweep.
SWEEP_BATCH = 16384
REFUND_GRANTED = "RETURN_OR_REFUND_REQUEST_SUCCESS"


@dataclass(slots=True)
class OrderSettlement:
    """What one order contributes to its statement: parts per SKU line and in total."""

    order_index: int
    create_time: int
    settle_time: int
    lines: list[list[int]]
    parts: list[int]

    @property
    def revenue(self) -> int:
        """Revenue (minor units)."""
        return sum(self.parts[fees.REVENUE])

    @property
    def fee_tax(self) -> int:
        """Fees and taxes (negative)."""
        return sum(self.parts[fees.FEE_TAX])

    @property
    def shipping_cost(self) -> int:
        """Shipping cost."""
        return sum(self.parts[fees.SHIPPING])

    @property
    def settlement(self) -> int:
        """The order's settlement amount (its contributory parts)."""
        return fees.settlement(self.parts)

    @property
    def statement_day(self) -> int:
        """The day number of the statement holding it."""
        return self.settle_time // DAY


@dataclass(frozen=True, slots=True)
class Adjustment:
    """An adjustment transaction of a statement (``order_index`` -1: not tied to an order)."""

    day: int
    number: int
    type: str
    order_index: int
    amount: int

    @property
    def entity(self) -> int:
        """Its transaction number."""
        return ADJUSTMENT_BASE + self.day * MAX_ADJUSTMENTS + self.number


@dataclass(slots=True)
class Statement:
    """A daily statement: sums (minor units), its orders (ascending index, so create time)
    and its adjustments."""

    day: int
    revenue: int
    fee_tax: int
    shipping_cost: int
    adjustment: int
    orders: array
    adjustments: tuple[Adjustment, ...]

    @property
    def statement_time(self) -> int:
        """00:00 UTC of the statement day."""
        return self.day * DAY

    @property
    def settlement(self) -> int:
        """The statement's settlement amount."""
        return self.revenue + self.fee_tax + self.shipping_cost + self.adjustment

    def entries(self) -> list[int]:
        """Transaction numbers by order create time: adjustments without an order first, then
        each order followed by the adjustments tied to it."""
        tied: dict[int, list[int]] = {}
        out = []
        for a in self.adjustments:
            if a.order_index < 0:
                out.append(a.entity)
            else:
                tied.setdefault(a.order_index, []).append(a.entity)
        for i in self.orders:
            out.append(i)
            out.extend(tied.get(i, ()))
        return out

    def adjustment_of(self, entity: int) -> Adjustment | None:
        """The adjustment with transaction number ``entity``."""
        for a in self.adjustments:
            if a.entity == entity:
                return a
        return None


class FinanceBook:
    """Settlements, statements, payments and withdrawals of one shop."""

    def __init__(self, ctx: ShopContext, orders: OrderBook, returns: ReturnBook) -> None:
        """``returns``: the shop's returns, whose refunds settle with their orders."""
        self.ctx = ctx
        self.orders = orders
        self.returns = returns
        self.schedule: FeeSchedule = fees.fee_schedule(ctx.region.code)
        self.calculator = SettlementCalculator(
            orders, self.schedule, ctx.base(0xF1A0), self.refund_of
        )
        self.statement_codec: IdCodec = ctx.codec("7238", 10, 0xF101)
        self.payment_codec: IdCodec = ctx.codec("3458", 10, 0xF102)
        self.transaction_codec: IdCodec = ctx.codec("1636", 10, 0xF103)
        self.adjustment_codec: IdCodec = ctx.codec("7239", 10, 0xF104)
        self.withdrawal_codec: IdCodec = ctx.codec("5018", 10, 0xF105)
        self.base_adjustment = ctx.base(0xF1AD)
        self.base_payout = ctx.base(0xF1B0)
        self._statements: dict[int, Statement] = {}
        self._lock = threading.Lock()

    @property
    def first_day(self) -> int:
        """The day number of the first statement."""
        return self.ctx.start // DAY + 1

    # -- orders -------------------------------------------------------------------------------

    def refund_of(self, i: int) -> tuple[int, int, bool] | None:
        """(granted time, refunded line count, seller pays return shipping) of order ``i``'s
        refund, if its return grants one."""
        if not self.orders.is_return_pick(i):
            return None
        rlc = self.returns.lifecycle(i // self.orders.return_every)
        if REFUND_GRANTED not in rlc.statuses:
            return None
        granted = rlc.times[rlc.statuses.index(REFUND_GRANTED)]
        return granted, rlc.item_count, rlc.return_type == "RETURN_AND_REFUND"

    def batch_parts(self, indices: Sequence[int], refund_cutoffs: Sequence[int]) -> BatchParts:
        """Settlement parts of several orders, deducting refunds granted at or before each
        order's cutoff."""
        return self.calculator.parts(
            np.asarray(indices, np.int64), np.asarray(refund_cutoffs, np.int64)
        )

    def settlements(self, indices: Sequence[int]) -> list[OrderSettlement | None]:
        """The settlements of orders (None for an order that never completes)."""
        lcs = [self.orders.lifecycle(i) for i in indices]
        done = [lc.times[-1] for lc in lcs]
        parts = self.batch_parts(indices, done)
        out: list[OrderSettlement | None] = []
        for n, (i, lc) in enumerate(zip(indices, lcs, strict=True)):
            if lc.statuses[-1] != COMPLETED:
                out.append(None)
                continue
            units = int(parts.units[n])
            out.append(
                OrderSettlement(
                    i,
                    lc.times[0],
                    (done[n] // DAY + 1) * DAY,
                    parts.lines[n, :units].tolist(),
                    parts.orders[n].tolist(),
                )
            )
        return out

    def settlement_of(self, i: int) -> OrderSettlement | None:
        """The settlement of order ``i`` (None when it never completes)."""
        return self.settlements([i])[0]

    # -- statements ---------------------------------------------------------------------------

    def statement(self, day: int) -> Statement:
        """The statement of ``day`` (cached: a past day never changes)."""
        return self.statements([day])[0]

    def statements(self, days: list[int]) -> list[Statement]:
        """Statements of several days, computing each run of consecutive missing days in one
        sweep of the orders (the days already cached are not computed again)."""
        missing = sorted(d for d in set(days) if d not in self._statements)
        first = 0
        for at, day in enumerate(missing):
            if at + 1 == len(missing) or missing[at + 1] != day + 1:
                self._compute(missing[first], day)
                first = at + 1
        return [self._statements[d] for d in days]

    def _completed_between(self, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices, completion times) of the orders completed in [t0, t1), by completion
        day, then index."""
        books = self.orders
        lo = books.first_at_or_after(t0 - MAX_LIFECYCLE)
        hi = books.first_at_or_after(t1)
        found_idx = []
        found_done = []
        for start in range(lo, hi, SWEEP_BATCH):
            idx = np.arange(start, min(hi, start + SWEEP_BATCH), dtype=np.int64)
            lcs = order_arrays.lifecycles(books, idx)
            last = (lcs.times != order_arrays.NEVER).sum(axis=1) - 1
            done = lcs.times[np.arange(len(idx)), last]
            hit = lcs.going & (done >= t0) & (done < t1)
            found_idx.append(idx[hit])
            found_done.append(done[hit])
        if not found_idx:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        idx, done = np.concatenate(found_idx), np.concatenate(found_done)
        order = np.lexsort((idx, done // DAY))
        return idx[order], done[order]

    def _compute(self, first_day: int, last_day: int) -> None:
        idx, done = self._completed_between((first_day - 1) * DAY, last_day * DAY)
        days = done // DAY + 1
        totals = np.zeros((len(idx), 3), np.int64)
        for lo in range(0, len(idx), SWEEP_BATCH):
            hi = lo + SWEEP_BATCH
            parts = self.calculator.parts(idx[lo:hi], done[lo:hi]).orders
            totals[lo:hi, 0] = parts[:, fees.REVENUE].sum(axis=1)
            totals[lo:hi, 1] = parts[:, fees.FEE_TAX].sum(axis=1)
            totals[lo:hi, 2] = parts[:, fees.SHIPPING].sum(axis=1)
        bounds = np.searchsorted(days, np.arange(first_day, last_day + 2))
        computed = {}
        for day in range(first_day, last_day + 1):
            lo, hi = bounds[day - first_day], bounds[day - first_day + 1]
            members = idx[lo:hi].tolist()
            revenue_of = dict(zip(members, totals[lo:hi, 0].tolist(), strict=True))
            revenue, fee_tax, shipping = (int(x) for x in totals[lo:hi].sum(axis=0))
            adjustments = self._adjustments(day, members, revenue_of)
            computed[day] = Statement(
                day,
                revenue,
                fee_tax,
                shipping,
                sum(a.amount for a in adjustments),
                array("q", members),
                adjustments,
            )
        with self._lock:
            self._statements.update(computed)

    def _adjustments(
        self, day: int, orders: list[int], revenue_of: dict[int, int]
    ) -> tuple[Adjustment, ...]:
        """A day's adjustments: none on about half the days, else one to three."""
        h = mix64(self.base_adjustment + day)
        count = (0, 0, 0, 0, 1, 1, 2, 3)[h & 7]
        scale = self.ctx.region.shipping_fee
        out = []
        for j in range(count):
            hj = mix64(h + j + 1)
            roll = hj % 100
            order = orders[(hj >> 8) % len(orders)] if orders else -1
            amount_roll = (hj >> 32) % 1000
            if order < 0 or roll < 25:
                kind, order = "PLATFORM_REIMBURSEMENT", -1
                amount = scale * (200 + amount_roll) // 1000
            elif roll < 55:
                kind = "LOGISTICS_REIMBURSEMENT"
                amount = scale * (1000 + 3 * amount_roll) // 1000
            elif roll < 90 or len(orders) < 5:
                kind = "SHIPPING_FEE_ADJUSTMENT"
                amount = scale * (amount_roll - 600) // 1000
            else:
                kind = "CHARGE_BACK"
                amount = -revenue_of[order]
            out.append(Adjustment(day, j, kind, order, amount))
        return tuple(out)

    def days_until(self, t: int) -> range:
        """Day numbers of the statements generated at or before ``t``."""
        return range(self.first_day, t // DAY + 1)

    def statement_id(self, day: int) -> str:
        """The id of a day's statement."""
        return self.statement_codec.encode(day)

    def day_of_statement(self, statement_id: str) -> int | None:
        """The day number of a statement id, or None."""
        return self.statement_codec.decode(statement_id)

    # -- payments and withdrawals -------------------------------------------------------------

    def paid_time(self, day: int) -> int:
        """When the payment of a day's statement is paid out (or fails)."""
        h = mix64(self.base_payout + day)
        return (day + self.schedule.payout_days) * DAY + 3600 + (h >> 16) % (8 * 3600)

    def payment_fails(self, day: int) -> bool:
        """True for the few payments the bank rejects (one in 40)."""
        return mix64(self.base_payout + day) % 40 == 0

    def payment_status(self, day: int, t: int) -> str:
        """The status at ``t`` of the payment of a day's statement (created with it)."""
        if t < self.paid_time(day):
            return "PROCESSING"
        return "FAILED" if self.payment_fails(day) else "PAID"

    def payment_id(self, day: int) -> str:
        """The id of a day's payment."""
        return self.payment_codec.encode(day)
