"""TikTok JSON objects -> warehouse rows (one parent row plus its child rows per entity).

Pure functions: no database, no HTTP. :func:`serialize` gives an entity's canonical JSON (and
that of its children, for their ``raw``); each ``*_rows`` function then maps one entity,
exactly as TikTok's API returns it, to a :class:`Prepared`: the parent row and the rows of
its child tables. A bad value raises :class:`~tiktok_pipeline.warehouse.convert.BadValue`
naming the field.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tiktok_pipeline.warehouse import convert
from tiktok_pipeline.warehouse.convert import BadValue, row_hash, to_utc
from tiktok_pipeline.warehouse.types import SerializedJSON

Row = dict[str, Any]

_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)
# Stands in for the children array while the parent is encoded; random, so that no
# TikTok value can contain its encoding.
_PLACEHOLDER = f"\x00tiktok-pipeline-children-{uuid.uuid4().hex}\x00"
_PLACEHOLDER_JSON = _ENCODER.encode(_PLACEHOLDER)


@dataclass(slots=True)
class Serialized:
    """An entity's canonical JSON, its sha256 and the canonical JSON of each child object."""

    canonical: SerializedJSON
    digest: str
    children: list[SerializedJSON] | None


def serialize(data: dict[str, Any], children_field: str) -> Serialized:
    """Canonical JSON (sorted keys, no spaces) of ``data`` and of each of its children.

    The children are encoded once and spliced into the parent's text, so their ``raw``
    costs nothing extra; the result is byte-identical to encoding ``data`` in one go.
    """
    children = data.get(children_field)
    if not isinstance(children, list) or not children:
        text = SerializedJSON(_ENCODER.encode(data))
        return Serialized(text, row_hash(text), None)
    child_texts = [SerializedJSON(_ENCODER.encode(child)) for child in children]
    shell = dict(data)
    shell[children_field] = _PLACEHOLDER
    text = _ENCODER.encode(shell).replace(
        _PLACEHOLDER_JSON, "[" + ",".join(child_texts) + "]", 1
    )
    text = SerializedJSON(text)
    return Serialized(text, row_hash(text), child_texts)


@dataclass(slots=True)
class Prepared:
    """One entity turned into rows: the parent row and, per child table, its rows."""

    key: str
    row: Row
    children: dict[str, list[Row]]


@dataclass(frozen=True, slots=True)
class Context:
    """What every row of one load shares: the shop, the time of the load and its source."""

    shop_id: str
    synced_at: datetime
    source: str


ORDER_TIMES = (
    ("create_time", "created_at"),
    ("update_time", "updated_at"),
    ("paid_time", "paid_at"),
    ("rts_time", "rts_at"),
    ("collection_time", "collected_at"),
    ("delivery_time", "delivered_at"),
    ("cancel_time", "cancelled_at"),
)
ORDER_TEXT = (
    "status",
    "fulfillment_type",
    "shipping_type",
    "delivery_type",
    "payment_method_name",
    "order_type",
    "warehouse_id",
    "shipping_provider",
    "tracking_number",
    "cancel_reason",
    "cancellation_initiator",
)
ORDER_FLAGS = (
    "is_cod",
    "is_sample_order",
    "is_on_hold_order",
    "is_replacement_order",
    "is_exchange_order",
    "is_buyer_request_cancel",
)
ORDER_PAYMENT = (
    "sub_total",
    "shipping_fee",
    "seller_discount",
    "platform_discount",
    "total_amount",
    "original_total_product_price",
    "original_shipping_fee",
    "shipping_fee_seller_discount",
    "shipping_fee_platform_discount",
    "tax",
    "product_tax",
    "shipping_fee_tax",
    "retail_delivery_fee",
    "small_order_fee",
    "buyer_service_fee",
    "handling_fee",
)
LINE_ITEM_TEXT = (
    "product_id",
    "sku_id",
    "product_name",
    "sku_name",
    "seller_sku",
    "currency",
    "display_status",
    "package_id",
    "package_status",
    "cancel_reason",
    "cancel_user",
)
LINE_ITEM_MONEY = ("sale_price", "original_price", "platform_discount", "seller_discount")
PRODUCT_TIMES = (("create_time", "created_at"), ("update_time", "updated_at"))
RETURN_TIMES = PRODUCT_TIMES
RETURN_TEXT = (
    "order_id",
    "return_type",
    "return_status",
    "role",
    "arbitration_status",
    "return_reason",
    "return_reason_text",
    "shipment_type",
    "handover_method",
    "return_method",
    "combined_return_id",
)
RETURN_REFUND = (
    "refund_total",
    "refund_subtotal",
    "refund_shipping_fee",
    "refund_tax",
    "retail_delivery_fee",
    "buyer_service_fee",
)
RETURN_LINE_TEXT = ("order_line_item_id", "sku_id", "sku_name", "product_name", "seller_sku")
RETURN_LINE_REFUND = ("refund_total", "refund_subtotal", "refund_shipping_fee", "refund_tax")


