"""Orders as Get Order List and Get Order Detail serve them: compact JSON bytes, a page at once.

Rendering works on a batch of orders, with arrays rather than Python code per field:

1. the numbers (:class:`PageArrays`): the orders' hashes, lifecycles and states at ``t``
   (:mod:`~tiktok_pipeline.sandbox.orders.arrays`) and random draws;
2. the fixed-width text (ids, timestamps, statuses) written into one byte row per order
   (:class:`~tiktok_pipeline.sandbox.orders.shop_tables.OrderLayout`), optional parts
   zeroed, then read out as segments;
3. the other pieces picked from the shop's tables of pre-encoded texts
   (:class:`~tiktok_pipeline.sandbox.orders.shop_tables.ShopTables`), and the amounts,
   computed with arrays, as text;
4. the line items of the whole batch as one bytes object, cut per order;
5. each order is one ``bytes.join`` of its row of pieces.

Timestamps of 10 digits (2001-09-09 to 2286-11-20) go through the fast layout; a batch with
any other time uses the free-width one (same text, slower).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np

from tiktok_pipeline.sandbox.orders import amounts, arrays
from tiktok_pipeline.sandbox.orders.book import OrderBook
from tiktok_pipeline.sandbox.orders.conventions import (
    CARD_TYPES,
    FAST_DISPATCH_OPTION,
)
from tiktok_pipeline.sandbox.orders.lifecycle import (
    CANCELLED,
    DAY,
    MAX_LIFECYCLE,
    ON_HOLD,
    PATH_UNPAID_CANCEL,
)
from tiktok_pipeline.sandbox.orders.member_texts import REASON_SET_START, REASON_SETS
from tiktok_pipeline.sandbox.orders.shop_tables import (
    DRAW_RADICES,
    MORE_DRAW_RADICES,
    TEN_DIGITS,
    ShopTables,
)

#: At most this many orders go through the arrays at once (bounds temporary memory).
CHUNK = 4096
#: Reason counts per reason set (see ``member_texts.REASON_SETS``).
REASON_COUNTS = np.array([len(reasons) for reasons in REASON_SETS], np.uint64)
#: The third hash's draws: card brand, payment discount roll.
EXTRA_DRAW_RADICES = (len(CARD_TYPES), 100)
#: Mixed into the draws hash to give the third hash (a stream of its own: the older draws keep
#: their values).
EXTRA_DRAW_SALT = np.uint64(0x0D20_0D20_0D20_0D20)


def id_digits(params: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scrambled 10 digits, 2 check digits) of ids, as ``IdCodec.encode`` makes them.

    ``params``: rows of :attr:`ShopTables.id_params` (several codecs may apply to the
    matching rows of ``idx``). The product ``idx * a`` is split so that int64 cannot
    overflow (indices below 9 * 10**13).
    """
    mod = 10_000_000_000
    a_hi, a_lo, b, prefix_mod = (params[..., k, :] for k in range(4))
    x = ((idx * a_hi) % mod * 100_000 + idx * a_lo + b) % mod
    return x, (prefix_mod + x) % 97


