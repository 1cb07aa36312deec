"""The TikTok Shop Open API client (plain Python + requests; nothing from Dagster or the store).

>>> from tiktok_pipeline.client import TikTokShopClient
>>> from tiktok_pipeline.store import Store
>>> store = Store.from_url()  # shops and tokens, TIKTOK_DATABASE_URL
>>> client = TikTokShopClient.from_env(credentials=store.tokens, request_log=store.request_log)
>>> api = client.shop("7010123456")
>>> api.order.list(query={"page_size": 50}, body={"update_time_ge": 1700000000})
"""

from tiktok_pipeline.client.client import TikTokShopClient
from tiktok_pipeline.client.credentials import CredentialsProvider, StaticCredentials
from tiktok_pipeline.client.endpoints import ENDPOINTS, Endpoint
from tiktok_pipeline.client.errors import (
    AccessTokenExpired,
    AccessTokenInvalid,
    AuthorizationCodeInvalid,
    ConnectionFailed,
    InvalidResponse,
    MissingScope,
    RateLimited,
    ReauthorizationRequired,
    RefreshTokenInvalid,
    ServerError,
    SignatureError,
    TikTokAPIError,
    TikTokConfigurationError,
    TikTokTimeout,
    TokenError,
    TransportError,
    UnknownShopError,
)
from tiktok_pipeline.client.pagination import Page, PageIterator
from tiktok_pipeline.client.retry import RetryPolicy
from tiktok_pipeline.client.shop import ShopAPI
from tiktok_pipeline.client.signing import sign_request, verify_webhook, webhook_signature
from tiktok_pipeline.client.transport import RequestFailed
from tiktok_pipeline.request_records import RequestLogSink, RequestRecord

__all__ = [
    "ENDPOINTS",
    "AccessTokenExpired",
    "AccessTokenInvalid",
    "AuthorizationCodeInvalid",
    "ConnectionFailed",
    "CredentialsProvider",
    "Endpoint",
    "InvalidResponse",
    "MissingScope",
    "Page",
    "PageIterator",
    "RateLimited",
    "ReauthorizationRequired",
    "RefreshTokenInvalid",
    "RequestFailed",
    "RequestLogSink",
    "RequestRecord",
    "RetryPolicy",
    "ServerError",
    "ShopAPI",
    "SignatureError",
    "StaticCredentials",
    "TikTokAPIError",
    "TikTokConfigurationError",
    "TikTokShopClient",
    "TikTokTimeout",
    "TokenError",
    "TransportError",
    "UnknownShopError",
    "sign_request",
    "verify_webhook",
    "webhook_signature",
]
