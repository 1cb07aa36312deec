"""A page of orders as numbers: what rendering needs, computed with numpy and handed over as
Python lists (one list per field, one entry per order).

The orders' hashes, lifecycles and states at ``t`` come from
:mod:`~tiktok_pipeline.sandbox.orders.arrays`; the random draws that pick texts (names,
streets, notes, ...) and the ids are derived here the way the one-order model derives them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiktok_pipeline.sandbox.catalog import (
    BUYER_MESSAGES,
    DELIVERY_OPTIONS,
    FIRST_NAMES,
    LAST_NAMES,
    PAYMENT_METHODS,
    SELLER_NOTES,
    SHIPPING_PROVIDERS,
    STREETS,
)
from tiktok_pipeline.sandbox.orders import arrays
from tiktok_pipeline.sandbox.orders.book import OrderBook
from tiktok_pipeline.sandbox.orders.lifecycle import PATH_UNPAID_CANCEL
from tiktok_pipeline.sandbox.rng import IdCodec

#: How many values each random draw of an order has, in the order they come off its hash:
#: shipping provider, first name, last name, street, house number, delivery option, payment
#: method, buyer message.
DRAW_RADICES = (
    len(SHIPPING_PROVIDERS),
    len(FIRST_NAMES),
    len(LAST_NAMES),
    len(STREETS),
    9999,
    len(DELIVERY_OPTIONS),
    len(PAYMENT_METHODS),
    len(BUYER_MESSAGES),
)
#: And those of the second hash (the seller note, the phone number, the flat).
MORE_DRAW_RADICES = (len(SELLER_NOTES), 790, 9000, 40)


def id_numbers(codec: IdCodec, index: np.ndarray) -> np.ndarray:
    """The ids of ``index`` as integers whose decimal text is the id (``IdCodec.encode``).

    The prefix never starts with 0, so ``prefix * 10**(digits + 2) + scrambled * 100 +
    check`` prints as the id. The product ``index * a`` is split so that int64 cannot
    overflow.
    """
    mod = codec.mod
    a_hi, a_lo = divmod(codec.a, 100_000)
    x = ((index * a_hi) % mod * 100_000 + index * a_lo + codec.b) % mod
    check = (int(codec.prefix) * mod % 97 + x) % 97
    return int(codec.prefix) * mod * 100 + x * 100 + check


@dataclass
class PageNumbers:
    """Everything numeric about a page of orders at a time ``t``, as Python lists.

    Times are 0 where the order has not reached that point (``paid``, ``rts``, ...);
    ``picks``: the sellable SKU of each line item.
    """

    order_id: list[int]
    package_id: list[int]
    buyer_id: list[int]
    line_ids: list[list[int]]
    create_time: list[int]
    status: list[int]
    update_time: list[int]
    paid: list[int]
    rts: list[int]
    collected: list[int]
    delivered: list[int]
    requested: list[int]
    cancel_by: list[int]
    unpaid_cancel: list[bool]
    draws: list[list[int]]
    reason_draw: list[int]
    by_tiktok: list[int]
    warehouse: list[int]
    place: list[int]
    promo: list[int]
    ship_class: list[int]
    picks: list[list[int]]

    @classmethod
    def of(cls, book: OrderBook, idx: np.ndarray, t: int) -> PageNumbers:
        """The numbers of orders ``idx`` at ``t`` (each must exist at ``t``)."""
        hs = arrays.hashes(book, idx)
        lc = arrays.lifecycles(book, idx, hs)
        st = lc.at(t)
        at = arrays.attributes(book, idx, hs)
        draws, rest = arrays.radix_digits(hs.draws, DRAW_RADICES)
        more, rest = arrays.radix_digits(arrays.mix64_array(rest ^ hs.draws), MORE_DRAW_RADICES)
        unpaid_cancel = lc.path == PATH_UNPAID_CANCEL
        paid = ~unpaid_cancel & (st.k > 1)
        # Where rts, collection and delivery exist (normal and on-hold paths) and are past.
        going = lc.going

        def reached(times: np.ndarray) -> list[int]:
            return np.where(going & (times <= t), times, 0).tolist()

        units = np.arange(arrays.MAX_UNITS)
        line_ids = id_numbers(book.line_codec, idx[:, None] * 8 + units).tolist()
        picks = at.picks.tolist()
        counts = at.units.tolist()
        return cls(
            order_id=id_numbers(book.codec, idx).tolist(),
            package_id=id_numbers(book.package_codec, idx).tolist(),
            buyer_id=id_numbers(book.buyer_codec, at.buyer).tolist(),
            line_ids=[ids[:n] for ids, n in zip(line_ids, counts, strict=True)],
            create_time=lc.create_time.tolist(),
            status=st.status.tolist(),
            update_time=st.update_time.tolist(),
            paid=np.where(paid, lc.times[:, 1], 0).tolist(),
            rts=reached(lc.rts),
            collected=reached(lc.collect),
            delivered=reached(lc.deliver),
            requested=np.where((lc.request > 0) & (lc.request <= t), lc.request, 0).tolist(),
            cancel_by=lc.by.tolist(),
            unpaid_cancel=unpaid_cancel.tolist(),
            draws=np.concatenate((draws, more)).T.tolist(),
            reason_draw=rest.tolist(),
            by_tiktok=(at.tiktok * (1 + ((hs.draws & np.uint64(0xF)) == 0))).tolist(),
            warehouse=at.warehouse.tolist(),
            place=at.place.tolist(),
            promo=at.promo_kind.tolist(),
            ship_class=at.ship_class.tolist(),
            picks=[p[:n] for p, n in zip(picks, counts, strict=True)],
        )
