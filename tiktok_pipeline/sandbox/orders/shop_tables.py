"""What rendering a shop's orders needs that does not change from order to order, made once.

- :class:`OrderLayout`: an order's fixed-width text (ids, timestamps, statuses) as a
  :class:`~tiktok_pipeline.sandbox.orders.text_rows.RowLayout`, in two variants: timestamps
  as exactly 10 digits (2001-09-09 to 2286-11-20: the fast one) or as free-width integers
  (any other time).
- :class:`ShopTables`: the layouts, the line item layout, per-SKU and per-place amounts,
  and every other piece of text an order picks from a table (addresses, names, fulfilment
  members, flags, cancel reasons, shipping discounts), already encoded as JSON bytes.

Every inserted text is JSON-safe by construction: ids, numbers, money strings, fixed words,
and catalog texts encoded once with ``json.dumps``.
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
    US_RETAIL_DELIVERY_FEE,
    US_TAX_BP,
    money,
)
from tiktok_pipeline.sandbox.orders.book import OrderBook, line_discounts, shipping_discounts
from tiktok_pipeline.sandbox.orders.conventions import (
    AVATAR_HEAD,
    AVATAR_TAIL,
    CARD_TYPES,
    FAST_DISPATCH_REGIONS,
    HANDLING_DAYS,
    INVOICE_BY_STATUS,
    SHIPPING_VAT_BP,
)
from tiktok_pipeline.sandbox.orders.lifecycle import DISPLAY_STATUS, PACKAGE_STATUS, STATUS_NAMES
from tiktok_pipeline.sandbox.orders.member_texts import (
    combined_listing_text,
    cpf_names,
    flags_text,
    fulfilment_text,
    json_texts,
    local_script_names,
    reason_texts,
)
from tiktok_pipeline.sandbox.orders.text_rows import (
    INT64_WIDTH,
    Lookup,
    MoneyText,
    RowLayout,
    TextTable,
    lengths,
    table,
)

#: The lowest and highest timestamps of 10 digits.
TEN_DIGITS = (1_000_000_000, 9_999_999_999)
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
#: And those of the second hash: the seller note, the phone number's two parts, the flat.
MORE_DRAW_RADICES = (len(SELLER_NOTES), 790, 9000, 40)


@dataclass
class OrderLayout:
    """An order's fixed-width text, for one way of writing timestamps.

    ``rows``: the layout (segments ``head`` to ``tail_rts``); ``unpaid``: the cancel deadline
    of unpaid orders, written over the start of the paid times; ``times_lengths``: how much of
    the times after ``update_time`` to keep, by how many of rts/collection/delivery happened.
    """

    rows: RowLayout
    unpaid: RowLayout
    times_lengths: np.ndarray


def order_layout(book: OrderBook, free_times: bool) -> OrderLayout:
    """The layout of a shop's orders (``free_times``: timestamps of any width)."""
    w = INT64_WIDTH if free_times else 10

    def time(lay: RowLayout, name: str, source: str | None = None) -> RowLayout:
        return lay.number(name, w, source, free=free_times)

    pkg_prefix = book.package_codec.prefix
    lay = RowLayout()
    lay.text('{"id":"' + book.codec.prefix).number("id", 10).number("id_check", 2)
    lay.text('","status":"')
    lay.pick("status", TextTable([f'{name}","create_time":' for name in STATUS_NAMES]))
    lay.end("head")
    time(lay, "c").text(',"update_time":')
    time(lay, "u").mark("after_u").text(',"paid_time":')
    time(lay, "p").text(',"rts_sla_time":')
    time(lay, "p2").text(',"tts_sla_time":')
    time(lay, "p3").text(',"shipping_due_time":')
    time(lay, "p2b", "p2").text(',"collection_due_time":')
    time(lay, "p3b", "p3").text(',"delivery_due_time":')
    time(lay, "p8").text(',"delivery_sla_time":')
    time(lay, "p8b", "p8").text(',"recommended_shipping_time":')
    time(lay, "p1b", "p1").mark("progress_0").text(',"rts_time":')
    time(lay, "rts").mark("progress_1").text(',"collection_time":')
    time(lay, "collect").mark("progress_2").text(',"delivery_time":')
    time(lay, "deliver").mark("progress_3").end("times")
    lay.text(',"cancel_time":')
    time(lay, "cancel").text(',"cancel_reason":"').end("cancel")
    lay.text(',"request_cancel_time":')
    time(lay, "request").end("request")
    lay.text(',"fast_dispatch_sla_time":')
    time(lay, "p1").end("fast")
    lay.text(',"user_id":"' + book.buyer_codec.prefix).number("buyer", 10)
    lay.number("buyer_check", 2).text('","buyer_email":"')
    lay.number("email", 6, source="buyer")
    lay.number("email_check", 2, source="buyer_check").text('@scs.tiktokw.us",')
    lay.text('"buyer_nickname":"user').number("nickname", 8, source="buyer")
    lay.text('","buyer_avatar":"' + AVATAR_HEAD).number("avatar", 10, source="buyer")
    lay.number("avatar_check", 2, source="buyer_check").text(AVATAR_TAIL + '",')
    if book.region.code == "BR":
        # The CPF is the buyer's; cpf_name (a lookup piece) follows the segment.
        lay.text('"cpf":"').number("cpf", 9, source="buyer")
        lay.number("cpf_check", 2, source="buyer_check").text('","need_upload_invoice":"')
        lay.pick("invoice", TextTable([f'{s}",' for s in INVOICE_BY_STATUS]))
    else:
        lay.text('"cpf":"","cpf_name":"",')
    lay.end("user")
    lay.text('"packages":[').mark("package_at").text('{"id":"' + pkg_prefix)
    lay.number("pkg", 10).number("pkg_check", 2).text('"}').end("packages")
    lay.text("]").mark("tracking_at").text(',"tracking_number":"TT')
    lay.number("trk", 10, source="pkg")
    lay.number("trk_check", 2, source="pkg_check").text('"').end("tracking")
    lay.number("area", 3).text("-***-").number("line", 4).text('","full_address":"')
    lay.end("phone")
    # What every line item of an order repeats after its own members.
    lay.text(',"display_status":"')
    lay.pick("display", TextTable([f'{d}"' for d in DISPLAY_STATUS])).end("display")
    lay.text(',"package_id":"' + pkg_prefix).number("tail_pkg", 10, source="pkg")
    lay.number("tail_pkg_check", 2, source="pkg_check").text('","package_status":"')
    lay.pick("package_status", TextTable([f'{s}"' for s in PACKAGE_STATUS]))
    lay.end("tail_package")
    lay.text(',"rts_time":')
    time(lay, "tail_rts", "rts").text(',"tracking_number":"TT')
    lay.number("tail_trk", 10, source="pkg")
    lay.number("tail_trk_check", 2, source="pkg_check").text('"').end("tail_rts")

    unpaid = RowLayout().text(',"cancel_order_sla_time":')
    time(unpaid, "sla").end("sla")
    after = lay.marks["after_u"]
    kept = [lay.marks[f"progress_{k}"] - after for k in range(4)]
    return OrderLayout(lay, unpaid, np.array(kept))


