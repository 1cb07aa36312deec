"""The JSON members of an order that come from small tables, as text (made once per shop).

Each function writes the members of one piece of an order
(:class:`~tiktok_pipeline.sandbox.orders.shop_tables.ShopTables` keeps them in lookup
tables): cancel reasons, fulfilment, payment flags, Brazil's CPF name, combined listings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from tiktok_pipeline.sandbox.catalog import (
    BUYER_CANCEL_REASONS,
    SELLER_CANCEL_REASONS,
    UNPAID_CANCEL_REASONS,
)
from tiktok_pipeline.sandbox.orders.book import OrderBook
from tiktok_pipeline.sandbox.orders.conventions import (
    COMBINED_LISTING_PARTS,
    HANDLING_DAYS,
    KATAKANA_NAMES,
    PAYMENT_METHOD_CODES,
    is_combined_listing,
)
from tiktok_pipeline.sandbox.orders.text_rows import table

JSON_BOOL = ("false", "true")
#: Who cancelled, by ``arrays.OrderLifecycles.by``.
CANCELLED_BY = ("BUYER", "SYSTEM", "SELLER")
#: Cancel reasons: unpaid orders, cancelled by the seller, by the buyer.
REASON_SETS = (UNPAID_CANCEL_REASONS, SELLER_CANCEL_REASONS, BUYER_CANCEL_REASONS)
#: Where each reason set starts in the cancel tables (then one entry per reason and canceller).
REASON_SET_START = np.cumsum([0, *(len(reasons) for reasons in REASON_SETS)])[:-1]


def json_texts(texts: Sequence[str]) -> tuple[str, ...]:
    """Each text as a JSON string (with its quotes)."""
    return tuple(json.dumps(text) for text in texts)


def reason_texts(template: str) -> list[str]:
    """One text per (reason set, reason, who cancelled): index (start + reason) * 3 + who.

    ``start``: the set's :data:`REASON_SET_START`.
    """
    return [
        template.format(reason=reason, who=who)
        for reasons in REASON_SETS
        for reason in reasons
        for who in CANCELLED_BY
    ]


def fulfilment_text(bm: str, sn: str, kind: int, oid: str, oname: str, wh: str) -> str:
    """The members from buyer_message to warehouse_id.

    ``bm``, ``sn``: JSON strings; ``kind``: 0 seller shipping, 1 TikTok shipping, 2 TikTok
    shipping and fulfilment.
    """
    fulfillment = "FULFILLMENT_BY_TIKTOK" if kind == 2 else "FULFILLMENT_BY_SELLER"
    shipping_type = "SELLER" if kind == 0 else "TIKTOK"
    return (
        f'"buyer_message":{bm},"seller_note":{sn},'
        f'"fulfillment_type":"{fulfillment}","shipping_type":"{shipping_type}",'
        f'"delivery_type":"HOME_DELIVERY","delivery_option_id":"{oid}",'
        f'"delivery_option_name":"{oname}","warehouse_id":"{wh}",'
    )


def cpf_names(region_code: str, first_names: Sequence[str], last_names: Sequence[str]) -> dict:
    """Brazil's ``cpf_name`` piece (the buyer's name, as the recipient's), keyed like ``names``.

    Other regions send an empty ``cpf_name`` within the order layout: no table.
    """
    if region_code != "BR":
        return {}
    return {
        "cpf_name": table(
            [f'"cpf_name":"{f[1:-1]} {la[1:-1]}",' for f in first_names for la in last_names]
        )
    }


def combined_listing_text(book: OrderBook, j: int) -> str:
    """The ``combined_listing_skus`` entries of sellable SKU ``j`` ("" unless combined)."""
    if not is_combined_listing(j):
        return ""
    sellable = book.catalog.sellable
    parts = [sellable[(j + k) % len(sellable)] for k in range(1, COMBINED_LISTING_PARTS + 1)]
    return ",".join(
        f'{{"sku_id":"{sku.id}","sku_count":1,'
        f'"product_id":"{book.catalog.products[sku.product_index].id}",'
        f'"seller_sku":{json.dumps(sku.seller_sku)}}}'
        for sku in parts
    )


def flags_text(pm: str, hold: int, asks: int, card: str) -> str:
    """The members from payment_method_name to has_updated_recipient_address.

    ``card``: the brand a card payment (CCDC) was made with.
    """
    return (
        f'"payment_method_name":"{pm}","payment_method_code":"{PAYMENT_METHOD_CODES[pm]}",'
        f'"payment_card_type":"{card if pm == "CCDC" else ""}",'
        f'"handling_duration":{{"days":"{HANDLING_DAYS}","type":"CALENDAR_DAY"}},'
        '"split_or_combine_tag":"","auto_combine_group_id":"",'
        '"channel_entity_national_registry_id":"",'
        f'"order_type":"NORMAL","commerce_platform":"TIKTOK_SHOP",'
        f'"is_cod":{JSON_BOOL[pm == "Cash on delivery"]},"is_sample_order":false,'
        f'"is_on_hold_order":{JSON_BOOL[hold]},"is_replacement_order":false,'
        f'"is_exchange_order":false,"is_buyer_request_cancel":{JSON_BOOL[asks]},'
        f'"has_updated_recipient_address":false,'
    )


def local_script_names(region_code: str, first: str, last: str) -> str:
    """The recipient's names in the local script, as members ending with a comma.

    Only Japan's recipients have them (katakana); elsewhere nothing.
    """
    if region_code != "JP":
        return ""
    return (
        f'"first_name_local_script":"{KATAKANA_NAMES.get(first, first)}",'
        f'"last_name_local_script":"{KATAKANA_NAMES.get(last, last)}",'
    )