class Fields:
    """Reads the fields of one JSON object; a bad value raises BadValue naming its path.

    The common case (a value of the expected JSON type) takes a short path; everything
    else goes through :mod:`~tiktok_pipeline.warehouse.convert`.
    """

    __slots__ = ("data", "path")

    def __init__(self, data: Any, path: str = "") -> None:
        if data is None:
            data = {}
        elif not isinstance(data, dict):
            where = path.rstrip(".") or "the entity"
            raise BadValue(f"{where}: expected a JSON object, got {type(data).__name__}")
        self.data = data
        self.path = path

    def _slow(self, converter, key: str, value: Any) -> Any:
        try:
            return converter(value)
        except BadValue as exc:
            raise BadValue(f"field {self.path}{key}: {exc}") from None

    def text(self, key: str) -> str | None:
        """A string; ``""`` and missing give None."""
        value = self.data.get(key)
        if value.__class__ is str:
            return value or None
        return self._slow(convert.text, key, value)

    def money(self, key: str) -> Decimal | None:
        """An exact Decimal from TikTok's amount string; ``""`` and missing give None."""
        value = self.data.get(key)
        if value.__class__ is str and value:
            try:
                amount = Decimal(value)
            except InvalidOperation:
                amount = None
            if amount is not None and amount.is_finite():
                return amount
        return self._slow(convert.money, key, value)

    def flag(self, key: str) -> bool | None:
        """A boolean; missing gives None."""
        value = self.data.get(key)
        if value.__class__ is bool:
            return value
        return self._slow(convert.flag, key, value)

    def integer(self, key: str) -> int | None:
        """An int; missing gives None."""
        value = self.data.get(key)
        if value.__class__ is int:
            return value
        return self._slow(convert.integer, key, value)

    def epoch(self, key: str) -> int | None:
        """Unix seconds; ``0`` and missing give None."""
        value = self.data.get(key)
        if value.__class__ is int:
            return value or None
        return self._slow(convert.epoch, key, value)

    def items(self, key: str) -> list[Any] | None:
        """The array under ``key``; None when it is missing or null."""
        value = self.data.get(key)
        if value is None or value.__class__ is list:
            return value
        return self._slow(convert.items, key, value)

    def child(self, key: str) -> Fields:
        """The nested object under ``key`` (empty when missing or null)."""
        return Fields(self.data.get(key), f"{self.path}{key}.")

    def times(self, row: Row, pairs: tuple[tuple[str, str], ...]) -> None:
        """Sets ``row[time]`` (Unix seconds) and ``row[at]`` (UTC datetime) for each pair."""
        for time_name, at_name in pairs:
            seconds = self.epoch(time_name)
            row[time_name] = seconds
            row[at_name] = None if seconds is None else to_utc(seconds)


def entity_id(data: Any, key: str, label: str) -> str:
    """The entity's id (a non-empty string); BadValue when it is not an object or has none."""
    if not isinstance(data, dict):
        raise BadValue(f"expected a JSON object for the {label}, got {type(data).__name__}")
    value = Fields(data).text(key)
    if not value:
        raise BadValue(f"the {label} has no {key!r}")
    return value


def _required_id(fields: Fields, key: str, where: str) -> str:
    value = fields.text(key)
    if not value:
        raise BadValue(f"{where} has no {key!r}")
    return value


def _finish(row: Row, ctx: Context, raw: Any) -> Row:
    row["raw"] = raw
    row["_synced_at"] = ctx.synced_at
    row["_source"] = ctx.source
    return row


def _child_raw(serialized: Serialized, index: int, data: Any) -> Any:
    return serialized.children[index] if serialized.children is not None else data


def order_rows(data: dict[str, Any], ctx: Context, serialized: Serialized) -> Prepared:
    """Rows of ``tiktok_orders`` and ``tiktok_order_line_items`` for one order object."""
    fields = Fields(data)
    order_id = _required_id(fields, "id", "the order")
    row: Row = {"shop_id": ctx.shop_id, "id": order_id}
    fields.times(row, ORDER_TIMES)
    row["buyer_user_id"] = fields.text("user_id")
    payment = fields.child("payment")
    row["currency"] = payment.text("currency")
    for name in ORDER_PAYMENT:
        row[name] = payment.money(name)
    for name in ORDER_TEXT:
        row[name] = fields.text(name)
    for name in ORDER_FLAGS:
        row[name] = fields.flag(name)
    row["region_code"] = fields.child("recipient_address").text("region_code")
    line_items = fields.items("line_items") or []
    row["line_item_count"] = len(line_items)
    row["_row_hash"] = serialized.digest
    _finish(row, ctx, serialized.canonical)

    children = []
    for index, item in enumerate(line_items):
        item_fields = Fields(item, f"line_items[{index}].")
        child: Row = {
            "shop_id": ctx.shop_id,
            "id": _required_id(item_fields, "id", f"line_items[{index}]"),
            "order_id": order_id,
        }
        for name in LINE_ITEM_TEXT:
            child[name] = item_fields.text(name)
        quantity = item_fields.integer("quantity")
        child["quantity"] = 1 if quantity is None else quantity
        for name in LINE_ITEM_MONEY:
            child[name] = item_fields.money(name)
        child["is_gift"] = item_fields.flag("is_gift")
        item_fields.times(child, (("rts_time", "rts_at"),))
        children.append(_finish(child, ctx, _child_raw(serialized, index, item)))
    return Prepared(order_id, row, {"tiktok_order_line_items": children})