@dataclass
class PageArrays:
    """The numbers of a batch of orders at ``t`` (one entry per order).

    ``paid``: the order has been paid (and not cancelled unpaid); ``n_progress``: how many of
    ready to ship, collection and delivery happened; ``asks``: the buyer has asked to cancel;
    ``draws``, ``more``, ``extra``: the random draws of ``shop_tables.DRAW_RADICES``,
    ``MORE_DRAW_RADICES`` and :data:`EXTRA_DRAW_RADICES` (one row per draw);
    ``cancel_key``: the order's entry in the cancel reason tables
    (``member_texts.reason_texts``).
    """

    idx: np.ndarray
    hs: arrays.OrderHashes
    lc: arrays.OrderLifecycles
    st: arrays.OrderStates
    at: arrays.OrderAttributes
    paid: np.ndarray
    n_progress: np.ndarray
    cancelled: np.ndarray
    asks: np.ndarray
    draws: np.ndarray
    more: np.ndarray
    extra: np.ndarray
    cancel_key: np.ndarray

    @classmethod
    def of(cls, book: OrderBook, idx: np.ndarray, t: int) -> PageArrays:
        """The numbers of orders ``idx`` at ``t`` (each must exist at ``t``)."""
        hs = arrays.hashes(book, idx)
        lc = arrays.lifecycles(book, idx, hs)
        st = lc.at(t)
        draws, rest = arrays.radix_digits(hs.draws, DRAW_RADICES)
        more, rest = arrays.radix_digits(arrays.mix64_array(rest ^ hs.draws), MORE_DRAW_RADICES)
        extra, _ = arrays.radix_digits(
            arrays.mix64_array(hs.draws ^ EXTRA_DRAW_SALT), EXTRA_DRAW_RADICES
        )
        unpaid_cancel = lc.path == PATH_UNPAID_CANCEL
        reason_set = np.where(unpaid_cancel, 0, np.where(lc.by == arrays.BY_SELLER, 1, 2))
        reason = (rest % REASON_COUNTS[reason_set]).astype(np.int64)
        # Rts, collection and delivery exist on the normal and on-hold paths.
        reached = (lc.rts <= t).astype(np.int64) + (lc.collect <= t) + (lc.deliver <= t)
        return cls(
            idx=idx,
            hs=hs,
            lc=lc,
            st=st,
            at=arrays.attributes(book, idx, hs),
            paid=~unpaid_cancel & (st.k > 1),
            n_progress=reached * lc.going,
            cancelled=st.status == CANCELLED,
            asks=lc.requested_by(t),
            draws=draws,
            more=more,
            extra=extra,
            cancel_key=(REASON_SET_START[reason_set] + reason) * 3 + lc.by,
        )


