"""A shop's orders, generated lazily from (seed, shop, index).

Order ``i`` is created at ``start + (i + u_i) * step`` (``u_i`` in [0, 1)), a monotonic
function of ``i``, so a create-time window maps to an index range by arithmetic. Orders past
``orders_per_shop`` keep coming at the same rate and are visible once created. Each order has a
deterministic lifecycle (offsets from its create time, at most ``MAX_LIFECYCLE``): its status and
``update_time`` at time T are those of the last transition at or before T.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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
from tiktok_pipeline.sandbox.products import ProductCatalog, Sku
from tiktok_pipeline.sandbox.rng import mix64
from tiktok_pipeline.sandbox.shops import ShopContext

DAY = 86400
TWO64 = 18446744073709551616.0

STATUS_NAMES = (
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
)
STATUS_CODES = {name: code for code, name in enumerate(STATUS_NAMES)}
(UNPAID, ON_HOLD, AWAITING_SHIPMENT, AWAITING_COLLECTION, IN_TRANSIT, DELIVERED, COMPLETED,
 CANCELLED) = range(8)
PACKAGE_STATUS = (
    "TO_FULFILL", "TO_FULFILL", "TO_FULFILL", "PROCESSING", "FULFILLING", "COMPLETED",
    "COMPLETED", "CANCELLED",
)
DISPLAY_STATUS = (
    "UNPAID", "AWAITING_SHIPMENT", "AWAITING_SHIPMENT", "AWAITING_COLLECTION", "IN_TRANSIT",
    "DELIVERED", "COMPLETED", "CANCELLED",
)

PATH_NORMAL, PATH_UNPAID_CANCEL, PATH_SHIP_CANCEL, PATH_ON_HOLD = range(4)

#: Longest time from an order's creation to its last transition.
MAX_LIFECYCLE = 14 * DAY

_BOOL = ("false", "true")
_FIRST_NAMES = tuple(json.dumps(x) for x in FIRST_NAMES)
_LAST_NAMES = tuple(json.dumps(x) for x in LAST_NAMES)
_BUYER_MESSAGES = tuple(json.dumps(x) for x in BUYER_MESSAGES)
_SELLER_NOTES = tuple(json.dumps(x) for x in SELLER_NOTES)
_money = functools.lru_cache(maxsize=1 << 16)(money)


@dataclass(slots=True)
class Lifecycle:
    """An order's transitions: ``times[k]`` is when ``statuses[k]`` began.

    Consecutive entries may repeat a status (an update without a status change, e.g. the
    buyer asking to cancel).
    """

    times: tuple[int, ...]
    statuses: tuple[int, ...]
    path: int
    cancel_by: str
    request_cancel_time: int

    def index_at(self, t: int) -> int:
        """How many transitions happened at or before ``t`` (0: not created yet)."""
        times = self.times
        k = 0
        n = len(times)
        while k < n and times[k] <= t:
            k += 1
        return k


@dataclass(slots=True)
class LineItem:
    """A line item (one unit) with amounts in minor units."""

    id: str
    sku: Sku
    original: int
    seller_discount: int
    platform_discount: int
    sale: int
    tax: int


@dataclass(slots=True)
class OrderBase:
    """Everything about an order that does not change with time."""

    index: int
    id: str
    create_time: int
    user_id: str
    buyer_index: int
    shipping_type: str
    warehouse_id: str
    items: list[LineItem]
    package_id: str
    shipping_original: int
    shipping_seller_discount: int
    shipping_platform_discount: int
    product_tax: int
    shipping_tax: int
    retail_delivery_fee: int
    tax_rate_bp: int
    draws_seed: int
    state_code: str
    place: tuple[str, str, str, str]


class OrderBook:
    """The orders of one shop."""

    def __init__(
        self,
        ctx: ShopContext,
        catalog: ProductCatalog,
        count: int,
        days: int,
        return_every: int,
    ) -> None:
        self.ctx = ctx
        self.catalog = catalog
        self.count = count
        self.start = ctx.start
        self.step = days * DAY / count
        self.return_every = return_every
        self.n_buyers = max(10, count // 3)
        self.base_time = ctx.base(0x0D01)
        self.base_lifecycle = ctx.base(0x0D02)
        self.base_attr = ctx.base(0x0D03)
        self.base_return = ctx.base(0x0D04)
        self.codec = ctx.codec("576", 10, 0x0D10)
        self.line_codec = ctx.codec("577", 10, 0x0D11)
        self.package_codec = ctx.codec("1153", 10, 0x0D12)
        self.buyer_codec = ctx.codec("7021", 10, 0x0D13)
        self.region = ctx.region
        self.warehouses = ctx.warehouses
        self.sales_tax = ctx.region.sales_tax
        self.batch_tables = None  # order_batch.BookTables, built on first use
        # The per-order hash bases in the order order_arrays.hashes stacks them.
        self.hash_bases = np.array(
            [[self.base_time], [self.base_lifecycle], [self.base_attr], [self.base_return]],
            np.uint64,
        )

    # -- time <-> index -----------------------------------------------------------------------

    def create_time(self, i: int) -> int:
        """When order ``i`` is created (monotonic in ``i``)."""
        u = mix64(self.base_time + i) / TWO64
        return self.start + int((i + u) * self.step)

    def first_at_or_after(self, t: int) -> int:
        """The smallest index whose create_time is >= ``t``."""
        if t <= self.start:
            return 0
        i = max(0, int((t - self.start) / self.step) - 2)
        while i > 0 and self.create_time(i - 1) >= t:
            i -= 1
        while self.create_time(i) < t:
            i += 1
        return i

    def created_by(self, t: int) -> int:
        """How many orders exist at time ``t`` (indices 0 .. n-1)."""
        return self.first_at_or_after(t + 1)

    def index_of(self, order_id: str) -> int | None:
        """The index of an order id of this shop, or None."""
        return self.codec.decode(order_id)

    # -- lifecycle ----------------------------------------------------------------------------

    def is_return_pick(self, i: int) -> bool:
        """True when order ``i`` is the one order of its block that gets a return."""
        k, r = divmod(i, self.return_every)
        return mix64(self.base_return + k) % self.return_every == r

    def return_order_index(self, k: int) -> int:
        """The order index of return number ``k``."""
        return k * self.return_every + mix64(self.base_return + k) % self.return_every

    def lifecycle(self, i: int, c: int | None = None) -> Lifecycle:
        """The transitions of order ``i``."""
        if c is None:
            c = self.create_time(i)
        h = mix64(self.base_lifecycle + i)
        h2 = mix64(h)
        r = h & 1023
        if r < 61:
            path = PATH_UNPAID_CANCEL
        elif r < 102:
            path = PATH_SHIP_CANCEL
        elif r < 133:
            path = PATH_ON_HOLD
        else:
            path = PATH_NORMAL
        if path != PATH_NORMAL and path != PATH_ON_HOLD and self.is_return_pick(i):
            path = PATH_NORMAL
        paid = c + 30 + ((h >> 10) & 0x7FF) % 1771
        if path == PATH_UNPAID_CANCEL:
            cancel = c + 1800 + ((h2 >> 38) & 0x1FFFF) % 84601
            by = "SYSTEM" if (h2 >> 60) & 1 else "BUYER"
            return Lifecycle((c, cancel), (UNPAID, CANCELLED), path, by, 0)
        if path == PATH_SHIP_CANCEL:
            request = paid + 600 + ((h2 >> 38) & 0x1FFFF) % 43201
            cancel = request + 3600 + ((h >> 39) & 0x1FFFF) % 39601
            by = "SELLER" if (h2 >> 60) & 3 == 0 else "BUYER"
            if by == "SELLER":
                return Lifecycle(
                    (c, paid, cancel), (UNPAID, AWAITING_SHIPMENT, CANCELLED), path, by, 0
                )
            return Lifecycle(
                (c, paid, request, cancel),
                (UNPAID, AWAITING_SHIPMENT, AWAITING_SHIPMENT, CANCELLED),
                path,
                by,
                request,
            )
        rts = paid + 7200 + ((h >> 21) & 0x3FFFF) % 165601
        if path == PATH_ON_HOLD:
            hold_end = paid + 3600 + ((h2 >> 55) & 0x1FF) * 7
            rts += hold_end - paid
        collect = rts + 7200 + ((h >> 39) & 0x1FFFF) % 79201
        deliver = collect + DAY + (h2 & 0x7FFFF) % 259201
        complete = deliver + 3 * DAY + ((h2 >> 19) & 0x7FFFF) % 259201
        if path == PATH_ON_HOLD:
            return Lifecycle(
                (c, paid, hold_end, rts, collect, deliver, complete),
                (UNPAID, ON_HOLD, AWAITING_SHIPMENT, AWAITING_COLLECTION, IN_TRANSIT, DELIVERED,
                 COMPLETED),
                path,
                "",
                0,
            )
        return Lifecycle(
            (c, paid, rts, collect, deliver, complete),
            (UNPAID, AWAITING_SHIPMENT, AWAITING_COLLECTION, IN_TRANSIT, DELIVERED, COMPLETED),
            path,
            "",
            0,
        )

    def state_at(self, i: int, t: int) -> tuple[int, int, int]:
        """(status code, update_time, transition count) of order ``i`` at ``t``.

        The order must exist at ``t``.
        """
        lc = self.lifecycle(i)
        k = lc.index_at(t)
        return lc.statuses[k - 1], lc.times[k - 1], k

    # -- static attributes --------------------------------------------------------------------

    def attr_hash(self, i: int) -> int:
        """The 64-bit hash the static attributes of order ``i`` derive from."""
        return mix64(self.base_attr + i)

    def buyer_index(self, h_attr: int) -> int:
        """The buyer number encoded in an attribute hash."""
        return (h_attr & 0xFFFFFFFF) % self.n_buyers

    @staticmethod
    def shipping_type(h_attr: int) -> str:
        """TIKTOK or SELLER shipping, from an attribute hash."""
        return "TIKTOK" if ((h_attr >> 32) & 0xFF) < 205 else "SELLER"

    def warehouse_of(self, h_attr: int) -> str:
        """The order's warehouse, from an attribute hash."""
        return self.warehouses[((h_attr >> 40) & 0xFF) % len(self.warehouses)]

    def base(self, i: int) -> OrderBase:
        """The time-independent part of order ``i``."""
        reg = self.region
        h_attr = self.attr_hash(i)
        c = self.create_time(i)
        # Mixed-radix digits of two hashes: one hash call per handful of random choices.
        x = mix64(h_attr + 1)
        x, roll = divmod(x, 100)
        x, extra = divmod(x, 2)
        x, same_roll = divmod(x, 10)
        x, place_index = divmod(x, len(reg.places))
        x, promo = divmod(x, 100)
        x, ship_roll = divmod(x, 100)
        units = 1 if roll < 60 else 2 if roll < 85 else 3 if roll < 95 else 4 + extra
        sellable = self.catalog.sellable
        n_sell = len(sellable)
        same = same_roll < 7
        first_pick = int(n_sell * ((x & 0xFFFFFFF) / 268435456.0) ** 2)
        y = mix64(h_attr + 2)
        place = reg.places[place_index]
        state_code = place[2]
        tax_bp = US_TAX_BP.get(state_code, 600) if self.sales_tax else 0
        unit = reg.rounding
        items = []
        for u in range(units):
            if same or u == 0:
                pick = first_pick
            else:
                y, pick = divmod(y, n_sell)
            sku = sellable[pick]
            original = sku.price
            seller_discount = ((original * 10 // 100) // unit) * unit if promo < 25 else 0
            platform_discount = ((original * 5 // 100) // unit) * unit if promo >= 85 else 0
            sale = original - seller_discount - platform_discount
            items.append(
                LineItem(
                    id=self.line_codec.encode(i * 8 + u),
                    sku=sku,
                    original=original,
                    seller_discount=seller_discount,
                    platform_discount=platform_discount,
                    sale=sale,
                    tax=0,
                )
            )
        sub_total = sum(it.sale for it in items)
        shipping_original = reg.shipping_fee
        if ship_roll < 35:
            ship_seller, ship_platform = 0, shipping_original
        elif ship_roll < 50:
            ship_seller, ship_platform = shipping_original, 0
        elif ship_roll < 60:
            half = ((shipping_original // 2) // unit) * unit
            ship_seller, ship_platform = half, shipping_original - half
        else:
            ship_seller, ship_platform = 0, 0
        shipping_fee = shipping_original - ship_seller - ship_platform
        product_tax = sub_total * tax_bp // 10000
        shipping_tax = shipping_fee * tax_bp // 10000
        if product_tax:
            remaining = product_tax
            for it in items[:-1]:
                it.tax = it.sale * tax_bp // 10000
                remaining -= it.tax
            items[-1].tax = remaining
        rdf = US_RETAIL_DELIVERY_FEE.get(state_code, 0) if self.sales_tax else 0
        buyer = self.buyer_index(h_attr)
        return OrderBase(
            index=i,
            id=self.codec.encode(i),
            create_time=c,
            user_id=self.buyer_codec.encode(buyer),
            buyer_index=buyer,
            shipping_type=self.shipping_type(h_attr),
            warehouse_id=self.warehouse_of(h_attr),
            items=items,
            package_id=self.package_codec.encode(i),
            shipping_original=shipping_original,
            shipping_seller_discount=ship_seller,
            shipping_platform_discount=ship_platform,
            product_tax=product_tax,
            shipping_tax=shipping_tax,
            retail_delivery_fee=rdf,
            tax_rate_bp=tax_bp,
            draws_seed=mix64(h_attr + 3),
            state_code=state_code,
            place=place,
        )

    def payment_json(self, b: OrderBase) -> str:
        """The ``payment`` object as a JSON string."""
        dec = self.region.decimals
        original_total = sum(it.original for it in b.items)
        seller_discount = sum(it.seller_discount for it in b.items)
        platform_discount = sum(it.platform_discount for it in b.items)
        sub_total = original_total - seller_discount - platform_discount
        shipping_fee = b.shipping_original - b.shipping_seller_discount - (
            b.shipping_platform_discount
        )
        tax = b.product_tax + b.shipping_tax
        total = sub_total + shipping_fee + tax + b.retail_delivery_fee
        zero = _money(0, dec)
        return (
            f'{{"currency":"{self.region.currency}","sub_total":"{_money(sub_total, dec)}",'
            f'"shipping_fee":"{_money(shipping_fee, dec)}",'
            f'"seller_discount":"{_money(seller_discount, dec)}",'
            f'"platform_discount":"{_money(platform_discount, dec)}",'
            f'"total_amount":"{_money(total, dec)}",'
            f'"original_total_product_price":"{_money(original_total, dec)}",'
            f'"original_shipping_fee":"{_money(b.shipping_original, dec)}",'
            f'"shipping_fee_seller_discount":"{_money(b.shipping_seller_discount, dec)}",'
            f'"shipping_fee_platform_discount":"{_money(b.shipping_platform_discount, dec)}",'
            f'"shipping_fee_cofunded_discount":"{zero}","tax":"{_money(tax, dec)}",'
            f'"product_tax":"{_money(b.product_tax, dec)}",'
            f'"shipping_fee_tax":"{_money(b.shipping_tax, dec)}","small_order_fee":"{zero}",'
            f'"retail_delivery_fee":"{_money(b.retail_delivery_fee, dec)}",'
            f'"buyer_service_fee":"{zero}","handling_fee":"{zero}",'
            f'"shipping_insurance_fee":"{zero}","item_insurance_fee":"{zero}",'
            f'"item_insurance_tax":"{zero}"}}'
        )

    def payment(self, b: OrderBase) -> dict:
        """The order's ``payment`` object (decimal strings)."""
        return json.loads(self.payment_json(b))

    # -- rendering ----------------------------------------------------------------------------

    def render_bytes(self, i: int, t: int) -> tuple[bytes, int, float]:
        """Order ``i`` as Get Order Detail / Get Order List serve it at ``t``, as JSON bytes.

        Returns (body, valid_from, valid_until): the body holds for virtual times in
        [valid_from, valid_until). Built from pre-encoded fragments (every inserted string is
        JSON-safe: ids, numbers, and catalog texts encoded once with ``json.dumps``) because
        this is the hot path of paging.
        """
        b = self.base(i)
        lc = self.lifecycle(i, b.create_time)
        k = lc.index_at(t)
        valid_until = lc.times[k] if k < len(lc.times) else float("inf")
        statuses = lc.statuses
        times = lc.times
        status = statuses[k - 1]
        update_time = times[k - 1]
        paid_time = rts_time = collection_time = delivery_time = cancel_time = 0
        for n in range(k):
            code = statuses[n]
            if code == AWAITING_SHIPMENT or code == ON_HOLD:
                if not paid_time:
                    paid_time = times[n]
            elif code == AWAITING_COLLECTION:
                rts_time = times[n]
            elif code == IN_TRANSIT:
                collection_time = times[n]
            elif code == DELIVERED:
                delivery_time = times[n]
            elif code == CANCELLED:
                cancel_time = times[n]
        reg = self.region
        c = b.create_time
        # Mixed-radix digits of two hashes (cheaper than one hash per choice).
        x = b.draws_seed
        x, n = divmod(x, len(SHIPPING_PROVIDERS))
        provider_id, provider_name = SHIPPING_PROVIDERS[n]
        x, n = divmod(x, len(_FIRST_NAMES))
        first = _FIRST_NAMES[n]
        x, n = divmod(x, len(_LAST_NAMES))
        last = _LAST_NAMES[n]
        x, n = divmod(x, len(STREETS))
        x, number = divmod(x, 9999)
        street = f"{number + 1} {STREETS[n]}"
        x, n = divmod(x, len(DELIVERY_OPTIONS))
        option_id, option_name = DELIVERY_OPTIONS[n]
        x, n = divmod(x, len(PAYMENT_METHODS))
        payment_method = PAYMENT_METHODS[n]
        x, n = divmod(x, len(_BUYER_MESSAGES))
        buyer_message = _BUYER_MESSAGES[n]
        y = mix64(x ^ b.draws_seed)
        y, n = divmod(y, len(_SELLER_NOTES))
        seller_note = _SELLER_NOTES[n]
        y, area = divmod(y, 790)
        y, line = divmod(y, 9000)
        phone = f"{reg.phone_prefix}{area + 200}-***-{line + 1000}"
        y, unit_no = divmod(y, 40)
        unit_no += 1
        city, province, _state_code, postal = b.place
        requested = bool(lc.request_cancel_time and lc.request_cancel_time <= t)
        cancelled = status == CANCELLED
        cancel_reason = ""
        if cancelled:
            if lc.path == PATH_UNPAID_CANCEL:
                reasons = UNPAID_CANCEL_REASONS
            elif lc.cancel_by == "SELLER":
                reasons = SELLER_CANCEL_REASONS
            else:
                reasons = BUYER_CANCEL_REASONS
            cancel_reason = reasons[y % len(reasons)]
        tracking = f"TT{b.package_id[-12:]}" if rts_time else ""
        parts = [
            f'{{"id":"{b.id}","status":"{STATUS_NAMES[status]}","create_time":{c},'
            f'"update_time":{update_time}'
        ]
        if paid_time:
            parts.append(
                f',"paid_time":{paid_time},"rts_sla_time":{paid_time + 2 * DAY},'
                f'"tts_sla_time":{paid_time + 3 * DAY},"shipping_due_time":{paid_time + 2 * DAY},'
                f'"collection_due_time":{paid_time + 3 * DAY},'
                f'"delivery_due_time":{paid_time + 8 * DAY},'
                f'"delivery_sla_time":{paid_time + 8 * DAY}'
            )
        else:
            parts.append(f',"cancel_order_sla_time":{c + DAY}')
        if rts_time:
            parts.append(f',"rts_time":{rts_time}')
        if collection_time:
            parts.append(f',"collection_time":{collection_time}')
        if delivery_time:
            parts.append(f',"delivery_time":{delivery_time}')
        if cancelled:
            parts.append(
                f',"cancel_time":{cancel_time},"cancel_reason":"{cancel_reason}",'
                f'"cancellation_initiator":"{lc.cancel_by}"'
            )
        if requested:
            parts.append(f',"request_cancel_time":{lc.request_cancel_time}')
        fulfillment = (
            "FULFILLMENT_BY_TIKTOK"
            if b.shipping_type == "TIKTOK" and (b.draws_seed & 0xF) == 0
            else "FULFILLMENT_BY_SELLER"
        )
        has_package = bool(paid_time)
        parts.append(
            f',"user_id":"{b.user_id}","buyer_email":"{b.user_id[-8:]}@scs.tiktokw.us",'
            f'"buyer_message":{buyer_message},"seller_note":{seller_note},'
            f'"fulfillment_type":"{fulfillment}","shipping_type":"{b.shipping_type}",'
            f'"delivery_type":"HOME_DELIVERY","delivery_option_id":"{option_id}",'
            f'"delivery_option_name":"{option_name}","warehouse_id":"{b.warehouse_id}",'
            f'"payment_method_name":"{payment_method}","order_type":"NORMAL",'
            f'"commerce_platform":"TIKTOK_SHOP",'
            f'"is_cod":{_BOOL[payment_method == "Cash on delivery"]},'
            f'"is_sample_order":false,"is_on_hold_order":{_BOOL[status == ON_HOLD]},'
            f'"is_replacement_order":false,"is_exchange_order":false,'
            f'"is_buyer_request_cancel":{_BOOL[requested and not cancelled]},'
            f'"has_updated_recipient_address":false,'
        )
        parts.append(f'"packages":[{{"id":"{b.package_id}"}}]' if has_package else '"packages":[]')
        if rts_time:
            parts.append(
                f',"tracking_number":"{tracking}","shipping_provider":"{provider_name}",'
                f'"shipping_provider_id":"{provider_id}"'
            )
        parts.append(',"payment":')
        parts.append(self.payment_json(b))
        post_town = f',"post_town":"{city}"' if reg.code == "GB" else ""
        parts.append(
            f',"recipient_address":{{"name":"{first[1:-1]} {last[1:-1]}",'
            f'"first_name":{first},"last_name":{last},"phone_number":"{phone}",'
            f'"full_address":"{street}, {city}, {province} {postal}, {reg.country}",'
            f'"address_detail":"Unit {unit_no}","address_line1":"{street}",'
            f'"address_line2":"","address_line3":"","address_line4":"",'
            f'"postal_code":"{postal}","region_code":"{reg.code}","district_info":['
            f'{{"address_level_name":"Country","address_name":"{reg.country}",'
            f'"address_level":"L0"}},{{"address_level_name":"State",'
            f'"address_name":"{province}","address_level":"L1"}},'
            f'{{"address_level_name":"City","address_name":"{city}","address_level":"L2"}}],'
            f'"delivery_preferences":{{"drop_off_location":"Front Door"}}{post_town}}}'
        )
        display = DISPLAY_STATUS[status]
        dynamic = ""
        if has_package:
            dynamic += f',"package_id":"{b.package_id}","package_status":"{PACKAGE_STATUS[status]}"'
        if rts_time:
            dynamic += (
                f',"rts_time":{rts_time},"tracking_number":"{tracking}",'
                f'"shipping_provider_id":"{provider_id}","shipping_provider_name":"{provider_name}"'
            )
        if cancelled:
            dynamic += f',"cancel_reason":"{cancel_reason}","cancel_user":"{lc.cancel_by}"'
        dec = reg.decimals
        rate = f"{b.tax_rate_bp / 10000:.4f}"
        lines = []
        for it in b.items:
            tax = (
                f',"item_tax":[{{"tax_type":"SALES_TAX","tax_amount":"{_money(it.tax, dec)}",'
                f'"tax_rate":"{rate}"}}]'
                if self.sales_tax
                else ""
            )
            lines.append(
                f'{{"id":"{it.id}",{self.catalog.fragment(it.sku)},'
                f'"sale_price":"{_money(it.sale, dec)}",'
                f'"seller_discount":"{_money(it.seller_discount, dec)}",'
                f'"platform_discount":"{_money(it.platform_discount, dec)}",'
                f'"display_status":"{display}"{dynamic}{tax}}}'
            )
        parts.append(',"line_items":[')
        parts.append(",".join(lines))
        parts.append("]}")
        return "".join(parts).encode(), update_time, valid_until

    def render_many(self, indices: Sequence[int], t: int
                    ) -> tuple[list[bytes], list[int], list[float]]:
        """Orders ``indices`` at ``t`` like :meth:`render_bytes`, computed as one batch.

        Returns (bodies, valid_from, valid_until), one entry per index.

        The serving path: same bytes as :meth:`render_bytes` (the readable reference, which
        the tests compare it with), several times faster per order.
        """
        from tiktok_pipeline.sandbox.order_batch import render_orders

        return render_orders(self, indices, t)

    def price_detail(self, i: int) -> dict:
        """Get Price Detail's data for order ``i``."""
        b = self.base(i)
        pay = self.payment(b)
        dec = self.region.decimals
        zero = money(0, dec)
        shipping_sale = b.shipping_original - b.shipping_seller_discount - (
            b.shipping_platform_discount
        )
        lines = [
            {
                "id": it.id,
                "currency": pay["currency"],
                "sku_list_price": money(it.original, dec),
                "sku_sale_price": money(it.sale, dec),
                "subtotal": money(it.sale, dec),
                "subtotal_deduction_seller": money(it.seller_discount, dec),
                "subtotal_deduction_platform": money(it.platform_discount, dec),
                "subtotal_tax_amount": money(it.tax, dec),
                "tax_amount": money(it.tax, dec),
                "tax_rate": f"{b.tax_rate_bp / 10000:.4f}",
                "voucher_deduction_seller": zero,
                "voucher_deduction_platform": zero,
                "net_price_amount": money(it.sale + it.tax, dec),
                "payment": money(it.sale + it.tax, dec),
                "total": money(it.sale + it.tax, dec),
                "cod_fee": zero,
                "cod_fee_net_amount": zero,
                "sku_gift_original_price": zero,
                "sku_gift_net_price": zero,
            }
            for it in b.items
        ]
        return {
            "currency": pay["currency"],
            "total": pay["total_amount"],
            "payment": pay["total_amount"],
            "sku_list_price": pay["original_total_product_price"],
            "sku_sale_price": pay["sub_total"],
            "subtotal": pay["sub_total"],
            "subtotal_deduction_seller": pay["seller_discount"],
            "subtotal_deduction_platform": pay["platform_discount"],
            "subtotal_tax_amount": pay["product_tax"],
            "voucher_deduction_seller": zero,
            "voucher_deduction_platform": zero,
            "shipping_list_price": pay["original_shipping_fee"],
            "shipping_sale_price": money(shipping_sale, dec),
            "shipping_fee_deduction_seller": pay["shipping_fee_seller_discount"],
            "shipping_fee_deduction_platform": pay["shipping_fee_platform_discount"],
            "shipping_fee_deduction_platform_voucher": zero,
            "tax_amount": pay["tax"],
            "tax_rate": f"{b.tax_rate_bp / 10000:.4f}",
            "net_price_amount": pay["total_amount"],
            "cod_fee": zero,
            "cod_fee_net_amount": zero,
            "sku_gift_original_price": zero,
            "sku_gift_net_price": zero,
            "line_items": lines,
        }
