"""TikTok JSON objects -> warehouse rows (one parent row plus its child rows per entity).

Pure functions: no database, no HTTP. :func:`serialize` gives an entity's canonical JSON and
its hash; each ``*_rows`` function then maps one entity, exactly as TikTok's API returns it,
to a :class:`Prepared`: the parent row and the rows of its child tables. A bad value raises
:class:`~tiktok_pipeline.warehouse.convert.BadValue` naming the field.

The loaders run this for every entity, so the common case (a value of the expected JSON
type) is read inline; anything else goes through :mod:`~tiktok_pipeline.warehouse.convert`,
which also words the errors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from tiktok_pipeline.warehouse import convert
from tiktok_pipeline.warehouse.convert import EPOCH, BadValue
from tiktok_pipeline.warehouse.types import SerializedJSON

Row = dict[str, Any]

_SORT_KEYS = orjson.OPT_SORT_KEYS
# Only for what orjson refuses (integers beyond 64 bits, non-string keys): same layout.
_FALLBACK = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str
)


@dataclass(slots=True)
class Serialized:
    """An entity's canonical JSON and its sha256 (hex)."""

    canonical: SerializedJSON
    digest: str


def serialize(data: dict[str, Any]) -> Serialized:
    """Canonical JSON of ``data`` (sorted keys, no spaces, UTF-8 text) and its sha256.

    The text is also what the entity's ``raw`` column stores, children included.

    Raises:
        BadValue: ``data`` holds something JSON cannot represent.
    """
    try:
        encoded = orjson.dumps(data, default=str, option=_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        try:
            encoded = _FALLBACK.encode(data).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise BadValue(f"cannot be encoded as JSON: {exc}") from None
    return Serialized(SerializedJSON(encoded, "utf-8"), hashlib.sha256(encoded).hexdigest())


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
    "payment_platform_discount",
    "payment_discount_service_fee",
    "distance_fee",
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
LINE_ITEM_MONEY = (
    "sale_price",
    "original_price",
    "platform_discount",
    "seller_discount",
    "shipping_vat_amount",
)
#: Every exact decimal of a line item: its amounts and the shipping VAT rate (a fraction).
LINE_ITEM_DECIMALS = (*LINE_ITEM_MONEY, "shipping_vat_rate")
PRODUCT_TEXT = ("title", "status", "listing_quality_tier", "product_status")
PRODUCT_TIMES = (("create_time", "created_at"), ("update_time", "updated_at"))


def _slow(converter: Callable[[Any], Any], data: dict[str, Any], path: str, key: str) -> Any:
    """``data[key]`` through ``converter``; a BadValue names the field's path."""
    try:
        return converter(data.get(key))
    except BadValue as exc:
        raise BadValue(f"field {path}{key}: {exc}") from None


def _object(value: Any, path: str) -> dict[str, Any]:
    """A nested JSON object; ``{}`` when it is missing or null."""
    if value.__class__ is dict:
        return value
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    where = path.rstrip(".") or "the entity"
    raise BadValue(f"{where}: expected a JSON object, got {type(value).__name__}")


def _items(data: dict[str, Any], key: str, path: str) -> list[Any]:
    """The array under ``key``; empty when it is missing or null."""
    value = data.get(key)
    if value.__class__ is list:
        return value
    if value is None:
        return []
    return _slow(convert.items, data, path, key)


def _required_id(data: dict[str, Any], key: str, where: str, path: str) -> str:
    value = data.get(key)
    if value.__class__ is str and value:
        return value
    value = _slow(convert.text, data, path, key)
    if not value:
        raise BadValue(f"{where} has no {key!r}")
    return value


def _texts(row: Row, data: dict[str, Any], names: tuple[str, ...], path: str) -> None:
    """Strings; ``""`` and missing give None."""
    get = data.get
    for name in names:
        value = get(name)
        if value.__class__ is str:
            row[name] = value or None
        elif value is None:
            row[name] = None
        else:
            row[name] = _slow(convert.text, data, path, name)


def _amounts(row: Row, data: dict[str, Any], names: tuple[str, ...], path: str) -> None:
    """Exact Decimals from TikTok's amount strings; ``""`` and missing give None."""
    get = data.get
    for name in names:
        value = get(name)
        if value.__class__ is str and value:
            try:
                amount = Decimal(value)
            except InvalidOperation:
                amount = None
            if amount is not None and amount.is_finite():
                row[name] = amount
                continue
        elif value is None:
            row[name] = None
            continue
        row[name] = _slow(convert.money, data, path, name)


def _flags(row: Row, data: dict[str, Any], names: tuple[str, ...], path: str) -> None:
    """Booleans; missing gives None."""
    get = data.get
    for name in names:
        value = get(name)
        if value.__class__ is bool or value is None:
            row[name] = value
        else:
            row[name] = _slow(convert.flag, data, path, name)


def _integer(data: dict[str, Any], key: str, path: str) -> int | None:
    value = data.get(key)
    if value.__class__ is int or value is None:
        return value
    return _slow(convert.integer, data, path, key)


def _times(row: Row, data: dict[str, Any], pairs: tuple[tuple[str, str], ...], path: str) -> None:
    """Sets ``row[time]`` (Unix seconds) and ``row[at]`` (UTC datetime) for each pair."""
    get = data.get
    for time_name, at_name in pairs:
        seconds = get(time_name)
        if seconds.__class__ is not int:
            seconds = _slow(convert.epoch, data, path, time_name)
        elif not seconds:
            seconds = None
        row[time_name] = seconds
        if seconds is None:
            row[at_name] = None
            continue
        try:
            # Adding a timedelta is faster than fromtimestamp and has no platform limits.
            row[at_name] = EPOCH + timedelta(seconds=seconds)
        except OverflowError:
            raise BadValue(
                f"field {path}{time_name}: Unix seconds {seconds!r} are out of range"
            ) from None


def entity_id(data: Any, key: str, label: str) -> str:
    """The entity's id (a non-empty string); BadValue when it is not an object or has none."""
    if not isinstance(data, dict):
        raise BadValue(f"expected a JSON object for the {label}, got {type(data).__name__}")
    return _required_id(data, key, f"the {label}", "")


def update_time(data: dict[str, Any]) -> int | None:
    """The entity's ``update_time`` in Unix seconds; None when missing or 0."""
    value = data.get("update_time")
    if value.__class__ is int:
        return value or None
    return _slow(convert.epoch, data, "", "update_time")


def _finish(row: Row, ctx: Context, serialized: Serialized) -> Row:
    row["raw"] = serialized.canonical
    row["_row_hash"] = serialized.digest
    row["_synced_at"] = ctx.synced_at
    row["_source"] = ctx.source
    return row


_LINE_ITEM_RTS = (("rts_time", "rts_at"),)


def order_rows(data: dict[str, Any], ctx: Context, serialized: Serialized) -> Prepared:
    """Rows of ``tiktok_orders`` and ``tiktok_order_line_items`` for one order object."""
    order_id = _required_id(data, "id", "the order", "")
    shop_id, synced_at, source = ctx.shop_id, ctx.synced_at, ctx.source
    row: Row = {"shop_id": shop_id, "id": order_id}
    _times(row, data, ORDER_TIMES, "")
    user_id = data.get("user_id")
    if user_id.__class__ is str:
        row["buyer_user_id"] = user_id or None
    else:
        row["buyer_user_id"] = _slow(convert.text, data, "", "user_id")
    payment = _object(data.get("payment"), "payment.")
    _texts(row, payment, ("currency",), "payment.")
    _amounts(row, payment, ORDER_PAYMENT, "payment.")
    _texts(row, data, ORDER_TEXT, "")
    _flags(row, data, ORDER_FLAGS, "")
    address = _object(data.get("recipient_address"), "recipient_address.")
    _texts(row, address, ("region_code",), "recipient_address.")
    line_items = _items(data, "line_items", "")
    row["line_item_count"] = len(line_items)
    row["_buyer_data_purged_at"] = None  # the loader sets it for an order stored purged
    _finish(row, ctx, serialized)

    children = []
    for index, item in enumerate(line_items):
        path = f"line_items[{index}]."
        item = _object(item, path)
        child: Row = {
            "shop_id": shop_id,
            "id": _required_id(item, "id", f"line_items[{index}]", path),
            "order_id": order_id,
        }
        _texts(child, item, LINE_ITEM_TEXT, path)
        quantity = _integer(item, "quantity", path)
        child["quantity"] = 1 if quantity is None else quantity
        _amounts(child, item, LINE_ITEM_DECIMALS, path)
        _flags(child, item, ("is_gift",), path)
        _times(child, item, _LINE_ITEM_RTS, path)
        child["_synced_at"] = synced_at
        child["_source"] = source
        children.append(child)
    return Prepared(order_id, row, {"tiktok_order_line_items": children})


def _list_price(sku: dict[str, Any], path: str) -> Decimal | None:
    price: Row = {}
    if isinstance(sku.get("list_price"), dict):
        _amounts(price, sku["list_price"], ("amount",), f"{path}list_price.")
        return price["amount"]
    _amounts(price, sku, ("list_price",), path)
    return price["list_price"]


def deleted_at(product_row: Row) -> datetime | None:
    """When a mapped product was deleted: its ``updated_at`` if its status is ``DELETED``
    (TikTok moves ``update_time`` to the deletion), else None. A deleted product without an
    update time is dated at the epoch rather than left looking alive."""
    if product_row.get("status") != "DELETED":
        return None
    return product_row.get("updated_at") or EPOCH


def product_rows(data: dict[str, Any], ctx: Context, serialized: Serialized) -> Prepared:
    """Rows of ``tiktok_products``, its SKUs and their per-warehouse inventory.

    A product with status ``DELETED`` gets ``deleted_at`` = its update time, on the product and
    on each SKU row (see :func:`deleted_at`); any other status clears it, so a product TikTok
    restores is no longer marked deleted.
    """
    product_id = _required_id(data, "id", "the product", "")
    shop_id, synced_at, source = ctx.shop_id, ctx.synced_at, ctx.source
    row: Row = {"shop_id": shop_id, "id": product_id}
    _texts(row, data, PRODUCT_TEXT, "")
    audit = _object(data.get("audit"), "audit.")
    audit_status = audit.get("status")
    if audit_status.__class__ is not str:
        audit_status = _slow(convert.text, audit, "audit.", "status")
    row["audit_status"] = audit_status or None
    failed = data.get("audit_failed_reasons")
    row["audit_failed_reasons"] = (
        None if failed is None else _items(data, "audit_failed_reasons", "")
    )
    _times(row, data, PRODUCT_TIMES, "")
    gone_at = row["deleted_at"] = deleted_at(row)
    sales_regions = data.get("sales_regions")
    row["sales_regions"] = None if sales_regions is None else _items(data, "sales_regions", "")
    _flags(row, data, ("is_not_for_sale", "has_draft"), "")
    skus = _items(data, "skus", "")
    row["sku_count"] = len(skus)
    _finish(row, ctx, serialized)

    sku_rows: dict[str, Row] = {}
    stock_rows: dict[tuple[str, str], Row] = {}
    for index, sku in enumerate(skus):
        path = f"skus[{index}]."
        sku = _object(sku, path)
        sku_id = _required_id(sku, "id", f"skus[{index}]", path)
        sku_row: Row = {"shop_id": shop_id, "id": sku_id, "product_id": product_id}
        _texts(sku_row, sku, ("seller_sku",), path)
        price = _object(sku.get("price"), f"{path}price.")
        _texts(sku_row, price, ("currency",), f"{path}price.")
        _amounts(sku_row, price, ("sale_price", "tax_exclusive_price"), f"{path}price.")
        sku_row["list_price"] = _list_price(sku, path)
        sku_row["total_quantity"] = sku_row["warehouse_count"] = None
        inventory = sku.get("inventory")
        if inventory is not None:
            inventory = _items(sku, "inventory", path)
            total = 0
            for stock_index, stock in enumerate(inventory):
                stock_path = f"{path}inventory[{stock_index}]."
                stock = _object(stock, stock_path)
                warehouse_id = _slow(convert.text, stock, stock_path, "warehouse_id") or ""
                quantity = _integer(stock, "quantity", stock_path)
                total += quantity or 0
                stock_rows[(sku_id, warehouse_id)] = {
                    "shop_id": shop_id,
                    "sku_id": sku_id,
                    "warehouse_id": warehouse_id,
                    "product_id": product_id,
                    "quantity": quantity,
                    "available_quantity": _integer(stock, "available_quantity", stock_path),
                    "committed_quantity": _integer(stock, "committed_quantity", stock_path),
                    "_synced_at": synced_at,
                    "_source": source,
                }
            sku_row["total_quantity"] = total
            sku_row["warehouse_count"] = len(inventory)
        sku_row["deleted_at"] = gone_at
        sku_row["_synced_at"] = synced_at
        sku_row["_source"] = source
        sku_rows[sku_id] = sku_row
    return Prepared(
        product_id,
        row,
        {
            "tiktok_product_skus": list(sku_rows.values()),
            "tiktok_product_sku_inventory": list(stock_rows.values()),
        },
    )


# The field readers under public names, for the mappings of the other objects
# (return_mapping.py, cancellation_mapping.py, finance_mapping.py).
read_texts = _texts
read_amounts = _amounts
read_times = _times
read_flags = _flags
read_object = _object
read_items = _items
read_field = _slow
required_id = _required_id
finish_row = _finish
