"""Handlers: authorized/active shops and the shop webhook (event) API."""

from __future__ import annotations

from tiktok_pipeline.sandbox import errors
from tiktok_pipeline.sandbox.errors import param_error
from tiktok_pipeline.sandbox.params import Call, body_str
from tiktok_pipeline.sandbox.webhooks import EVENT_TYPES, MAX_ADDRESS_LENGTH


def authorized_shops(call: Call) -> dict:
    """GET /authorization/202309/shops: the token's shops with their ciphers."""
    shops = []
    for world in call.state.worlds_of(call.open_id):
        info = world.info
        shops.append(
            {
                "id": info.id,
                "name": info.name,
                "region": info.region,
                "seller_type": info.seller_type,
                "cipher": info.cipher,
                "code": info.code,
            }
        )
    return {"shops": shops}


def active_shops(call: Call) -> dict:
    """GET /seller/202309/shops: the token's active shops (id and region only)."""
    return {
        "shops": [
            {"id": w.info.id, "region": w.info.region} for w in call.state.worlds_of(call.open_id)
        ]
    }


def _event_type(call: Call) -> str:
    code = errors.EVENT_PARAM
    event_type = body_str(call.body, "event_type", code)
    if not event_type:
        raise param_error(code, "Invalid parameter. `event_type` is required.")
    if event_type not in EVENT_TYPES:
        raise param_error(
            code,
            f"Invalid parameter. `event_type` {event_type!r} is unknown; use one of "
            f"{sorted(EVENT_TYPES)}.",
        )
    return event_type


def get_webhooks(call: Call) -> dict:
    """GET /event/202309/webhooks."""
    hooks = call.state.webhooks.list(call.shop.info.id)
    return {"webhooks": hooks, "total_count": len(hooks)}


def put_webhook(call: Call) -> dict:
    """PUT /event/202309/webhooks: create or replace the address of an event type.

    Real TikTok demands an https URL with a domain name and no port; the sandbox also accepts
    http and ports (e.g. http://127.0.0.1:8000/...) so local receivers work.
    """
    code = errors.EVENT_PARAM
    event_type = _event_type(call)
    address = body_str(call.body, "address", code)
    if not address:
        raise param_error(code, "Invalid parameter. `address` is required.")
    if len(address) > MAX_ADDRESS_LENGTH:
        raise param_error(
            code, f"Invalid parameter. `address` must be at most {MAX_ADDRESS_LENGTH} characters."
        )
    if not address.startswith(("https://", "http://")):
        raise param_error(code, "Invalid parameter. `address` must be an http(s) URL.")
    call.state.webhooks.put(call.shop.info.id, event_type, address, call.now)
    return {}


def delete_webhook(call: Call) -> dict:
    """DELETE /event/202309/webhooks (succeeds even when nothing was registered)."""
    call.state.webhooks.delete(call.shop.info.id, _event_type(call))
    return {}
