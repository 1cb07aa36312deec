"""Handlers: return search, return records and cancellation search."""

from __future__ import annotations

from tiktok_pipeline.sandbox import errors
from tiktok_pipeline.sandbox.api_common import list_data, paginate
from tiktok_pipeline.sandbox.errors import ApiError
from tiktok_pipeline.sandbox.params import (
    Call,
    RawData,
    body_str,
    body_str_list,
    query_choice,
    query_int,
    time_range,
)
from tiktok_pipeline.sandbox.search import (
    CancellationQuery,
    ReturnQuery,
    select_cancellations,
    select_returns,
)
from tiktok_pipeline.sandbox.state import dumps

RETURN_STATUSES = (
    "RETURN_OR_REFUND_REQUEST_PENDING",
    "REFUND_OR_RETURN_REQUEST_REJECT",
    "AWAITING_BUYER_SHIP",
    "BUYER_SHIPPED_ITEM",
    "REJECT_RECEIVE_PACKAGE",
    "RETURN_OR_REFUND_REQUEST_SUCCESS",
    "RETURN_OR_REFUND_REQUEST_CANCEL",
    "RETURN_OR_REFUND_REQUEST_COMPLETE",
    "REPLACEMENT_REQUEST_PENDING",
    "REPLACEMENT_REQUEST_REJECT",
    "REPLACEMENT_REQUEST_REFUND_SUCCESS",
    "REPLACEMENT_REQUEST_CANCEL",
    "REPLACEMENT_REQUEST_COMPLETE",
    "AWAITING_BUYER_RESPONSE",
)
RETURN_TYPES = ("REFUND", "RETURN_AND_REFUND", "REPLACEMENT")
SELLER_PROPOSED_TYPES = ("PARTIAL_REFUND",)
CANCEL_TYPES = ("CANCEL", "BUYER_CANCEL")
CANCEL_STATUSES = (
    "CANCELLATION_REQUEST_PENDING",
    "CANCELLATION_REQUEST_SUCCESS",
    "CANCELLATION_REQUEST_CANCEL",
    "CANCELLATION_REQUEST_COMPLETE",
)


def _decoded(values: list[str] | None, decode) -> frozenset[int] | None:
    if values is None:
        return None
    out = set()
    for value in values:
        n = decode(value)
        if n is not None:
            out.add(n)
    return frozenset(out)


def return_query(call: Call) -> ReturnQuery:
    """Search Returns' filters and sorting, validated."""
    code = errors.RETURN_PARAM
    b = call.body
    world = call.shop
    create_ge, create_lt = time_range(b, "create_time", code)
    update_ge, update_lt = time_range(b, "update_time", code)
    return_ks = _decoded(body_str_list(b, "return_ids", code), world.returns.index_of)
    if body_str_list(
        b,
        "arbitration_status",
        code,
        choices=("IN_PROGRESS", "SUPPORT_BUYER", "SUPPORT_SELLER", "CLOSED"),
    ):
        return_ks = frozenset()  # no sandbox return is in arbitration
    statuses = body_str_list(b, "return_status", code, choices=RETURN_STATUSES)
    types = body_str_list(b, "return_types", code, choices=RETURN_TYPES)
    proposed = body_str_list(b, "seller_proposed_return_type", code, choices=SELLER_PROPOSED_TYPES)
    body_str(b, "locale", code)  # texts are served in English whatever the locale
    return ReturnQuery(
        create_ge=create_ge,
        create_lt=create_lt,
        update_ge=update_ge,
        update_lt=update_lt,
        return_ks=return_ks,
        order_indices=_decoded(body_str_list(b, "order_ids", code), world.orders.index_of),
        statuses=frozenset(statuses) if statuses else None,
        types=frozenset(types) if types else None,
        buyers=_decoded(body_str_list(b, "buyer_user_ids", code), world.orders.buyer_codec.decode),
        proposed=frozenset(proposed) if proposed else None,
        sort_field=query_choice(
            call, "sort_field", ("create_time", "update_time"), "create_time", code
        ),
        descending=query_choice(call, "sort_order", ("ASC", "DESC"), "ASC", code) == "DESC",
    )


def search_returns(call: Call) -> RawData:
    """POST /return_refund/202309/returns/search and /return_refund/202602/returns/search."""
    code = errors.RETURN_PARAM
    page_size = query_int(call, "page_size", code, default=10, lo=10, hi=50)
    query = return_query(call)
    world = call.shop
    page = paginate(
        call, "returns", code, query, page_size, lambda t: select_returns(world, query, t)
    )
    state = call.state
    parts = [state.return_bytes(world, k, page.snapshot) for k in page.ids]
    return list_data(
        {"next_page_token": page.next_token, "total_count": page.total}, "return_orders", parts
    )


def return_records(call: Call) -> dict:
    """GET /return_refund/202309/returns/{return_id}/records."""
    world = call.shop
    k = world.returns.index_of(call.path_params["return_id"])
    exists = False
    if k is not None and world.orders.return_order_index(k) < world.orders.created_by(call.now):
        exists = world.returns.lifecycle(k).create_time <= call.now
    if k is None or not exists:
        raise ApiError(
            errors.RETURN_NOT_FOUND, "The return does not exist or does not belong to this shop."
        )
    return {"records": world.returns.records(k, call.now)}


def search_cancellations(call: Call) -> RawData:
    """POST /return_refund/202309/cancellations/search."""
    code = errors.RETURN_PARAM
    page_size = query_int(call, "page_size", code, default=10, lo=1, hi=50)
    b = call.body
    world = call.shop
    create_ge, create_lt = time_range(b, "create_time", code)
    update_ge, update_lt = time_range(b, "update_time", code)
    types = body_str_list(b, "cancel_types", code, choices=CANCEL_TYPES)
    statuses = body_str_list(b, "cancel_status", code, choices=CANCEL_STATUSES)
    body_str(b, "locale", code)
    query = CancellationQuery(
        create_ge=create_ge,
        create_lt=create_lt,
        update_ge=update_ge,
        update_lt=update_lt,
        cancel_orders=_decoded(
            body_str_list(b, "cancel_ids", code), world.cancellations.codec.decode
        ),
        order_indices=_decoded(body_str_list(b, "order_ids", code), world.orders.index_of),
        types=frozenset(types) if types else None,
        statuses=frozenset(statuses) if statuses else None,
        buyers=_decoded(body_str_list(b, "buyer_user_ids", code), world.orders.buyer_codec.decode),
        descending=query_choice(call, "sort_order", ("ASC", "DESC"), "ASC", code) == "DESC",
    )
    query_choice(call, "sort_field", ("create_time",), "create_time", code)
    page = paginate(
        call,
        "cancellations",
        code,
        query,
        page_size,
        lambda t: select_cancellations(world, query, t),
    )
    parts = []
    for i in page.ids:
        c = world.cancellations.of_order(i)
        if c is not None:
            parts.append(dumps(world.cancellations.render(c, page.snapshot)))
    return list_data(
        {"next_page_token": page.next_token, "total_count": page.total}, "cancellations", parts
    )
