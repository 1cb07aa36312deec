"""Registering this service's webhook addresses with TikTok (the event API), per shop.

Every change goes through TikTok's Update/Delete Shop Webhook and, once TikTok accepted it, is
mirrored in ``tiktok_event_webhooks``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.events import WebhookEvent
from tiktok_pipeline.store import Store

#: The event types TikTok's event API accepts (reference §9); the other topics are app-level
#: subscriptions made in Partner Center.
SUBSCRIBABLE_EVENTS: tuple[WebhookEvent, ...] = (
    WebhookEvent.ORDER_STATUS_CHANGE,
    WebhookEvent.REVERSE_STATUS_UPDATE,
    WebhookEvent.RECIPIENT_ADDRESS_UPDATE,
    WebhookEvent.PACKAGE_UPDATE,
    WebhookEvent.PRODUCT_STATUS_CHANGE,
    WebhookEvent.SELLER_DEAUTHORIZATION,
    WebhookEvent.UPCOMING_AUTHORIZATION_EXPIRATION,
    WebhookEvent.CANCELLATION_STATUS_CHANGE,
    WebhookEvent.RETURN_STATUS_CHANGE,
    WebhookEvent.NEW_CONVERSATION,
    WebhookEvent.NEW_MESSAGE,
    WebhookEvent.PRODUCT_INFORMATION_CHANGE,
    WebhookEvent.PRODUCT_CREATION,
    WebhookEvent.PRODUCT_CATEGORY_CHANGE,
    WebhookEvent.NEW_MESSAGE_LISTENER,
    WebhookEvent.INVOICE_STATUS_CHANGE,
    WebhookEvent.PRODUCT_AUDIT_STATUS_CHANGE,
)
WEBHOOKS_PATH = "/tiktok/webhooks"


def check_subscribable(event: WebhookEvent) -> WebhookEvent:
    """``event`` when TikTok's event API accepts it; ValueError otherwise."""
    if event not in SUBSCRIBABLE_EVENTS:
        names = ", ".join(e.name for e in SUBSCRIBABLE_EVENTS)
        raise ValueError(
            f"TikTok's event API does not take {event.name}; subscribe to it in Partner Center "
            f"(app-level webhooks). The event API takes: {names}"
        )
    return event


def webhook_address(public_url: str, event: WebhookEvent | None = None) -> str:
    """This service's address for ``event`` (``.../tiktok/webhooks/<slug>``; None: ``/all``)."""
    return f"{public_url.rstrip('/')}{WEBHOOKS_PATH}/{event.slug if event else 'all'}"


def address_problems(address: str) -> list[str]:
    """Why real TikTok would refuse ``address`` (it wants https, a domain name and no port).

    The sandbox accepts any http(s) URL, so these are warnings, not errors.
    """
    parts = urlsplit(address)
    problems = []
    if parts.scheme != "https":
        problems.append("it is not https")
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        problems.append("its host is an IP address, not a domain name")
    except ValueError:
        if host == "localhost":
            problems.append("its host is localhost")
    if parts.port is not None:
        problems.append("it has a port")
    if len(address) > 255:
        problems.append("it is longer than 255 characters")
    return problems


@dataclass(frozen=True)
class WebhookListing:
    """One event type's address as TikTok reports it and as ``tiktok_event_webhooks`` has it."""

    event_type: str
    tiktok_address: str | None
    recorded_address: str | None

    @property
    def in_sync(self) -> bool:
        """True when our record matches TikTok's."""
        return self.tiktok_address == self.recorded_address


def set_webhook(
    client: TikTokShopClient, store: Store, shop_id: str, event: WebhookEvent, address: str
) -> None:
    """Point ``event`` of ``shop_id`` at ``address`` with TikTok, then record it."""
    check_subscribable(event)
    client.shop(shop_id).event.update_webhook(body={"address": address, "event_type": event.name})
    store.event_webhooks.record(shop_id, event.name, address)


def delete_webhook(client: TikTokShopClient, store: Store, shop_id: str, event_type: str) -> None:
    """Stop ``event_type`` pushes for ``shop_id`` with TikTok, then forget our record."""
    client.shop(shop_id).event.delete_webhook(body={"event_type": event_type})
    store.event_webhooks.remove(shop_id, event_type)


def list_webhooks(client: TikTokShopClient, store: Store, shop_id: str) -> list[WebhookListing]:
    """TikTok's addresses for ``shop_id`` beside ours, one entry per event type."""
    response: dict[str, Any] = client.shop(shop_id).event.webhook_list()
    remote = {
        str(hook.get("event_type")): hook.get("address")
        for hook in (response.get("data") or {}).get("webhooks") or []
    }
    recorded = {hook.event_type: hook.address for hook in store.event_webhooks.list(shop_id)}
    return [
        WebhookListing(event_type, remote.get(event_type), recorded.get(event_type))
        for event_type in sorted(remote.keys() | recorded.keys())
    ]