class ShopTables:
    """One shop's layouts, amounts and pre-encoded pieces (see the module doc)."""

    def __init__(self, book: OrderBook) -> None:
        reg = book.region
        codecs = (book.codec, book.package_codec, book.buyer_codec, book.line_codec)
        if any(codec.digits != 10 for codec in codecs):
            raise ValueError("order rendering expects ids with 10 scrambled digits")
        self.money = MoneyText(reg.decimals)
        sellable = book.catalog.sellable
        self.n_sell = len(sellable)
        self.sku_price = np.array([s.price for s in sellable], np.int64)
        self.unit = reg.rounding
        self.n_places = len(reg.places)
        self.n_warehouses = len(book.warehouses)
        self.sales_tax = reg.sales_tax
        tax = reg.sales_tax
        self.place_tax_bp = np.array(
            [US_TAX_BP.get(p[2], 600) if tax else 0 for p in reg.places], np.int64
        )
        self.place_rdf = np.array(
            [US_RETAIL_DELIVERY_FEE.get(p[2], 0) if tax else 0 for p in reg.places], np.int64
        )
        #: Per id codec (order, package, buyer, line item): a // 10**5, a % 10**5, b and the
        #: prefix's contribution to the check digits (see ``IdCodec.encode``).
        self.id_params = np.array(
            [[c.a // 100_000, c.a % 100_000, c.b, int(c.prefix) * c.mod % 97] for c in codecs],
            np.int64,
        )[:, :, None]
        ship = reg.shipping_fee
        self.shipping_original = ship
        #: (seller, platform) shipping discounts per shipping class.
        self.ship_discounts = np.array(
            [shipping_discounts(ship, k, self.unit) for k in range(4)], np.int64
        )
        #: Order layouts: timestamps of exactly 10 digits (False) or of any width (True).
        self.layouts = {free: order_layout(book, free) for free in (False, True)}
        self._items(book)
        self._pieces(book)

    def _items(self, book: OrderBook) -> None:
        """Line items: id, the SKU's members with amounts per promotion kind, the end."""
        items = RowLayout()
        items.text('{"id":"' + book.line_codec.prefix).number("line", 10)
        items.number("line_check", 2).text('",').end("id")
        self.item_layout = items
        m = self.money_str
        sellable = book.catalog.sellable
        # The members every item of a SKU repeats whatever its promotion.
        shared = [
            f',"combined_listing_skus":[{combined_listing_text(book, j)}],'
            f'"handling_duration_days":"{HANDLING_DAYS}","pfand_fee":"{m(0)}"'
            + (',"is_unboxing_item":false' if book.region.code == "US" else "")
            for j in range(len(sellable))
        ]
        fragments = []
        for kind in range(3):  # no promotion, seller discount, platform discount
            for sku, rest in zip(sellable, shared, strict=True):
                seller, platform = line_discounts(sku.price, kind, self.unit)
                fragments.append(
                    f'{sku.fragment},"sale_price":"{m(sku.price - seller - platform)}",'
                    f'"seller_discount":"{m(seller)}","platform_discount":"{m(platform)}"' + rest
                )
        self.item_fragments = table(fragments)
        #: The VAT included in the shipping fee, per line item's share of it.
        self.shipping_vat_bp = SHIPPING_VAT_BP.get(book.region.code, 0)
        self.fast_dispatch = book.region.code in FAST_DISPATCH_REGIONS
        self.shipping_vat_head = b',"shipping_vat_amount":"'
        self.shipping_vat_rate = f'","shipping_vat_rate":"{self.shipping_vat_bp / 10000:.4f}"'
        # An item's end, by "last item of its order" (which also ends the list and order).
        rate = self.shipping_vat_rate
        if not self.shipping_vat_bp:
            rate = f"{self.shipping_vat_head.decode()}{m(0)}{rate}"
        self.item_close = table([f"{rate}}},", f"{rate}}}]}}"])
        self.item_tax_head = f'{rate},"item_tax":[{{"tax_type":"SALES_TAX","tax_amount":"'.encode()
        self.item_tax_end = table(
            [
                f'","tax_rate":"{bp / 10000:.4f}"}}]}}' + ("]}" if last else ",")
                for bp in self.place_tax_bp.tolist()
                for last in (0, 1)
            ]
        )
        self.item_fragment_len = lengths(self.item_fragments)
        self.item_close_len = lengths(self.item_close)
        self.item_tax_end_len = lengths(self.item_tax_end)

    def money_str(self, minor: int) -> str:
        """An amount of this shop's currency as text."""
        return money(minor, self.money.decimals)

    def _pieces(self, book: OrderBook) -> None:
        """The variable-length pieces between segments, and the constant ones."""
        reg = book.region
        m = self.money_str
        zero = m(0)
        ship = self.shipping_original
        discounts = self.ship_discounts.tolist()
        self.payment_head = f',"payment":{{"currency":"{reg.currency}","sub_total":"'.encode()
        self.payment_discount_head = b'","payment_platform_discount":"'
        self.payment_tail = (
            f'","payment_discount_service_fee":"{zero}","distance_fee":"{zero}",'
            f'"buyer_service_fee":"{zero}","handling_fee":"{zero}",'
            f'"shipping_insurance_fee":"{zero}","item_insurance_fee":"{zero}",'
            f'"item_insurance_tax":"{zero}"}}'
        ).encode()
        self.small_order_fee = f'","small_order_fee":"{zero}","retail_delivery_fee":"'.encode()
        self.untaxed = (
            f'{zero}","product_tax":"{zero}","shipping_fee_tax":"{zero}",'
            f'"small_order_fee":"{zero}","retail_delivery_fee":"{zero}'
        ).encode()
        first_names, last_names = json_texts(FIRST_NAMES), json_texts(LAST_NAMES)
        post_town = reg.code == "GB"
        providers = [
            f',"shipping_provider":"{name}","shipping_provider_id":"{pid}"'
            for pid, name in SHIPPING_PROVIDERS
        ]
        tail_providers = [
            f',"shipping_provider_id":"{pid}","shipping_provider_name":"{name}"'
            for pid, name in SHIPPING_PROVIDERS
        ]
        # Tables whose last entry is "" can stand for an absent piece (see Lookup.none).
        self.lookup = Lookup(
            {
                "fulfilment": table(
                    [
                        fulfilment_text(bm, sn, kind, oid, oname, wh)
                        for bm in json_texts(BUYER_MESSAGES)
                        for sn in json_texts(SELLER_NOTES)
                        for kind in range(3)
                        for oid, oname in DELIVERY_OPTIONS
                        for wh in book.warehouses
                    ]
                ),
                "flags": table(
                    [
                        flags_text(pm, hold, asks, card)
                        for pm in PAYMENT_METHODS
                        for hold in (0, 1)
                        for asks in (0, 1)
                        for card in CARD_TYPES
                    ]
                ),
                "cancel_rest": table(
                    [*reason_texts('{reason}","cancellation_initiator":"{who}"'), ""]
                ),
                "provider": table([*providers, ""]),
                "ship_fee": table(
                    [
                        f'","shipping_fee":"{m(ship - s - p)}","seller_discount":"'
                        for s, p in discounts
                    ]
                ),
                "ship_block": table(
                    [
                        f'","original_shipping_fee":"{m(ship)}",'
                        f'"shipping_fee_seller_discount":"{m(s)}",'
                        f'"shipping_fee_platform_discount":"{m(p)}",'
                        f'"shipping_fee_cofunded_discount":"{zero}","tax":"'
                        for s, p in discounts
                    ]
                ),
                "names": table(
                    [
                        f',"recipient_address":{{"name":"{f[1:-1]} {la[1:-1]}","first_name":{f},'
                        f'"last_name":{la},{local_script_names(reg.code, f[1:-1], la[1:-1])}'
                        f'"phone_number":"{reg.phone_prefix}'
                        for f in first_names
                        for la in last_names
                    ]
                ),
                "number": table([str(k) for k in range(10_000)]),
                "street_full": table(
                    [
                        f' {street}, {city}, {province} {postal}, {reg.country}",'
                        f'"address_detail":"Unit '
                        for street in STREETS
                        for city, province, _s, postal in reg.places
                    ]
                ),
                "unit": table([f'{k}","address_line1":"' for k in range(41)]),
                "street_tail": table(
                    [
                        f' {street}","address_line2":"","address_line3":"","address_line4":"",'
                        f'"postal_code":"{postal}","region_code":"{reg.code}","district_info":['
                        f'{{"address_level_name":"Country","address_name":"{reg.country}",'
                        f'"address_level":"L0","iso_code":"{reg.code}"}},'
                        f'{{"address_level_name":"State","address_name":"{province}",'
                        f'"address_level":"L1","iso_code":"{reg.code}-{state}"}},'
                        f'{{"address_level_name":"City","address_name":"{city}",'
                        f'"address_level":"L2","iso_code":""}}],'
                        f'"delivery_preferences":{{"drop_off_location":"Front Door"}}'
                        + (f',"post_town":"{city}"' if post_town else "")
                        + '},"line_items":['
                        for street in STREETS
                        for city, province, state, postal in reg.places
                    ]
                ),
                "tail_provider": table([*tail_providers, ""]),
                "item_cancel": table(
                    [*reason_texts(',"cancel_reason":"{reason}","cancel_user":"{who}"'), ""]
                ),
                **cpf_names(reg.code, first_names, last_names),
            }
        )
