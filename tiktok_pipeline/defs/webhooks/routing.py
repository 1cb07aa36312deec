"""What each inbox row asks for: objects to fetch again, a shop status change, or nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from tiktok_pipeline.db import from_epoch
from tiktok_pipeline.events import WebhookEvent, event_name
from tiktok_pipeline.store.models import InboxRow

ORDER_EVENTS = {
    WebhookEvent.ORDER_STATUS_CHANGE,
    WebhookEvent.REVERSE_STATUS_UPDATE,
    WebhookEvent.RECIPIENT_ADDRESS_UPDATE,
    WebhookEvent.PACKAGE_UPDATE,
}
PRODUCT_EVENTS = {
    WebhookEvent.PRODUCT_STATUS_CHANGE,
    WebhookEvent.PRODUCT_INFORMATION_CHANGE,
    WebhookEvent.PRODUCT_CREATION,
    WebhookEvent.PRODUCT_CATEGORY_CHANGE,
    WebhookEvent.PRODUCT_AUDIT_STATUS_CHANGE,
    WebhookEvent.INVENTORY_STATUS_CHANGE,
}


@dataclass
class ShopRefresh:
    """The objects of one shop to fetch again, and the inbox rows that asked for them."""

    orders: set[str] = field(default_factory=set)
    returns: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    cancellations: set[str] = field(default_factory=set)
    row_ids: list[int] = field(default_factory=list)

    def names_anything(self) -> bool:
        """Whether there is an object to fetch."""
        return bool(self.orders or self.returns or self.products or self.cancellations)

    def add(self, other: ShopRefresh) -> None:
        """Add ``other``'s objects (not its rows) to these."""
        self.orders |= other.orders
        self.returns |= other.returns
        self.products |= other.products
        self.cancellations |= other.cancellations


@dataclass
class Plan:
    """What a batch of inbox rows asks for."""

    refresh: dict[str, ShopRefresh] = field(default_factory=dict)
    deauthorized: dict[str, list[int]] = field(default_factory=dict)
    expiring: list[tuple[str, datetime, int]] = field(default_factory=list)
    ignored: list[tuple[int, str]] = field(default_factory=list)


def _order_ids(event: WebhookEvent, data: dict) -> list[str]:
    if event is WebhookEvent.PACKAGE_UPDATE:
        return [
            str(order_id)
            for package in data.get("package_list") or []
            for order_id in package.get("order_id_list") or []
        ]
    return [str(data["order_id"])] if data.get("order_id") else []


def plan(rows: Iterable[InboxRow]) -> Plan:
    """Sort inbox rows into refreshes per shop, shop status changes and rows to ignore."""
    result = Plan()
    for row in rows:
        data = row.data if isinstance(row.data, dict) else {}
        try:
            event = WebhookEvent(row.type)
        except ValueError:
            result.ignored.append((row.id, f"type {row.type} is not a known TikTok event"))
            continue
        if not row.shop_id:
            result.ignored.append((row.id, f"{event.name} names no shop_id"))
            continue
        if event is WebhookEvent.SELLER_DEAUTHORIZATION:
            result.deauthorized.setdefault(row.shop_id, []).append(row.id)
            continue
        if event is WebhookEvent.UPCOMING_AUTHORIZATION_EXPIRATION:
            expires = from_epoch(data.get("expiration_time"))
            if expires is None:
                result.ignored.append((row.id, "no expiration_time in the push"))
            else:
                result.expiring.append((row.shop_id, expires, row.id))
            continue
        refresh = ShopRefresh()
        if event in ORDER_EVENTS:
            refresh.orders.update(_order_ids(event, data))
        elif event is WebhookEvent.CANCELLATION_STATUS_CHANGE:
            # The cancellation changed, and with it its order's status.
            if data.get("cancel_id"):
                refresh.cancellations.add(str(data["cancel_id"]))
            if data.get("order_id"):
                refresh.orders.add(str(data["order_id"]))
        elif event is WebhookEvent.RETURN_STATUS_CHANGE:
            if data.get("return_id"):
                refresh.returns.add(str(data["return_id"]))
            if data.get("order_id"):
                refresh.orders.add(str(data["order_id"]))
        elif event in PRODUCT_EVENTS:
            if data.get("product_id"):
                refresh.products.add(str(data["product_id"]))
        else:
            result.ignored.append(
                (
                    row.id,
                    f"{event_name(row.type)} changes no order, product, return or cancellation",
                )
            )
            continue
        if not refresh.names_anything():
            result.ignored.append((row.id, f"{event.name} push without the object's id"))
            continue
        shop = result.refresh.setdefault(row.shop_id, ShopRefresh())
        shop.add(refresh)
        shop.row_ids.append(row.id)
    return result
