"""A seller's shop list changing without a new consent: a shop added to, or removed from, an
existing authorization (as a seller does in TikTok's Seller Center).

GET /authorization/202309/shops answers from the seller's shop list, so it reflects both at
once; a removed shop's data is kept so that adding it back restores it unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tiktok_pipeline.sandbox.shops import ShopInfo
    from tiktok_pipeline.sandbox.state import SandboxState


def add_shop(
    state: SandboxState,
    open_id: str,
    *,
    shop_id: str | None = None,
    region: str | None = None,
    orders_per_shop: int | None = None,
) -> ShopInfo:
    """Add a shop to an existing seller's authorization (no new consent needed).

    Without ``shop_id`` a new shop with its own orders, products and returns is made; with
    the id of a shop removed from this seller (:func:`remove_shop`) that shop comes back
    with its data. Raises KeyError for an unknown seller, ValueError for a bad request.
    """
    orders = orders_per_shop or state.config.orders_per_shop
    if orders < 1:
        raise ValueError("orders_per_shop must be at least 1")
    with state.lock:
        if open_id not in state.sellers:
            raise KeyError(open_id)
        if shop_id is not None:
            world = state.removed.get(shop_id)
            if world is None or world.info.open_id != open_id:
                known = ", ".join(
                    w.info.id for w in state.removed.values() if w.info.open_id == open_id
                )
                raise ValueError(
                    f"shop {shop_id} is not a removed shop of seller {open_id} "
                    f"(removed: {known or 'none'}); leave out shop_id for a new shop"
                )
            del state.removed[shop_id]
            state.serve(world)
        else:
            slot = 1 + max(w.slot for w in [*state.worlds, *state.removed.values()])
            if slot >= 900:
                raise ValueError("the sandbox supports at most 900 shops")
            world = state.new_world(open_id, slot, region, orders)
        state.set_shop_ids(open_id, [*state.sellers[open_id].info.shop_ids, world.info.id])
        state.data_version += 1
    return world.info


def remove_shop(state: SandboxState, open_id: str, shop_id: str) -> ShopInfo:
    """Remove a shop from a seller's authorization: it leaves the seller's shop list and
    calls with the seller's token for it fail (101000, the token does not cover it). Its data is
    kept; :func:`add_shop` with its id brings it back. KeyError for an unknown seller or a
    shop the seller does not have.
    """
    with state.lock:
        if open_id not in state.sellers:
            raise KeyError(open_id)
        info = state.sellers[open_id].info
        if shop_id not in info.shop_ids:
            raise KeyError(f"shop {shop_id} of seller {open_id}")
        world = state.by_shop_id[shop_id]
        state.set_shop_ids(open_id, [s for s in info.shop_ids if s != shop_id])
        state.worlds = [w for w in state.worlds if w is not world]
        del state.by_shop_id[shop_id]
        del state.by_cipher[world.info.cipher]
        state.removed[shop_id] = world
        state.data_version += 1
    return world.info
