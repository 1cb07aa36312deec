"""Connect sandbox sellers to a store the way the web callback does, over real HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tiktok_pipeline.client import RetryPolicy, TikTokShopClient
from tiktok_pipeline.lifecycle import connect_seller
from tiktok_pipeline.sandbox import RunningSandbox, SandboxConfig
from tiktok_pipeline.store import Authorization, Store

#: Retries as in production, without the waiting.
FAST_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.01, multiplier=1.0, jitter=0.0)
TOKEN_REFRESH_PATH = "/api/v2/token/refresh"


def sandbox_config(**overrides: Any) -> SandboxConfig:
    """A small sandbox: seller 0 has two shops, sellers 1 and 2 one each."""
    settings: dict[str, Any] = {
        "sellers": 3,
        "shops": 4,
        "orders_per_shop": 5,
        "products_per_shop": 3,
        "days": 2,
        "rotate_refresh_tokens": True,
    }
    return SandboxConfig(**(settings | overrides))


def make_client(sandbox: RunningSandbox, store: Store | None) -> TikTokShopClient:
    """A client of the sandbox's hosts (both served on one port) with fast retries."""
    return TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
        credentials=store.tokens if store is not None else None,
        request_log=store.request_log if store is not None else None,
        retry=FAST_RETRY,
        qps=None,
    )


def connect(
    sandbox: RunningSandbox,
    store: Store,
    client: TikTokShopClient,
    seller: int = 0,
    *,
    access: timedelta = timedelta(days=7),
    refresh: timedelta = timedelta(days=365),
) -> Authorization:
    """Seller ``seller`` consents; the code is exchanged and the shops saved, as the web does.

    ``access`` and ``refresh`` are the lifetimes the sandbox gives the new tokens.
    """
    sandbox.control.config(
        access_token_ttl=int(access.total_seconds()),
        refresh_token_ttl=int(refresh.total_seconds()),
    )
    code = sandbox.authorize(sandbox.sellers[seller].open_id)
    authorization, _ = connect_seller(client, store, code)
    # Later refreshes get a normal lifetime, whatever this seller was given.
    sandbox.control.config(access_token_ttl=7 * 86400, refresh_token_ttl=365 * 86400)
    return authorization


def shop_ids(sandbox: RunningSandbox, seller: int) -> list[str]:
    """The shop ids of a sandbox seller, sorted."""
    return sorted(sandbox.sellers[seller].shop_ids)


def refresh_calls(sandbox: RunningSandbox) -> int:
    """How many token refresh calls the sandbox answered."""
    return sandbox.control.stats()["token_refresh_calls"]