def _list_price(sku: Fields) -> Decimal | None:
    if isinstance(sku.data.get("list_price"), dict):
        return sku.child("list_price").money("amount")
    return sku.money("list_price")


def product_rows(data: dict[str, Any], ctx: Context, serialized: Serialized) -> Prepared:
    """Rows of ``tiktok_products``, its SKUs and their per-warehouse inventory."""
    fields = Fields(data)
    product_id = _required_id(fields, "id", "the product")
    row: Row = {"shop_id": ctx.shop_id, "id": product_id, "title": fields.text("title")}
    row["status"] = fields.text("status")
    fields.times(row, PRODUCT_TIMES)
    row["sales_regions"] = fields.items("sales_regions")
    row["is_not_for_sale"] = fields.flag("is_not_for_sale")
    row["has_draft"] = fields.flag("has_draft")
    row["listing_quality_tier"] = fields.text("listing_quality_tier")
    skus = fields.items("skus") or []
    row["sku_count"] = len(skus)
    row["_row_hash"] = serialized.digest
    _finish(row, ctx, serialized.canonical)

    sku_rows: dict[str, Row] = {}
    stock_rows: dict[tuple[str, str], Row] = {}
    for index, sku in enumerate(skus):
        sku_fields = Fields(sku, f"skus[{index}].")
        sku_id = _required_id(sku_fields, "id", f"skus[{index}]")
        price = sku_fields.child("price")
        inventory = sku_fields.items("inventory")
        sku_row: Row = {
            "shop_id": ctx.shop_id,
            "id": sku_id,
            "product_id": product_id,
            "seller_sku": sku_fields.text("seller_sku"),
            "currency": price.text("currency"),
            "sale_price": price.money("sale_price"),
            "tax_exclusive_price": price.money("tax_exclusive_price"),
            "list_price": _list_price(sku_fields),
            "total_quantity": None,
            "warehouse_count": None,
        }
        if inventory is not None:
            total = 0
            for stock_index, stock in enumerate(inventory):
                stock_fields = Fields(stock, f"skus[{index}].inventory[{stock_index}].")
                warehouse_id = stock_fields.text("warehouse_id") or ""
                quantity = stock_fields.integer("quantity")
                total += quantity or 0
                stock_row: Row = {
                    "shop_id": ctx.shop_id,
                    "sku_id": sku_id,
                    "warehouse_id": warehouse_id,
                    "product_id": product_id,
                    "quantity": quantity,
                    "available_quantity": stock_fields.integer("available_quantity"),
                    "committed_quantity": stock_fields.integer("committed_quantity"),
                    "_synced_at": ctx.synced_at,
                    "_source": ctx.source,
                }
                stock_rows[(sku_id, warehouse_id)] = stock_row
            sku_row["total_quantity"] = total
            sku_row["warehouse_count"] = len(inventory)
        sku_rows[sku_id] = _finish(sku_row, ctx, _child_raw(serialized, index, sku))
    return Prepared(
        product_id,
        row,
        {
            "tiktok_product_skus": list(sku_rows.values()),
            "tiktok_product_sku_inventory": list(stock_rows.values()),
        },
    )


def return_rows(data: dict[str, Any], ctx: Context, serialized: Serialized) -> Prepared:
    """Rows of ``tiktok_returns`` and ``tiktok_return_line_items`` for one return object."""
    fields = Fields(data)
    return_id = _required_id(fields, "return_id", "the return")
    row: Row = {"shop_id": ctx.shop_id, "return_id": return_id}
    for name in RETURN_TEXT:
        row[name] = fields.text(name)
    fields.times(row, RETURN_TIMES)
    refund = fields.child("refund_amount")
    row["currency"] = refund.text("currency")
    for name in RETURN_REFUND:
        row[name] = refund.money(name)
    row["can_buyer_keep_item"] = fields.flag("can_buyer_keep_item")
    row["is_combined_return"] = fields.flag("is_combined_return")
    lines = fields.items("return_line_items") or []
    row["line_item_count"] = len(lines)
    row["_row_hash"] = serialized.digest
    _finish(row, ctx, serialized.canonical)

    order_id = row["order_id"]
    children = []
    for index, line in enumerate(lines):
        line_fields = Fields(line, f"return_line_items[{index}].")
        child: Row = {
            "shop_id": ctx.shop_id,
            "return_line_item_id": _required_id(
                line_fields, "return_line_item_id", f"return_line_items[{index}]"
            ),
            "return_id": return_id,
            "order_id": order_id,
        }
        for name in RETURN_LINE_TEXT:
            child[name] = line_fields.text(name)
        line_refund = line_fields.child("refund_amount")
        child["currency"] = line_refund.text("currency")
        for name in RETURN_LINE_REFUND:
            child[name] = line_refund.money(name)
        children.append(_finish(child, ctx, _child_raw(serialized, index, line)))
    return Prepared(return_id, row, {"tiktok_return_line_items": children})