class OrderRenderer:
    """Renders the orders of one shop (its tables are made once, here)."""

    def __init__(self, book: OrderBook) -> None:
        self.book = book
        self.tables = ShopTables(book)

    def render(self, indices: Sequence[int], t: int) -> list[bytes]:
        """Orders ``indices`` at ``t`` (each must exist at ``t``), as JSON bytes."""
        idx = np.asarray(indices, dtype=np.int64)
        bodies: list[bytes] = []
        for start in range(0, len(idx), CHUNK):
            bodies += self._render(PageArrays.of(self.book, idx[start : start + CHUNK], t))
        return bodies

    def _render(self, p: PageArrays) -> list[bytes]:
        """The orders of one batch."""
        seg = self._fixed_text(p)
        piece = self._pieces(p)
        sale, original, seller, platform = amounts.line_amounts(self.tables, p.at)
        money, tax_columns = self._amounts(p, sale, original, seller, platform)
        items = self._line_items(p, seg, piece, sale)
        n = len(p.idx)
        tb = self.tables
        columns = [
            seg["head"],
            seg["times"],
            seg["cancel"],
            piece["cancel_rest"],
            seg["request"],
            seg["fast"],
            seg["user"],
            *([piece["cpf_name"]] if "cpf_name" in piece else []),
            piece["fulfilment"],
            piece["flags"],
            seg["packages"],
            seg["tracking"],
            piece["provider"],
            repeat(tb.payment_head),
            money[:n],
            piece["ship_fee"],
            money[n : 2 * n],
            repeat(b'","platform_discount":"'),
            money[2 * n : 3 * n],
            repeat(b'","total_amount":"'),
            money[3 * n : 4 * n],
            repeat(b'","original_total_product_price":"'),
            money[4 * n : 5 * n],
            piece["ship_block"],
            *tax_columns,
            piece["names"],
            seg["phone"],
            piece["number"],
            piece["street_full"],
            piece["unit"],
            piece["number"],
            piece["street_tail"],
            items,
        ]
        return list(map(b"".join, zip(*columns, strict=False)))

    def _fixed_text(self, p: PageArrays) -> dict[str, list[bytes]]:
        """The segments of the orders' fixed-width text (see ``shop_tables.order_layout``)."""
        tb = self.tables
        lc, st, c = p.lc, p.st, p.lc.create_time
        n = len(p.idx)
        # Every time written lies within MAX_LIFECYCLE after creation.
        ten_digits = c.min() >= TEN_DIGITS[0] and c.max() + MAX_LIFECYCLE <= TEN_DIGITS[1]
        layout = tb.layouts[not ten_digits]
        lay = layout.rows
        (order_x, pkg_x, buyer_x), (order_check, pkg_check, buyer_check) = id_digits(
            tb.id_params[:3], np.array((p.idx, p.idx, p.at.buyer))
        )
        paid_at = lc.times[:, 1]  # absent parts take any number: they are cleared below
        rows = lay.new(n)
        lay.put_numbers(
            rows,
            {
                "id": order_x,
                "id_check": order_check,
                "c": c,
                "u": st.update_time,
                "p": paid_at,
                "p1": paid_at + DAY,
                "p2": paid_at + 2 * DAY,
                "p3": paid_at + 3 * DAY,
                "p8": paid_at + 8 * DAY,
                "rts": lc.rts,
                "collect": lc.collect,
                "deliver": lc.deliver,
                "cancel": st.update_time,
                "request": lc.request,
                "buyer": buyer_x,
                "buyer_check": buyer_check,
                "pkg": pkg_x,
                "pkg_check": pkg_check,
                "area": p.more[1] + 200,
                "line": p.more[2] + 1000,
            },
        )
        lay.put_text(rows, "status", st.status)
        lay.put_text(rows, "display", st.status)
        lay.put_text(rows, "package_status", st.status)
        if "invoice" in lay.texts:
            lay.put_text(rows, "invoice", st.status)
        unpaid = ~p.paid
        if unpaid.any():
            sla = layout.unpaid.new(n)
            layout.unpaid.put_numbers(sla, {"sla": c + DAY})
            after = lay.marks["after_u"]
            rows[unpaid, after : after + layout.unpaid.width] = sla[unpaid]
        kept = np.where(p.paid, layout.times_lengths[p.n_progress], layout.unpaid.width)
        lay.keep_prefix(rows, "after_u", kept)
        has_rts = p.n_progress > 0
        lay.keep(rows, "cancel", "cancel", p.cancelled)
        lay.keep(rows, "request", "request", p.asks)
        fast = p.paid & (p.draws[5] == FAST_DISPATCH_OPTION) & tb.fast_dispatch
        lay.keep(rows, "fast", "fast", fast)
        lay.keep(rows, "package_at", "packages", p.paid)
        lay.keep(rows, "tracking_at", "tracking", has_rts)
        lay.keep(rows, "tail_package", "tail_package", p.paid)
        lay.keep(rows, "tail_rts", "tail_rts", has_rts)
        return lay.segments(rows)

    def _pieces(self, p: PageArrays) -> dict[str, list[bytes]]:
        """The pieces of every order picked from the shop's tables."""
        tb = self.tables
        lookup = tb.lookup
        provider, first, last_name, street, number, option, pay_method, message = p.draws
        note, _area, _line, flat = p.more
        at = p.at
        ship_kind = at.tiktok * (1 + ((p.hs.draws & np.uint64(0xF)) == 0))
        street_place = street * tb.n_places + at.place
        provider_or_none = np.where(p.n_progress > 0, provider, lookup.none("provider"))
        n_notes, n_options = MORE_DRAW_RADICES[0], DRAW_RADICES[5]
        fulfilment = ((message * n_notes + note) * 3 + ship_kind) * n_options + option
        flags = (pay_method * 2 + (p.st.status == ON_HOLD)) * 2 + (p.asks & ~p.cancelled)
        names = first * DRAW_RADICES[2] + last_name
        brazil = {"cpf_name": names} if "cpf_name" in lookup.sizes else {}
        return lookup(
            {
                "fulfilment": fulfilment * tb.n_warehouses + at.warehouse,
                "flags": flags * len(CARD_TYPES) + p.extra[0],
                "cancel_rest": np.where(p.cancelled, p.cancel_key, lookup.none("cancel_rest")),
                "provider": provider_or_none,
                "ship_fee": at.ship_class,
                "ship_block": at.ship_class,
                "names": names,
                "number": number + 1,
                "street_full": street_place,
                "unit": flat + 1,
                "street_tail": street_place,
                "tail_provider": provider_or_none,
                "item_cancel": np.where(p.cancelled, p.cancel_key, lookup.none("item_cancel")),
                **brazil,
            }
        )

    def _amounts(
        self,
        p: PageArrays,
        sale: np.ndarray,
        original: np.ndarray,
        seller: np.ndarray,
        platform: np.ndarray,
    ) -> tuple[list[bytes], list]:
        """The payment's amounts as text, and the columns of an order's taxes.

        The amounts: sub total, seller discount, platform discount, total, original price,
        payment platform discount (``n`` each), then (sales tax) tax, product tax, shipping
        tax, retail delivery fee. The other arguments: per unit slot, from
        :func:`~tiktok_pipeline.sandbox.orders.amounts.line_amounts`.

        The payment platform discount is funded by the payment provider and not part of
        ``total_amount`` (the order's price, as the seller is paid on it).
        """
        tb = self.tables
        at = p.at
        n = len(p.idx)
        sub_total = sale.sum(axis=1)
        shipping_fee = amounts.shipping_fee(tb, at)
        tax_bp = tb.place_tax_bp[at.place]
        product_tax = sub_total * tax_bp // 10000
        shipping_tax = shipping_fee * tax_bp // 10000
        rdf = tb.place_rdf[at.place]
        total = sub_total + shipping_fee + product_tax + shipping_tax + rdf
        payment_discount = amounts.payment_discount(tb, total, p.draws[6], p.extra[1])
        values = [
            sub_total,
            seller.sum(axis=1),
            platform.sum(axis=1),
            total,
            original.sum(axis=1),
            payment_discount,
        ]
        if tb.sales_tax:
            values += [product_tax + shipping_tax, product_tax, shipping_tax, rdf]
        texts = tb.money(np.concatenate(values)).tolist()
        tail = [repeat(tb.payment_discount_head), texts[5 * n : 6 * n], repeat(tb.payment_tail)]
        if not tb.sales_tax:
            return texts, [repeat(tb.untaxed), *tail]
        tax_columns = [
            texts[6 * n : 7 * n],
            repeat(b'","product_tax":"'),
            texts[7 * n : 8 * n],
            repeat(b'","shipping_fee_tax":"'),
            texts[8 * n : 9 * n],
            repeat(tb.small_order_fee),
            texts[9 * n :],
            *tail,
        ]
        return texts, tax_columns

    def _line_items(
        self,
        p: PageArrays,
        seg: dict[str, list[bytes]],
        piece: dict[str, list[bytes]],
        sale: np.ndarray,
    ) -> list[bytes]:
        """Every order's line items (the end of its text).

        All of the batch's are joined into one bytes object, then cut per order.
        """
        tb = self.tables
        at = p.at
        n = len(p.idx)
        owner, slot = at.present.nonzero()
        last = slot == at.units[owner] - 1
        line_x, line_check = id_digits(tb.id_params[3], p.idx[owner] * 8 + slot)
        layout = tb.item_layout
        item_rows = layout.new(len(owner))
        layout.put_numbers(item_rows, {"line": line_x, "line_check": line_check})
        # What each item of an order repeats after its own members.
        tails = np.empty(n, object)
        tails[:] = list(
            map(
                b"".join,
                zip(
                    seg["display"],
                    seg["tail_package"],
                    seg["tail_rts"],
                    piece["tail_provider"],
                    piece["item_cancel"],
                    strict=True,
                ),
            )
        )
        fragments = at.promo_kind[owner] * tb.n_sell + at.picks[at.present]
        columns: list = [
            layout.segments(item_rows)["id"],
            tb.item_fragments[fragments].tolist(),
            tails[owner].tolist(),
        ]
        item_len = (
            layout.width
            + tb.item_fragment_len[fragments]
            + np.fromiter(map(len, tails), np.int64, n)[owner]
        )
        if tb.shipping_vat_bp:
            # Without VAT the (zero) amount is part of the items' constant ends.
            vat_texts = tb.money(amounts.shipping_vat(tb, at)[at.present]).tolist()
            columns += [repeat(tb.shipping_vat_head), vat_texts]
            item_len += len(tb.shipping_vat_head) + np.fromiter(
                map(len, vat_texts), np.int64, len(vat_texts)
            )
        if tb.sales_tax:
            item_tax = amounts.item_taxes(tb, at, sale)
            tax_texts = tb.money(item_tax[at.present]).tolist()
            tax_end = at.place[owner] * 2 + last
            columns += [repeat(tb.item_tax_head), tax_texts, tb.item_tax_end[tax_end].tolist()]
            item_len += (
                len(tb.item_tax_head)
                + tb.item_tax_end_len[tax_end]
                + np.fromiter(map(len, tax_texts), np.int64, len(tax_texts))
            )
        else:
            columns.append(tb.item_close[last.astype(np.intp)].tolist())
            item_len += tb.item_close_len[last.astype(np.intp)]
        blob = b"".join(chain.from_iterable(zip(*columns, strict=False)))
        ends = np.cumsum(item_len)[last].tolist()
        return list(map(blob.__getitem__, map(slice, [0, *ends[:-1]], ends)))
