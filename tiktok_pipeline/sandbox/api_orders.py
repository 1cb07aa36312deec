"""Handlers: order list, order detail, price detail and the external-order endpoints."""

from __future__ import annotations

from tiktok_pipeline.sandbox import errors
from tiktok_pipeline.sandbox.api_common import list_data, paginate
from tiktok_pipeline.sandbox.errors import ApiError, param_error
from tiktok_pipeline.sandbox.orders.lifecycle import STATUS_CODES, STATUS_NAMES
from tiktok_pipeline.sandbox.orders.price_detail import price_detail as order_price_detail
from tiktok_pipeline.sandbox.orders.search import OrderQuery, select_orders
from tiktok_pipeline.sandbox.params import (
    Call,
    RawData,
    body_bool,
    body_str,
    body_str_list,
    query_choice,
    query_int,
    time_range,
)

MAX_DETAIL_IDS = 50
NOT_OF_SELLER = "The order or package does not belong to the current seller."


def order_query(call: Call) -> OrderQuery:
    """Get Order List's filters and sorting, validated."""
    code = errors.ORDER_PARAM
    b = call.body
    create_ge, create_lt = time_range(b, "create_time", code)
    update_ge, update_lt = time_range(b, "update_time", code)
    status = body_str(b, "order_status", code, STATUS_NAMES)
    buyer = None
    buyer_id = body_str(b, "buyer_user_id", code)
    if buyer_id:
        decoded = call.shop.orders.buyer_codec.decode(buyer_id)
        buyer = -1 if decoded is None else decoded
    warehouses = body_str_list(b, "warehouse_ids", code, max_items=100)
    return OrderQuery(
        create_ge=create_ge,
        create_lt=create_lt,
        update_ge=update_ge,
        update_lt=update_lt,
        status=None if status is None else STATUS_CODES[status],
        buyer=buyer,
        shipping_type=body_str(b, "shipping_type", code, ("TIKTOK", "SELLER")),
        is_buyer_request_cancel=body_bool(b, "is_buyer_request_cancel", code),
        warehouse_ids=frozenset(warehouses) if warehouses else None,
        sort_field=query_choice(
            call, "sort_field", ("create_time", "update_time"), "create_time", code
        ),
        descending=query_choice(call, "sort_order", ("ASC", "DESC"), "DESC", code) == "DESC",
    )


def search_orders(call: Call) -> RawData:
    """POST /order/202309/orders/search."""
    code = errors.ORDER_PARAM
    page_size = query_int(call, "page_size", code, lo=1, hi=100, required=True)
    query = order_query(call)
    world = call.shop
    page = paginate(
        call, "orders", code, query, page_size, lambda t: select_orders(world.orders, query, t)
    )
    state = call.state
    parts = state.orders_bytes(world, page.ids, page.snapshot)
    if page.next_token:
        state.read_ahead_orders(
            world, page.selection, page.offset + len(page.ids), page_size, page.snapshot
        )
    return list_data(
        {"next_page_token": page.next_token, "total_count": page.total}, "orders", parts
    )


def _order_index(call: Call, order_id: str) -> int:
    book = call.shop.orders
    i = book.index_of(order_id)
    if i is None or i >= book.created_by(call.now):
        raise ApiError(errors.ORDER_NOT_OF_SELLER, NOT_OF_SELLER)
    return i


def order_detail(call: Call) -> RawData:
    """GET /order/202309/orders and /order/202507/orders (``ids``: up to 50, comma-joined)."""
    raw = call.query.get("ids") or ""
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids:
        raise param_error(
            errors.ORDER_PARAM,
            "Invalid parameter. `ids` is required: up to 50 order ids joined with commas.",
        )
    if len(ids) > MAX_DETAIL_IDS:
        raise param_error(
            errors.ORDER_PARAM,
            f"Invalid parameter. `ids` accepts at most {MAX_DETAIL_IDS} order ids; got {len(ids)}.",
        )
    indices = [_order_index(call, order_id) for order_id in ids]
    state = call.state
    parts = state.orders_bytes(call.shop, indices, call.now)
    return list_data({}, "orders", parts)


