"""The /sandbox/ control endpoints (JSON); the console page over them is in :mod:`console`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tiktok_pipeline.sandbox import seller_shops
from tiktok_pipeline.sandbox.faults import FaultSettings
from tiktok_pipeline.sandbox.orders.arrays import unit_counts
from tiktok_pipeline.sandbox.orders.search import OrderQuery, select_orders
from tiktok_pipeline.sandbox.search import (
    ProductQuery,
    ReturnQuery,
    select_products,
    select_returns,
)
from tiktok_pipeline.sandbox.state import SandboxState
from tiktok_pipeline.sandbox.world import ShopWorld


class ControlError(ValueError):
    """A bad control request (answered with HTTP 400 and the message)."""


def _int_arg(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        unit = " (Unix seconds)" if name.endswith(("_ge", "_lt")) else ""
        raise ControlError(f"{name} must be an integer{unit}") from None


async def _json_body(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ControlError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def _worlds(state: SandboxState, request: Request) -> list[ShopWorld]:
    shop_id = request.query_params.get("shop_id")
    if not shop_id:
        return list(state.worlds)
    world = state.by_shop_id.get(shop_id)
    if world is None:
        raise ControlError(f"unknown shop_id {shop_id!r}; see GET /sandbox/state for the shops")
    return [world]


def _windows(request: Request) -> dict[str, int | None]:
    return {
        name: _int_arg(request, name)
        for name in ("update_time_ge", "update_time_lt", "create_time_ge", "create_time_lt")
    }


def _truth_ids(world: ShopWorld, entity: str, w: dict, t: int) -> list[int]:
    if entity == "orders":
        q = OrderQuery(
            create_ge=w["create_time_ge"],
            create_lt=w["create_time_lt"],
            update_ge=w["update_time_ge"],
            update_lt=w["update_time_lt"],
            descending=False,
        )
        sel = select_orders(world.orders, q, t)
    elif entity == "returns":
        q2 = ReturnQuery(
            create_ge=w["create_time_ge"],
            create_lt=w["create_time_lt"],
            update_ge=w["update_time_ge"],
            update_lt=w["update_time_lt"],
        )
        sel = select_returns(world, q2, t)
    else:
        lt_u, lt_c = w["update_time_lt"], w["create_time_lt"]
        q3 = ProductQuery(
            create_ge=w["create_time_ge"],
            create_le=None if lt_c is None else lt_c - 1,
            update_ge=w["update_time_ge"],
            update_le=None if lt_u is None else lt_u - 1,
        )
        sel = select_products(world, q3, t)
        return sorted(sel.slice(0, sel.total), key=lambda j: world.catalog.products[j].create_time)
    return list(sel.slice(0, sel.total))


def routes(state: SandboxState) -> list[Route]:
    """The control routes."""

    def endpoint(
        fn: Callable[[Request], Awaitable[object]],
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler: JSON answer, 400 for bad input, 404 for unknown names."""

        async def wrapper(request: Request) -> Response:
            """Run the handler and shape its answer."""
            try:
                result = await fn(request)
            except (ControlError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            except KeyError as exc:
                return JSONResponse({"error": f"not found: {exc.args[0]}"}, status_code=404)
            if isinstance(result, Response):
                return result
            return JSONResponse(result)

        return wrapper

    async def get_state(request: Request) -> object:
        """GET /sandbox/state."""
        return state.state_dict()

    async def get_clock(request: Request) -> object:
        """GET /sandbox/clock."""
        return {"now": state.now(), "frozen": state.clock.frozen}

    async def advance(request: Request) -> object:
        """POST /sandbox/clock/advance."""
        body = await _json_body(request)
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ControlError('send {"seconds": N} with N >= 0')
        return state.advance(int(seconds))

    async def get_faults(request: Request) -> object:
        """GET /sandbox/faults."""
        return state.faults.settings.as_dict()

    async def set_faults(request: Request) -> object:
        """POST /sandbox/faults: replace the fault settings."""
        settings = FaultSettings.from_dict(await _json_body(request))
        state.faults.set(settings)
        return settings.as_dict()

    async def clear_faults(request: Request) -> object:
        """DELETE /sandbox/faults (and POST /sandbox/faults/clear)."""
        state.faults.clear()
        return state.faults.settings.as_dict()

    async def get_config(request: Request) -> object:
        """GET /sandbox/config."""
        return state.config.public_dict()

    async def set_config(request: Request) -> object:
        """POST /sandbox/config."""
        return state.update_config(await _json_body(request))

    async def reset(request: Request) -> object:
        """POST /sandbox/reset."""
        body = await _json_body(request)
        state.reset(auth=bool(body.get("auth", False)))
        return {"reset": True, "now": state.now()}

    async def authorize(request: Request) -> object:
        """POST /sandbox/authorize: an auth code without the browser."""
        body = await _json_body(request)
        seller = state.seller(body.get("open_id"))
        return {"code": state.auth.issue_code(seller.open_id), "open_id": seller.open_id}

    async def expire_tokens(request: Request) -> object:
        """POST /sandbox/tokens/expire."""
        body = await _json_body(request)
        open_id = body.get("open_id")
        if open_id is not None and open_id not in state.sellers:
            raise KeyError(open_id)
        n = state.auth.expire(open_id, body.get("which", "access"))
        return {"expired": n}

    async def add_seller(request: Request) -> object:
        """POST /sandbox/sellers."""
        body = await _json_body(request)
        shops = body.get("shops", 1)
        if isinstance(shops, bool) or not isinstance(shops, int):
            raise ControlError("shops must be an integer")
        seller = state.add_seller(shops, body.get("region"), body.get("orders_per_shop"))
        return {
            "seller": seller.as_dict(),
            "shops": [state.by_shop_id[s].info.as_dict() for s in seller.shop_ids],
        }

    async def add_shop(request: Request) -> object:
        """POST /sandbox/sellers/{open_id}/shops: a shop joins the seller's authorization."""
        body = await _json_body(request)
        orders = body.get("orders_per_shop")
        if orders is not None and (isinstance(orders, bool) or not isinstance(orders, int)):
            raise ControlError("orders_per_shop must be an integer")
        for name in ("shop_id", "region"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise ControlError(f"{name} must be a string")
        open_id = request.path_params["open_id"]
        shop = seller_shops.add_shop(
            state,
            open_id,
            shop_id=body.get("shop_id"),
            region=body.get("region"),
            orders_per_shop=orders,
        )
        return {"seller": state.seller(open_id).as_dict(), "shop": shop.as_dict()}

    async def remove_shop(request: Request) -> object:
        """DELETE /sandbox/sellers/{open_id}/shops/{shop_id}: a shop leaves the authorization."""
        open_id = request.path_params["open_id"]
        shop = seller_shops.remove_shop(state, open_id, request.path_params["shop_id"])
        return {"seller": state.seller(open_id).as_dict(), "removed": shop.as_dict()}

    async def deauthorize(request: Request) -> object:
        """POST /sandbox/sellers/{open_id}/deauthorize."""
        return state.deauthorize(request.path_params["open_id"])

    async def expiring(request: Request) -> object:
        """POST /sandbox/sellers/{open_id}/expiring."""
        body = await _json_body(request)
        days = body.get("days", 7)
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ControlError("days must be a non-negative integer")
        return state.authorization_expiring(request.path_params["open_id"], days)

    async def stats(request: Request) -> object:
        """GET /sandbox/stats."""
        return state.stats.as_dict()

    async def reset_stats(request: Request) -> object:
        """POST /sandbox/stats/reset."""
        state.stats.reset()
        return state.stats.as_dict()

    async def counts(request: Request) -> object:
        """GET /sandbox/truth/counts."""
        w = _windows(request)
        t = state.now()
        totals = {
            "orders": 0,
            "order_line_items": 0,
            "products": 0,
            "product_skus": 0,
            "returns": 0,
            "return_line_items": 0,
        }
        for world in _worlds(state, request):
            ids = _truth_ids(world, "orders", w, t)
            totals["orders"] += len(ids)
            for start in range(0, len(ids), 65536):
                chunk = np.array(ids[start : start + 65536], np.int64)
                totals["order_line_items"] += int(unit_counts(world.orders, chunk).sum())
            for j in _truth_ids(world, "products", w, t):
                totals["products"] += 1
                totals["product_skus"] += len(world.catalog.products[j].skus)
            for k in _truth_ids(world, "returns", w, t):
                totals["returns"] += 1
                totals["return_line_items"] += world.returns.lifecycle(k).item_count
        return {**totals, "now": t}

    async def truth(request: Request) -> object:
        """GET /sandbox/truth/{entity}."""
        entity = request.path_params["entity"]
        if entity not in ("orders", "products", "returns"):
            raise ControlError("entity must be orders, products or returns")
        w = _windows(request)
        limit = _int_arg(request, "limit")
        shape = request.query_params.get("shape", "search_202502")
        if shape not in ("search_202309", "search_202502", "detail"):
            raise ControlError("shape must be search_202309, search_202502 or detail")
        t = state.now()
        parts: list[bytes] = []
        for world in _worlds(state, request):
            ids = _truth_ids(world, entity, w, t)
            if limit is not None:
                ids = ids[: max(0, limit - len(parts))]
            if entity == "orders":
                for start in range(0, len(ids), 4096):
                    parts.extend(state.orders_bytes(world, ids[start : start + 4096], t))
                continue
            for n in ids:
                if entity == "returns":
                    parts.append(state.return_bytes(world, n, t))
                else:
                    parts.append(state.product_bytes(world, n, t, shape))
        body = (
            b'{"now":'
            + str(t).encode()
            + b',"count":'
            + str(len(parts)).encode()
            + b',"'
            + entity.encode()
            + b'":['
            + b",".join(parts)
            + b"]}"
        )
        return Response(body, media_type="application/json")

    async def webhooks(request: Request) -> object:
        """GET /sandbox/webhooks."""
        return {"webhooks": state.webhooks.all()}

    async def deliveries(request: Request) -> object:
        """GET /sandbox/webhooks/deliveries."""
        wait = request.query_params.get("wait")
        idle = True
        if wait:
            try:
                seconds = float(wait)
            except ValueError:
                raise ControlError("wait must be a number of seconds") from None
            idle = await asyncio.to_thread(state.dispatcher.wait_idle, min(seconds, 120.0))
        limit = _int_arg(request, "limit")
        if limit is not None and limit < 0:
            raise ControlError("limit must be a non-negative integer")
        shop_id = request.query_params.get("shop_id")
        event_type = request.query_params.get("event_type")
        items = [
            d
            for d in list(state.dispatcher.deliveries)
            if (not shop_id or d["shop_id"] == shop_id)
            and (not event_type or d["event_type"] == event_type)
        ]
        total = len(items)
        if limit is not None:
            items = items[len(items) - limit :] if limit else []
        return {
            "deliveries": items,
            "total": total,
            "pending": state.dispatcher.pending,
            "idle": idle,
        }

    table: list[tuple[str, str, Callable[[Request], Awaitable[object]]]] = [
        ("GET", "/sandbox/state", get_state),
        ("GET", "/sandbox/clock", get_clock),
        ("POST", "/sandbox/clock/advance", advance),
        ("GET", "/sandbox/faults", get_faults),
        ("POST", "/sandbox/faults", set_faults),
        ("DELETE", "/sandbox/faults", clear_faults),
        ("POST", "/sandbox/faults/clear", clear_faults),
        ("GET", "/sandbox/config", get_config),
        ("POST", "/sandbox/config", set_config),
        ("POST", "/sandbox/reset", reset),
        ("POST", "/sandbox/authorize", authorize),
        ("POST", "/sandbox/tokens/expire", expire_tokens),
        ("POST", "/sandbox/sellers", add_seller),
        ("POST", "/sandbox/sellers/{open_id}/shops", add_shop),
        ("DELETE", "/sandbox/sellers/{open_id}/shops/{shop_id}", remove_shop),
        ("POST", "/sandbox/sellers/{open_id}/deauthorize", deauthorize),
        ("POST", "/sandbox/sellers/{open_id}/expiring", expiring),
        ("GET", "/sandbox/stats", stats),
        ("POST", "/sandbox/stats/reset", reset_stats),
        ("GET", "/sandbox/truth/counts", counts),
        ("GET", "/sandbox/truth/{entity}", truth),
        ("GET", "/sandbox/webhooks", webhooks),
        ("GET", "/sandbox/webhooks/deliveries", deliveries),
    ]
    out = []
    by_path: dict[str, dict[str, Callable]] = {}
    for method, path, fn in table:
        by_path.setdefault(path, {})[method] = endpoint(fn)
    for path, handlers in by_path.items():
        for method, handler in handlers.items():
            out.append(Route(path, handler, methods=[method]))
    return out
