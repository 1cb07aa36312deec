"""The operational store: shops, authorizations (tokens), request log, webhook inbox.

``Store.from_url()`` is the entry point; the web service, the Dagster code and the CLI all go
through it, and hand the client its parts::

    store = Store.from_url()
    client = TikTokShopClient.from_env(credentials=store.tokens, request_log=store.request_log)

The store knows nothing of the client: both use the errors of :mod:`tiktok_pipeline.errors` and
the records of :mod:`tiktok_pipeline.request_records`.
"""

from tiktok_pipeline.store.encryption import TokenKeyError
from tiktok_pipeline.store.event_webhooks import EventWebhookRegistry
from tiktok_pipeline.store.models import (
    Authorization,
    EventWebhook,
    InboxRow,
    InboxStatus,
    Shop,
    ShopCredentials,
    ShopStatus,
)
from tiktok_pipeline.store.request_log import RequestLogEntry, RequestLogWriter
from tiktok_pipeline.store.store import Store
from tiktok_pipeline.store.tokens import RefreshFn, TokenStore, UnknownAuthorizationError
from tiktok_pipeline.store.webhook_inbox import WebhookInbox

__all__ = [
    "Authorization",
    "EventWebhook",
    "EventWebhookRegistry",
    "InboxRow",
    "InboxStatus",
    "RefreshFn",
    "RequestLogEntry",
    "RequestLogWriter",
    "Shop",
    "ShopCredentials",
    "ShopStatus",
    "Store",
    "TokenKeyError",
    "TokenStore",
    "UnknownAuthorizationError",
    "WebhookInbox",
]
