"""Orders as Get Order List and Get Order Detail serve them: compact JSON bytes.

A page of orders is rendered in two steps. First its numbers, with numpy: the orders' hashes,
lifecycles, states at ``t``, random draws and ids
(:class:`~tiktok_pipeline.sandbox.orders.page_numbers.PageNumbers`). Then each order's text,
in plain Python: one f-string per order and one per line item, from the numbers and from
texts made once per shop (:class:`ShopTexts`: SKU members with their prices, addresses,
money strings). Every inserted
text is JSON-safe by construction: ids, numbers, money strings, fixed words, and catalog texts
encoded once with ``json.dumps``.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Sequence

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
from tiktok_pipeline.sandbox.orders.book import OrderBook, line_discounts, shipping_discounts
from tiktok_pipeline.sandbox.orders.lifecycle import (
    CANCELLED,
    DAY,
    DISPLAY_STATUS,
    ON_HOLD,
    PACKAGE_STATUS,
    STATUS_NAMES,
)
from tiktok_pipeline.sandbox.orders.page_numbers import PageNumbers

JSON_BOOL = ("false", "true")
#: Who cancelled, by ``arrays.OrderLifecycles.by``.
CANCELLED_BY = ("BUYER", "SYSTEM", "SELLER")


def _json(texts: Sequence[str]) -> tuple[str, ...]:
    """Each text as a JSON string (with its quotes)."""
    return tuple(json.dumps(text) for text in texts)


FIRST_NAME_JSON = _json(FIRST_NAMES)
LAST_NAME_JSON = _json(LAST_NAMES)
BUYER_MESSAGE_JSON = _json(BUYER_MESSAGES)
SELLER_NOTE_JSON = _json(SELLER_NOTES)


class ShopTexts:
    """The parts of an order's text that only depend on the shop, made once."""

    def __init__(self, book: OrderBook) -> None:
        reg = book.region
        self.region = reg
        self.money = functools.lru_cache(maxsize=1 << 16)(
            functools.partial(money, decimals=reg.decimals)
        )
        m = self.money
        zero = m(0)
        self.zero = zero
        self.sales_tax = reg.sales_tax
        unit = reg.rounding
        #: Per promotion kind and sellable SKU: (list price, seller discount, platform
        #: discount, sale price, the line item's members from the SKU to its discounts).
        self.lines: list[list[tuple[int, int, int, int, str]]] = []
        for promo in range(3):
            kind = []
            for sku in book.catalog.sellable:
                seller, platform = line_discounts(sku.price, promo, unit)
                sale = sku.price - seller - platform
                kind.append(
                    (
                        sku.price,
                        seller,
                        platform,
                        sale,
                        f'{sku.fragment},"sale_price":"{m(sale)}",'
                        f'"seller_discount":"{m(seller)}",'
                        f'"platform_discount":"{m(platform)}"',
                    )
                )
            self.lines.append(kind)
        ship = reg.shipping_fee
        #: Per shipping class: (the fee the buyer pays, its payment member, the payment's
        #: members from the original fee to the co-funded discount).
        self.shipping: list[tuple[int, str, str]] = []
        for ship_class in range(4):
            seller, platform = shipping_discounts(ship, ship_class, unit)
            fee = ship - seller - platform
            self.shipping.append(
                (
                    fee,
                    f'"shipping_fee":"{m(fee)}"',
                    f'"original_shipping_fee":"{m(ship)}",'
                    f'"shipping_fee_seller_discount":"{m(seller)}",'
                    f'"shipping_fee_platform_discount":"{m(platform)}",'
                    f'"shipping_fee_cofunded_discount":"{zero}"',
                )
            )
        #: Per place: (tax rate in basis points, retail delivery fee, tax rate text, the
        #: address after the street, the address's end).
        self.places = []
        post_town = reg.code == "GB"
        for city, province, state_code, postal in reg.places:
            tax_bp = US_TAX_BP.get(state_code, 600) if reg.sales_tax else 0
            rdf = US_RETAIL_DELIVERY_FEE.get(state_code, 0) if reg.sales_tax else 0
            self.places.append(
                (
                    tax_bp,
                    rdf,
                    f"{tax_bp / 10000:.4f}",
                    f", {city}, {province} {postal}, {reg.country}",
                    f'"address_line2":"","address_line3":"","address_line4":"",'
                    f'"postal_code":"{postal}","region_code":"{reg.code}","district_info":['
                    f'{{"address_level_name":"Country","address_name":"{reg.country}",'
                    f'"address_level":"L0"}},{{"address_level_name":"State",'
                    f'"address_name":"{province}","address_level":"L1"}},'
                    f'{{"address_level_name":"City","address_name":"{city}","address_level":"L2"}}],'
                    f'"delivery_preferences":{{"drop_off_location":"Front Door"}}'
                    + (f',"post_town":"{city}"' if post_town else "")
                    + "}",
                )
            )
        self.payment_end = (
            f'"small_order_fee":"{zero}"',
            f'"buyer_service_fee":"{zero}","handling_fee":"{zero}",'
            f'"shipping_insurance_fee":"{zero}","item_insurance_fee":"{zero}",'
            f'"item_insurance_tax":"{zero}"}}',
        )
        self.currency = reg.currency
        self.phone_prefix = reg.phone_prefix
        #: By (message, note, by_tiktok, option, warehouse): the members from buyer_message to
        #: warehouse_id (``by_tiktok``: 0 seller shipping, 1 TikTok shipping, 2 and fulfilment).
        self.buyer_and_delivery = {
            key: _buyer_and_delivery(
                BUYER_MESSAGE_JSON[key[0]],
                SELLER_NOTE_JSON[key[1]],
                key[2],
                *DELIVERY_OPTIONS[key[3]],
                book.warehouses[key[4]],
            )
            for key in itertools.product(
                range(len(BUYER_MESSAGES)),
                range(len(SELLER_NOTES)),
                range(3),
                range(len(DELIVERY_OPTIONS)),
                range(len(book.warehouses)),
            )
        }
        #: By (payment method, on hold, buyer asks to cancel): the members from
        #: payment_method_name to has_updated_recipient_address.
        self.payment_and_flags = {
            (n, on_hold, asks): (
                f'"payment_method_name":"{method}","order_type":"NORMAL",'
                f'"commerce_platform":"TIKTOK_SHOP",'
                f'"is_cod":{JSON_BOOL[method == "Cash on delivery"]},"is_sample_order":false,'
                f'"is_on_hold_order":{JSON_BOOL[on_hold]},"is_replacement_order":false,'
                f'"is_exchange_order":false,"is_buyer_request_cancel":{JSON_BOOL[asks]},'
                f'"has_updated_recipient_address":false'
            )
            for n, method in enumerate(PAYMENT_METHODS)
            for on_hold in (False, True)
            for asks in (False, True)
        }
        #: By (first name, last name): the recipient's name members.
        self.names = {
            (n, k): f'"name":"{first[1:-1]} {last[1:-1]}","first_name":{first},"last_name":{last}'
            for n, first in enumerate(FIRST_NAME_JSON)
            for k, last in enumerate(LAST_NAME_JSON)
        }


