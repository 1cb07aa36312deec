"""Orders rendered in batches: the serving path of the order endpoints.

Produces exactly the bytes of the one-order reference renderer
(:meth:`~tiktok_pipeline.sandbox.orders.OrderBook.render_bytes`), from the same hashes
(:mod:`~tiktok_pipeline.sandbox.order_arrays`), at a fraction of the cost per order: the
numbers of a batch are computed with array arithmetic, the fixed-width parts of its text
(ids, timestamps) are written into one byte matrix (:mod:`~tiktok_pipeline.sandbox.text_rows`),
the rest are pre-encoded pieces picked from per-shop tables, and every order is then one
``bytes.join`` of its row of pieces (no Python code per field). Tests compare both renderers
over many orders, times and regions; a batch whose numbers do not fit the layouts
(timestamps outside 2001-2286) is rendered by the reference.
"""

from __future__ import annotations

import threading
from itertools import chain, repeat
from typing import TYPE_CHECKING

import numpy as np

from tiktok_pipeline.sandbox import order_arrays as oa
from tiktok_pipeline.sandbox.catalog import (
    BUYER_CANCEL_REASONS,
    BUYER_MESSAGES,
    DELIVERY_OPTIONS,
    FIRST_NAMES,
    LAST_NAMES,
    PAYMENT_METHODS,
    SELLER_CANCEL_REASONS,
    SELLER_NOTES,
    SHIPPING_PROVIDERS,
    STREETS,
    UNPAID_CANCEL_REASONS,
    US_RETAIL_DELIVERY_FEE,
    US_TAX_BP,
    money,
)
from tiktok_pipeline.sandbox.order_arrays import DAY
from tiktok_pipeline.sandbox.orders import (
    _BOOL,
    _BUYER_MESSAGES,
    _FIRST_NAMES,
    _LAST_NAMES,
    _SELLER_NOTES,
    DISPLAY_STATUS,
    PACKAGE_STATUS,
    STATUS_NAMES,
)
from tiktok_pipeline.sandbox.text_rows import (
    MoneyText,
    RowLayout,
    TextTable,
    UnusualValues,
    table,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tiktok_pipeline.sandbox.orders import OrderBook

#: At most this many orders go through the arrays at once (bounds temporary memory).
CHUNK = 4096
#: Timestamps have 10 digits from 2001-09-09 to 2286-11-20.
TIME_LO = 1_000_000_000
TIME_HI = 10_000_000_000
#: Who cancelled, by ``OrderLifecycles.by``.
CANCELLED_BY = ("BUYER", "SYSTEM", "SELLER")
#: Cancel reasons: unpaid orders, cancelled by the seller, by the buyer.
REASON_SETS = (UNPAID_CANCEL_REASONS, SELLER_CANCEL_REASONS, BUYER_CANCEL_REASONS)


def render_orders(book: OrderBook, indices: Sequence[int] | np.ndarray, t: int
                  ) -> tuple[list[bytes], list[int], list[int]]:
    """Orders ``indices`` at ``t``: (bodies, valid_from, valid_until), like ``render_bytes``.

    Every order must exist at ``t``. ``valid_until`` is ``order_arrays.NEVER`` for an order
    that will not change any more.
    """
    idx = np.asarray(indices, dtype=np.int64)
    parts = [idx[start : start + CHUNK] for start in range(0, len(idx), CHUNK)]
    bodies: list[bytes] = []
    valid_from: list[int] = []
    valid_until: list[int] = []
    for part in parts:
        try:
            chunk = _render_chunk(book, part, t)
        except UnusualValues:
            slow = [book.render_bytes(i, t) for i in part.tolist()]
            chunk = (
                [s[0] for s in slow],
                [s[1] for s in slow],
                [oa.NEVER if s[2] == float("inf") else s[2] for s in slow],
            )
        bodies += chunk[0]
        valid_from += chunk[1]
        valid_until += chunk[2]
    return bodies, valid_from, valid_until


class BookTables:
    """One shop's layouts and pre-encoded pieces (built once, on its first batch)."""

    def __init__(self, book: OrderBook) -> None:
        reg = book.region
        for codec in (book.codec, book.package_codec, book.buyer_codec, book.line_codec):
            if codec.digits != 10:
                raise ValueError("the batch renderer expects ids with 10 scrambled digits")
        self.money = MoneyText(reg.decimals)
        sellable = book.catalog.sellable
        self.n_sell = len(sellable)
        self.sku_price = np.array([s.price for s in sellable], np.int64)
        self.unit = reg.rounding
        self.n_places = len(reg.places)
        self.sales_tax = reg.sales_tax
        self.place_tax_bp = np.array(
            [US_TAX_BP.get(p[2], 600) if reg.sales_tax else 0 for p in reg.places], np.int64
        )
        self.place_rdf = np.array(
            [US_RETAIL_DELIVERY_FEE.get(p[2], 0) if reg.sales_tax else 0 for p in reg.places],
            np.int64,
        )
        self.n_warehouses = len(book.warehouses)
        self.draw_radices = (len(SHIPPING_PROVIDERS), len(FIRST_NAMES), len(LAST_NAMES),
                             len(STREETS), 9999, len(DELIVERY_OPTIONS), len(PAYMENT_METHODS),
                             len(BUYER_MESSAGES))
        # Per id codec (order, package, buyer, line item): a // 10**5, a % 10**5, b and the
        # prefix's contribution to the check digits (see IdCodec.encode).
        self.id_params = np.array(
            [[c.a // 100_000, c.a % 100_000, c.b, int(c.prefix) * c.mod % 97]
             for c in (book.codec, book.package_codec, book.buyer_codec, book.line_codec)],
            np.int64,
        )[:, :, None]
        ship = reg.shipping_fee
        half = ((ship // 2) // self.unit) * self.unit
        #: (seller, platform) shipping discounts per shipping class.
        self.ship_discounts = np.array(((0, ship), (ship, 0), (half, ship - half), (0, 0)),
                                       np.int64)
        self.shipping_original = ship
        self._layouts(book)
        self._items(book)
        self._pieces(book)

    def _layouts(self, book: OrderBook) -> None:
        """The order's fixed-width text: segments, each ending where the text may end early."""
        pkg_prefix = book.package_codec.prefix
        lay = RowLayout()
        lay.text('{"id":"' + book.codec.prefix).number("id", 10).number("id_check", 2)
        lay.text('","status":"').pick(
            "status", TextTable([f'{name}","create_time":' for name in STATUS_NAMES]))
        lay.end("head")
        lay.number("c", 10).text(',"update_time":').number("u", 10).mark("after_u")
        lay.text(',"paid_time":').number("p", 10).text(',"rts_sla_time":').number("p2", 10)
        lay.text(',"tts_sla_time":').number("p3", 10).text(',"shipping_due_time":')
        lay.number("p2b", 10, source="p2").text(',"collection_due_time":')
        lay.number("p3b", 10, source="p3").text(',"delivery_due_time":').number("p8", 10)
        lay.text(',"delivery_sla_time":').number("p8b", 10, source="p8").mark("progress_0")
        lay.text(',"rts_time":').number("rts", 10).mark("progress_1")
        lay.text(',"collection_time":').number("collect", 10).mark("progress_2")
        lay.text(',"delivery_time":').number("deliver", 10).end("times")
        # After update_time: the paid times and 0-3 of rts/collection/delivery times, or
        # (unpaid orders) the cancel deadline written over their start.
        after = lay.marks["after_u"]
        self.times_lengths = np.array(
            [lay.marks["progress_0"] - after, lay.marks["progress_1"] - after,
             lay.marks["progress_2"] - after, lay.width - after])
        self.unpaid_text = np.frombuffer(b',"cancel_order_sla_time":', np.uint8)
        self.unpaid_width = len(self.unpaid_text) + 10
        lay.text(',"cancel_time":').number("cancel", 10).text(',"cancel_reason":"')
        lay.end("cancel")
        lay.text(',"request_cancel_time":').number("request", 10).end("request")
        lay.text(',"user_id":"' + book.buyer_codec.prefix).number("buyer", 10)
        lay.number("buyer_check", 2).text('","buyer_email":"')
        lay.number("email", 6, source="buyer")
        lay.number("email_check", 2, source="buyer_check").text('@scs.tiktokw.us",')
        lay.end("user")
        lay.text('"packages":[').mark("package_at").text('{"id":"' + pkg_prefix)
        lay.number("pkg", 10).number("pkg_check", 2).text('"}').end("packages")
        lay.text("]").mark("tracking_at").text(',"tracking_number":"TT')
        lay.number("trk", 10, source="pkg")
        lay.number("trk_check", 2, source="pkg_check").text('"').end("tracking")
        lay.number("area", 3).text("-***-").number("line", 4).text('","full_address":"')
        lay.end("phone")
        # What every line item of an order repeats after its own members.
        lay.text(',"display_status":"').pick(
            "display", TextTable([f'{d}"' for d in DISPLAY_STATUS])).end("display")
        lay.text(',"package_id":"' + pkg_prefix).number("tail_pkg", 10, source="pkg")
        lay.number("tail_pkg_check", 2, source="pkg_check").text('","package_status":"')
        lay.pick("package_status", TextTable([f'{s}"' for s in PACKAGE_STATUS]))
        lay.end("tail_package")
        lay.text(',"rts_time":').number("tail_rts", 10, source="rts")
        lay.text(',"tracking_number":"TT').number("tail_trk", 10, source="pkg")
        lay.number("tail_trk_check", 2, source="pkg_check").text('"').end("tail_rts")
        self.layout = lay

    def _items(self, book: OrderBook) -> None:
        """Line items: id, the SKU's members with amounts per promotion kind, the end."""
        items = RowLayout()
        items.text('{"id":"' + book.line_codec.prefix).number("line", 10)
        items.number("line_check", 2).text('",').end("id")
        self.item_layout = items
        self.item_digits_at = items.numbers["line"][0]
        dec = book.region.decimals
        unit = self.unit
        fragments = []
        for kind in range(3):  # no promotion, seller discount, platform discount
            for sku in book.catalog.sellable:
                original = sku.price
                sd = ((original * 10 // 100) // unit) * unit if kind == 1 else 0
                pd = ((original * 5 // 100) // unit) * unit if kind == 2 else 0
                fragments.append(
                    f'{sku.fragment},"sale_price":"{money(original - sd - pd, dec)}",'
                    f'"seller_discount":"{money(sd, dec)}",'
                    f'"platform_discount":"{money(pd, dec)}"'
                )
        self.item_fragments = table(fragments)
        # An item's end, by "last item of its order" (which also ends the list and order).
        self.item_close = table(["},", "}]}"])
        self.item_tax_end = table([
            f'","tax_rate":"{bp / 10000:.4f}"}}]}}' + ("]}" if last else ",")
            for bp in self.place_tax_bp.tolist() for last in (0, 1)
        ])
        self.item_tax_head = b',"item_tax":[{"tax_type":"SALES_TAX","tax_amount":"'
        self.item_fragment_len = _lengths(self.item_fragments)
        self.item_close_len = _lengths(self.item_close)
        self.item_tax_end_len = _lengths(self.item_tax_end)

    def _pieces(self, book: OrderBook) -> None:
        """The variable-length pieces between segments, and the constant ones."""
        reg = book.region
        dec = reg.decimals
        zero = money(0, dec)
        ship = self.shipping_original
        discounts = self.ship_discounts.tolist()
        self.payment_head = f',"payment":{{"currency":"{reg.currency}","sub_total":"'.encode()
        self.payment_tail = (
            f'","buyer_service_fee":"{zero}","handling_fee":"{zero}",'
            f'"shipping_insurance_fee":"{zero}","item_insurance_fee":"{zero}",'
            f'"item_insurance_tax":"{zero}"}}'
        ).encode()
        self.small_order_fee = f'","small_order_fee":"{zero}","retail_delivery_fee":"'.encode()
        self.untaxed = (
            f'{zero}","product_tax":"{zero}","shipping_fee_tax":"{zero}",'
            f'"small_order_fee":"{zero}","retail_delivery_fee":"{zero}'
        ).encode() + self.payment_tail
        post_town = reg.code == "GB"
        cancel_reasons = _reason_texts('{reason}","cancellation_initiator":"{who}"')
        item_cancel = _reason_texts(',"cancel_reason":"{reason}","cancel_user":"{who}"')
        # Tables whose last entry is "" can stand for an absent piece (see Lookup.none).
        self.lookup = Lookup({
            "fulfilment": table([
                _fulfilment_text(bm, sn, kind, oid, oname, wh)
                for bm in _BUYER_MESSAGES for sn in _SELLER_NOTES for kind in range(3)
                for oid, oname in DELIVERY_OPTIONS for wh in book.warehouses
            ]),
            "flags": table([
                _flags_text(pm, hold, asks)
                for pm in PAYMENT_METHODS for hold in (0, 1) for asks in (0, 1)
            ]),
            "cancel_rest": table([*cancel_reasons, ""]),
            "provider": table([
                *(f',"shipping_provider":"{name}","shipping_provider_id":"{pid}"'
                  for pid, name in SHIPPING_PROVIDERS),
                "",
            ]),
            "ship_fee": table([
                f'","shipping_fee":"{money(ship - s - p, dec)}","seller_discount":"'
                for s, p in discounts
            ]),
            "ship_block": table([
                f'","original_shipping_fee":"{money(ship, dec)}",'
                f'"shipping_fee_seller_discount":"{money(s, dec)}",'
                f'"shipping_fee_platform_discount":"{money(p, dec)}",'
                f'"shipping_fee_cofunded_discount":"{zero}","tax":"'
                for s, p in discounts
            ]),
            "names": table([
                f',"recipient_address":{{"name":"{f[1:-1]} {la[1:-1]}","first_name":{f},'
                f'"last_name":{la},"phone_number":"{reg.phone_prefix}'
                for f in _FIRST_NAMES for la in _LAST_NAMES
            ]),
            "number": table([str(k) for k in range(10_000)]),
            "street_full": table([
                f' {street}, {city}, {province} {postal}, {reg.country}",'
                f'"address_detail":"Unit '
                for street in STREETS for city, province, _s, postal in reg.places
            ]),
            "unit": table([f'{k}","address_line1":"' for k in range(41)]),
            "street_tail": table([
                f' {street}","address_line2":"","address_line3":"","address_line4":"",'
                f'"postal_code":"{postal}","region_code":"{reg.code}","district_info":['
                f'{{"address_level_name":"Country","address_name":"{reg.country}",'
                f'"address_level":"L0"}},{{"address_level_name":"State",'
                f'"address_name":"{province}","address_level":"L1"}},'
                f'{{"address_level_name":"City","address_name":"{city}",'
                f'"address_level":"L2"}}],'
                f'"delivery_preferences":{{"drop_off_location":"Front Door"}}'
                + (f',"post_town":"{city}"' if post_town else "")
                + '},"line_items":['
                for street in STREETS for city, province, _s, postal in reg.places
            ]),
            "tail_provider": table([
                *(f',"shipping_provider_id":"{pid}","shipping_provider_name":"{name}"'
                  for pid, name in SHIPPING_PROVIDERS),
                "",
            ]),
            "item_cancel": table([*item_cancel, ""]),
        })


class Lookup:
    """Several lookup tables of byte strings, read together (one gather for all of them)."""

    def __init__(self, tables: dict[str, np.ndarray]) -> None:
        self.sizes = {name: len(t) for name, t in tables.items()}
        self.offsets = np.cumsum([0, *self.sizes.values()])[:-1][:, None]
        self.pieces = np.concatenate(list(tables.values()))

    def none(self, name: str) -> int:
        """The key of a table's last entry (the empty text, for absent pieces)."""
        return self.sizes[name] - 1

    def __call__(self, keys: dict[str, np.ndarray]) -> dict[str, list[bytes]]:
        """The pieces of every table (give keys for all of them, in the tables' order)."""
        picked = self.pieces[np.array(list(keys.values()), np.int64) + self.offsets]
        return dict(zip(keys, picked.tolist(), strict=True))


def _reason_texts(template: str) -> list[str]:
    """One text per (reason set, reason draw, who cancelled): index (set*3 + draw)*3 + who."""
    if any(len(reasons) != 3 for reasons in REASON_SETS):
        raise ValueError("the batch renderer draws one of three cancel reasons per set")
    return [template.format(reason=reason, who=who)
            for reasons in REASON_SETS for reason in reasons for who in CANCELLED_BY]


def _lengths(pieces: np.ndarray) -> np.ndarray:
    """The length of every bytes object of a table."""
    return np.fromiter(map(len, pieces), np.int64, len(pieces))


def _fulfilment_text(bm: str, sn: str, kind: int, oid: str, oname: str, wh: str) -> str:
    """``bm``, ``sn``: JSON strings; ``kind``: 0 seller shipping, 1 TikTok shipping, 2 TikTok
    shipping and fulfilment."""
    fulfillment = "FULFILLMENT_BY_TIKTOK" if kind == 2 else "FULFILLMENT_BY_SELLER"
    shipping_type = "SELLER" if kind == 0 else "TIKTOK"
    return (
        f'"buyer_message":{bm},"seller_note":{sn},'
        f'"fulfillment_type":"{fulfillment}","shipping_type":"{shipping_type}",'
        f'"delivery_type":"HOME_DELIVERY","delivery_option_id":"{oid}",'
        f'"delivery_option_name":"{oname}","warehouse_id":"{wh}",'
    )


def _flags_text(pm: str, hold: int, asks: int) -> str:
    """From payment_method_name to has_updated_recipient_address."""
    return (
        f'"payment_method_name":"{pm}","order_type":"NORMAL","commerce_platform":"TIKTOK_SHOP",'
        f'"is_cod":{_BOOL[pm == "Cash on delivery"]},"is_sample_order":false,'
        f'"is_on_hold_order":{_BOOL[hold]},"is_replacement_order":false,'
        f'"is_exchange_order":false,"is_buyer_request_cancel":{_BOOL[asks]},'
        f'"has_updated_recipient_address":false,'
    )


_tables_lock = threading.Lock()


def tables_of(book: OrderBook) -> BookTables:
    """The book's tables, built on first use."""
    tables = book.batch_tables
    if tables is None:
        with _tables_lock:
            tables = book.batch_tables
            if tables is None:
                tables = book.batch_tables = BookTables(book)
    return tables


def _ids(params: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scrambled 10 digits, 2 check digits) of ids, as ``IdCodec.encode`` makes them.

    ``params``: rows of :attr:`BookTables.id_params` (several codecs apply to the matching
    rows of ``idx``); the product is split so that int64 cannot overflow.
    """
    mod = 10_000_000_000
    a_hi, a_lo, b, prefix_mod = (params[..., k, :] for k in range(4))
    x = ((idx * a_hi) % mod * 100_000 + idx * a_lo + b) % mod
    return x, (prefix_mod + x) % 97


def _render_chunk(book: OrderBook, idx: np.ndarray, t: int
                  ) -> tuple[list[bytes], list[int], list[int]]:
    """Render up to CHUNK orders; raises UnusualValues when the layouts do not fit."""
    n = len(idx)
    if n == 0:
        return [], [], []
    tb = tables_of(book)
    lay = tb.layout

    # -- state at t and static draws (the reference's hashes) --
    hs = oa.hashes(book, idx)
    lc = oa.lifecycles(book, idx, hs)
    st = lc.at(t)
    at = oa.attributes(book, idx, hs)
    status = st.status
    c = lc.create_time
    paid = (lc.path != oa.PATH_UNPAID_CANCEL) & (st.k > 1)
    n_progress = ((lc.rts <= t).astype(np.int64) + (lc.collect <= t) + (lc.deliver <= t)
                  ) * lc.going
    has_rts = n_progress > 0
    cancelled = status == oa.CANCELLED
    asks = (lc.request > 0) & (lc.request <= t)
    (provider, first, last_name, street, number, option, pay_method, message), rest = (
        oa.radix_digits(hs.draws, tb.draw_radices))
    (note, area, line, unit_no), rest = oa.radix_digits(
        oa.mix64_array(rest ^ hs.draws), (len(SELLER_NOTES), 790, 9000, 40))
    reason_set = np.where(lc.path == oa.PATH_UNPAID_CANCEL, 0,
                          np.where(lc.by == oa.BY_SELLER, 1, 2))
    cancel_key = (reason_set * 3 + (rest % np.uint64(3)).astype(np.int64)) * 3 + lc.by

    # -- fixed-width text --
    # Every time written lies within 30 days after creation: 10 digits if these are; line
    # item ids (index * 8 + unit) must stay below 10**10.
    if c.min() < TIME_LO or c.max() + 30 * DAY >= TIME_HI or idx.max() >= 1_000_000_000:
        raise UnusualValues
    (order_x, pkg_x, buyer_x), (order_check, pkg_check, buyer_check) = _ids(
        tb.id_params[:3], np.array((idx, idx, at.buyer)))
    paid_at = lc.times[:, 1]  # holes of absent parts take any number: they are cleared
    rows = lay.new(n)
    lay.put_numbers(rows, {
        "id": order_x, "id_check": order_check, "c": c, "u": st.update_time,
        "p": paid_at, "p2": paid_at + 2 * DAY, "p3": paid_at + 3 * DAY, "p8": paid_at + 8 * DAY,
        "rts": lc.rts, "collect": lc.collect, "deliver": lc.deliver, "cancel": st.update_time,
        "request": lc.request, "buyer": buyer_x, "buyer_check": buyer_check, "pkg": pkg_x,
        "pkg_check": pkg_check, "area": area + 200, "line": line + 1000,
    })
    lay.put_text(rows, "status", status)
    lay.put_text(rows, "display", status)
    lay.put_text(rows, "package_status", status)
    unpaid = ~paid
    if unpaid.any():
        texts = np.empty((n, tb.unpaid_width), np.uint8)
        texts[:, : len(tb.unpaid_text)] = tb.unpaid_text
        lay.put_digits(texts, len(tb.unpaid_text), c + DAY)
        after = lay.marks["after_u"]
        rows[unpaid, after : after + tb.unpaid_width] = texts[unpaid]
    lay.keep_prefix(rows, "after_u", np.where(paid, tb.times_lengths[n_progress],
                                              tb.unpaid_width))
    lay.keep(rows, "cancel", "cancel", cancelled)
    lay.keep(rows, "request", "request", asks)
    lay.keep(rows, "package_at", "packages", paid)
    lay.keep(rows, "tracking_at", "tracking", has_rts)
    lay.keep(rows, "tail_package", "tail_package", paid)
    lay.keep(rows, "tail_rts", "tail_rts", has_rts)
    seg = lay.segments(rows)

    # -- pieces from tables --
    lookup = tb.lookup
    ship_kind = at.tiktok * (1 + ((hs.draws & np.uint64(0xF)) == 0))
    street_place = street * tb.n_places + at.place
    provider_or_none = np.where(has_rts, provider, lookup.none("provider"))
    piece = lookup({
        "fulfilment": (((message * len(SELLER_NOTES) + note) * 3 + ship_kind)
                       * len(DELIVERY_OPTIONS) + option) * tb.n_warehouses + at.warehouse,
        "flags": (pay_method * 2 + (status == oa.ON_HOLD)) * 2 + (asks & ~cancelled),
        "cancel_rest": np.where(cancelled, cancel_key, lookup.none("cancel_rest")),
        "provider": provider_or_none,
        "ship_fee": at.ship_class,
        "ship_block": at.ship_class,
        "names": first * len(LAST_NAMES) + last_name,
        "number": number + 1,
        "street_full": street_place,
        "unit": unit_no + 1,
        "street_tail": street_place,
        "tail_provider": provider_or_none,
        "item_cancel": np.where(cancelled, cancel_key, lookup.none("item_cancel")),
    })

    # -- amounts --
    present = at.present
    unit = tb.unit
    original = np.where(present, tb.sku_price[at.picks], 0)
    seller_d = np.where((at.promo_kind == 1)[:, None], ((original * 10 // 100) // unit) * unit,
                        0)
    platform_d = np.where((at.promo_kind == 2)[:, None], ((original * 5 // 100) // unit) * unit,
                          0)
    sale = original - seller_d - platform_d
    sub_total = sale.sum(axis=1)
    shipping_fee = (tb.shipping_original - tb.ship_discounts[at.ship_class, 0]
                    - tb.ship_discounts[at.ship_class, 1])
    tax_bp = tb.place_tax_bp[at.place]
    product_tax = sub_total * tax_bp // 10000
    shipping_tax = shipping_fee * tax_bp // 10000
    rdf = tb.place_rdf[at.place]
    total = sub_total + shipping_fee + product_tax + shipping_tax + rdf
    values = [sub_total, seller_d.sum(axis=1), platform_d.sum(axis=1), total,
              original.sum(axis=1)]
    if tb.sales_tax:
        values += [product_tax + shipping_tax, product_tax, shipping_tax, rdf]
    amounts = tb.money(np.concatenate(values)).tolist()
    if tb.sales_tax:
        tax_columns = [
            amounts[5 * n : 6 * n], repeat(b'","product_tax":"'), amounts[6 * n : 7 * n],
            repeat(b'","shipping_fee_tax":"'), amounts[7 * n : 8 * n],
            repeat(tb.small_order_fee), amounts[8 * n :], repeat(tb.payment_tail),
        ]
    else:
        tax_columns = [repeat(tb.untaxed)]

    # -- line items: all of the batch's in one bytes object, then cut per order --
    owner, slot = present.nonzero()
    last = slot == at.units[owner] - 1
    line_x, line_check = _ids(tb.id_params[3], idx[owner] * 8 + slot)
    item_rows = tb.item_layout.new(len(owner))
    tb.item_layout.put_digits(item_rows, tb.item_digits_at, line_x)
    tb.item_layout.put_digits(item_rows, tb.item_digits_at + 10, line_check, 2)
    tails = np.empty(n, object)
    tails[:] = list(map(b"".join, zip(
        seg["display"], seg["tail_package"], seg["tail_rts"], piece["tail_provider"],
        piece["item_cancel"], strict=True,
    )))
    fragments = at.promo_kind[owner] * tb.n_sell + at.picks[present]
    item_columns = [
        tb.item_layout.segments(item_rows)["id"],
        tb.item_fragments[fragments].tolist(),
        tails[owner].tolist(),
    ]
    item_len = (tb.item_layout.width + tb.item_fragment_len[fragments]
                + np.fromiter(map(len, tails), np.int64, n)[owner])
    if tb.sales_tax:
        item_tax = np.where(present, sale * tax_bp[:, None] // 10000, 0)
        last_slot = at.units - 1
        rows_n = np.arange(n)
        item_tax[rows_n, last_slot] = 0
        item_tax[rows_n, last_slot] = product_tax - item_tax.sum(axis=1)
        item_tax = np.where((product_tax != 0)[:, None], item_tax, 0)
        tax_texts = tb.money(item_tax[present]).tolist()
        tax_end = at.place[owner] * 2 + last
        item_columns += [repeat(tb.item_tax_head), tax_texts, tb.item_tax_end[tax_end].tolist()]
        item_len += (len(tb.item_tax_head) + tb.item_tax_end_len[tax_end]
                     + np.fromiter(map(len, tax_texts), np.int64, len(tax_texts)))
    else:
        item_columns.append(tb.item_close[last.astype(np.intp)].tolist())
        item_len += tb.item_close_len[last.astype(np.intp)]
    blob = b"".join(chain.from_iterable(zip(*item_columns, strict=False)))
    ends = np.cumsum(item_len)[last].tolist()
    items = list(map(blob.__getitem__, map(slice, [0, *ends[:-1]], ends)))

    # -- the whole order --
    columns = [
        seg["head"], seg["times"], seg["cancel"], piece["cancel_rest"], seg["request"],
        seg["user"], piece["fulfilment"], piece["flags"], seg["packages"], seg["tracking"],
        piece["provider"], repeat(tb.payment_head), amounts[:n], piece["ship_fee"],
        amounts[n : 2 * n], repeat(b'","platform_discount":"'), amounts[2 * n : 3 * n],
        repeat(b'","total_amount":"'), amounts[3 * n : 4 * n],
        repeat(b'","original_total_product_price":"'), amounts[4 * n : 5 * n],
        piece["ship_block"], *tax_columns, piece["names"], seg["phone"], piece["number"],
        piece["street_full"], piece["unit"], piece["number"], piece["street_tail"], items,
    ]
    bodies = list(map(b"".join, zip(*columns, strict=False)))
    return bodies, st.update_time.tolist(), st.valid_until.tolist()