def price_detail(call: Call) -> dict:
    """GET /order/202407/orders/{order_id}/price_detail."""
    i = _order_index(call, call.path_params["order_id"])
    return order_price_detail(call.shop.orders, i)


def _external_refs(call: Call, entries: object) -> list[dict]:
    if not isinstance(entries, list):
        raise param_error(
            errors.ORDER_PARAM,
            "Invalid parameter. `external_orders` must be a "
            "list of {platform, external_order_id} objects.",
        )
    refs = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise param_error(
                errors.ORDER_PARAM, "Invalid parameter. Each external order must be an object."
            )
        platform = entry.get("platform")
        external_id = entry.get("external_order_id", entry.get("id"))
        if not isinstance(platform, str) or not platform:
            raise param_error(errors.ORDER_PARAM, "Invalid parameter. `platform` is required.")
        if not isinstance(external_id, str) or not external_id:
            raise param_error(
                errors.ORDER_PARAM, "Invalid parameter. `external_order_id` is required."
            )
        ref = {k: v for k, v in entry.items() if k not in ("id",)}
        ref["platform"] = platform
        ref["external_order_id"] = external_id
        ref["create_time"] = call.now
        refs.append(ref)
    return refs


def add_external_orders(call: Call) -> dict:
    """POST /order/202406/orders/external_orders (undocumented; sandbox shape).

    Body: ``{"orders": [{"order_id": .., "external_orders": [{"platform": .., "external_order_id":
    .., ...}]}]}`` or a single ``{"order_id": .., "external_orders": [...]}``.
    """
    body = call.body
    entries = body.get("orders")
    if entries is None and "order_id" in body:
        entries = [body]
    if not isinstance(entries, list) or not entries:
        raise param_error(
            errors.ORDER_PARAM,
            "Invalid parameter. `orders` is required: a list "
            "of {order_id, external_orders} objects.",
        )
    failures = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise param_error(
                errors.ORDER_PARAM, "Invalid parameter. Each entry of `orders` must be an object."
            )
        order_id = entry.get("order_id", entry.get("id"))
        refs = _external_refs(call, entry.get("external_orders"))
        try:
            _order_index(call, str(order_id))
        except ApiError as exc:
            failures.append({"order_id": str(order_id), "code": exc.code, "message": exc.message})
            continue
        call.shop.external.add(str(order_id), refs)
    return {"errors": failures}


def get_external_orders(call: Call) -> dict:
    """GET /order/202406/orders/{order_id}/external_orders."""
    order_id = call.path_params["order_id"]
    _order_index(call, order_id)
    return {"order_id": order_id, "external_orders": call.shop.external.get(order_id)}


#: Search Order By External Order Reference's filters: query parameters, both required.
EXTERNAL_SEARCH_QUERY = ("platform", "external_order_id")


def search_external_orders(call: Call) -> dict:
    """POST /order/202406/orders/external_order_search?platform=..&external_order_id=..

    TikTok reads both filters from the query (as its SDKs send them) and expects an empty
    body; a filter sent in the body is refused with a message that says where it belongs.
    """
    code = errors.ORDER_PARAM
    wanted = {}
    for name in EXTERNAL_SEARCH_QUERY:
        value = call.query.get(name, "")
        if not value:
            where = " (a query parameter, not a body field)" if name in call.body else ""
            raise param_error(code, f"Invalid parameter. `{name}` is required{where}.")
        wanted[name] = value
    out = []
    for order_id, refs in sorted(call.shop.external.by_order.items()):
        matched = [
            r
            for r in refs
            if r["platform"] == wanted["platform"]
            and r["external_order_id"] == wanted["external_order_id"]
        ]
        if matched:
            out.append({"order_id": order_id, "external_orders": matched})
    return {"orders": out, "total_count": len(out)}