def _buyer_and_delivery(
    message: str, note: str, by_tiktok: int, option_id: str, option_name: str, warehouse: str
) -> str:
    """The members from buyer_message to warehouse_id (``message``, ``note``: JSON texts)."""
    fulfillment = "FULFILLMENT_BY_TIKTOK" if by_tiktok == 2 else "FULFILLMENT_BY_SELLER"
    shipping_type = "SELLER" if by_tiktok == 0 else "TIKTOK"
    return (
        f'"buyer_message":{message},"seller_note":{note},"fulfillment_type":"{fulfillment}",'
        f'"shipping_type":"{shipping_type}","delivery_type":"HOME_DELIVERY",'
        f'"delivery_option_id":"{option_id}","delivery_option_name":"{option_name}",'
        f'"warehouse_id":"{warehouse}"'
    )


class OrderRenderer:
    """Renders the orders of one shop."""

    def __init__(self, book: OrderBook) -> None:
        self.book = book
        self.texts = ShopTexts(book)

    def render(self, indices: Sequence[int], t: int) -> list[bytes]:
        """Orders ``indices`` at ``t`` (each must exist at ``t``), as JSON bytes."""
        if not len(indices):
            return []
        p = PageNumbers.of(self.book, np.asarray(indices, dtype=np.int64), t)
        return list(
            map(
                self.order,
                p.order_id,
                p.package_id,
                p.buyer_id,
                p.line_ids,
                p.create_time,
                p.status,
                p.update_time,
                p.paid,
                p.rts,
                p.collected,
                p.delivered,
                p.requested,
                p.cancel_by,
                p.unpaid_cancel,
                p.draws,
                p.reason_draw,
                p.by_tiktok,
                p.warehouse,
                p.place,
                p.promo,
                p.ship_class,
                p.picks,
            )
        )

    def order(
        self,
        order_id: int,
        package_id: int,
        buyer_id: int,
        line_ids: list[int],
        c: int,
        status: int,
        update_time: int,
        paid: int,
        rts: int,
        collected: int,
        delivered: int,
        requested: int,
        cancel_by: int,
        unpaid_cancel: bool,
        draws: list[int],
        reason_draw: int,
        by_tiktok: int,
        warehouse: int,
        place: int,
        promo: int,
        ship_class: int,
        picks: list[int],
    ) -> bytes:
        """One order (the arguments: one row of :class:`PageNumbers`)."""
        tx = self.texts
        m = tx.money
        (provider, first, last, street, number, option, method, message, note, area, line, flat) = (
            draws
        )
        provider_id, provider_name = SHIPPING_PROVIDERS[provider]
        street_text = f"{number + 1} {STREETS[street]}"
        tax_bp, rdf, tax_rate, town, address_end = tx.places[place]
        cancelled = status == CANCELLED
        who = CANCELLED_BY[cancel_by]
        flags = tx.payment_and_flags[method, status == ON_HOLD, bool(requested) and not cancelled]

        if paid:
            times = (
                f',"paid_time":{paid},"rts_sla_time":{paid + 2 * DAY},'
                f'"tts_sla_time":{paid + 3 * DAY},"shipping_due_time":{paid + 2 * DAY},'
                f'"collection_due_time":{paid + 3 * DAY},"delivery_due_time":{paid + 8 * DAY},'
                f'"delivery_sla_time":{paid + 8 * DAY}'
            )
        else:
            times = f',"cancel_order_sla_time":{c + DAY}'
        if rts:
            times += f',"rts_time":{rts}'
        if collected:
            times += f',"collection_time":{collected}'
        if delivered:
            times += f',"delivery_time":{delivered}'
        item_end = f',"display_status":"{DISPLAY_STATUS[status]}"'
        if cancelled:
            if unpaid_cancel:
                reasons = UNPAID_CANCEL_REASONS
            elif who == "SELLER":
                reasons = SELLER_CANCEL_REASONS
            else:
                reasons = BUYER_CANCEL_REASONS
            reason = reasons[reason_draw % len(reasons)]
            times += (
                f',"cancel_time":{update_time},"cancel_reason":"{reason}",'
                f'"cancellation_initiator":"{who}"'
            )
        if requested:
            times += f',"request_cancel_time":{requested}'
        if paid:
            packages = f'"packages":[{{"id":"{package_id}"}}]'
            item_end += f',"package_id":"{package_id}","package_status":"{PACKAGE_STATUS[status]}"'
        else:
            packages = '"packages":[]'
        if rts:
            tracking = f"TT{str(package_id)[-12:]}"
            packages += (
                f',"tracking_number":"{tracking}","shipping_provider":"{provider_name}",'
                f'"shipping_provider_id":"{provider_id}"'
            )
            item_end += (
                f',"rts_time":{rts},"tracking_number":"{tracking}",'
                f'"shipping_provider_id":"{provider_id}",'
                f'"shipping_provider_name":"{provider_name}"'
            )
        if cancelled:
            item_end += f',"cancel_reason":"{reason}","cancel_user":"{who}"'

        # Amounts: line items from the shop's table, taxes (US) split over the items.
        lines = tx.lines[promo]
        items = [lines[pick] for pick in picks]
        original = seller_discount = platform_discount = sub_total = 0
        for item in items:
            original += item[0]
            seller_discount += item[1]
            platform_discount += item[2]
            sub_total += item[3]
        shipping_fee, shipping_text, shipping_discounts_text = tx.shipping[ship_class]
        product_tax = sub_total * tax_bp // 10000
        shipping_tax = shipping_fee * tax_bp // 10000
        total = sub_total + shipping_fee + product_tax + shipping_tax + rdf
        if tx.sales_tax:
            taxes = [item[3] * tax_bp // 10000 for item in items[:-1]]
            taxes.append(product_tax - sum(taxes))
            if not product_tax:
                taxes = [0] * len(items)
            item_texts = [
                f'{{"id":"{line_id}",{item[4]}{item_end},"item_tax":[{{"tax_type":"SALES_TAX",'
                f'"tax_amount":"{m(tax)}","tax_rate":"{tax_rate}"}}]}}'
                for line_id, item, tax in zip(line_ids, items, taxes, strict=True)
            ]
        else:
            item_texts = [
                f'{{"id":"{line_id}",{item[4]}{item_end}}}'
                for line_id, item in zip(line_ids, items, strict=True)
            ]
        small_order_fee, payment_end = tx.payment_end
        return (
            f'{{"id":"{order_id}","status":"{STATUS_NAMES[status]}","create_time":{c},'
            f'"update_time":{update_time}{times},"user_id":"{buyer_id}",'
            f'"buyer_email":"{str(buyer_id)[-8:]}@scs.tiktokw.us",'
            f"{tx.buyer_and_delivery[message, note, by_tiktok, option, warehouse]},"
            f"{flags},{packages},"
            f'"payment":{{"currency":"{tx.currency}","sub_total":"{m(sub_total)}",'
            f'{shipping_text},"seller_discount":"{m(seller_discount)}",'
            f'"platform_discount":"{m(platform_discount)}","total_amount":"{m(total)}",'
            f'"original_total_product_price":"{m(original)}",{shipping_discounts_text},'
            f'"tax":"{m(product_tax + shipping_tax)}","product_tax":"{m(product_tax)}",'
            f'"shipping_fee_tax":"{m(shipping_tax)}",{small_order_fee},'
            f'"retail_delivery_fee":"{m(rdf)}",{payment_end},'
            f'"recipient_address":{{{tx.names[first, last]},'
            f'"phone_number":"{tx.phone_prefix}{area + 200}-***-{line + 1000}",'
            f'"full_address":"{street_text}{town}","address_detail":"Unit {flat + 1}",'
            f'"address_line1":"{street_text}",{address_end},'
            f'"line_items":[{",".join(item_texts)}]}}'
        ).encode()
