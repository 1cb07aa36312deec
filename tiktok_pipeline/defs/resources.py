"""Dagster resources: the operational store, the TikTok API and the warehouse.

Secrets arrive through ``dg.EnvVar`` (resolved at launch, hidden in the UI); URLs left unset
fall back to the project's settings when a run starts, never at import time.
"""

from datetime import timedelta

import dagster as dg
from pydantic import PrivateAttr

from tiktok_pipeline.client import RetryPolicy, ShopAPI, TikTokShopClient
from tiktok_pipeline.config import load_settings
from tiktok_pipeline.store import Shop, ShopStatus, Store
from tiktok_pipeline.warehouse import Warehouse


class StoreResource(dg.ConfigurableResource):
    """The operational store (shops, tokens, request log, webhook inbox)."""

    url: str | None = None
    """SQLAlchemy URL; default ``TIKTOK_DATABASE_URL``, else the embedded SQLite file."""

    _store: Store | None = PrivateAttr(default=None)

    def get(self) -> Store:
        """The store, created (and on SQLite, migrated) on first use."""
        if self._store is None:
            self._store = Store.from_url(self.url or load_settings().database_url)
        return self._store

    def active_shops(self) -> list[Shop]:
        """Shops whose authorization is usable, by id."""
        return sorted(self.get().tokens.list_shops([ShopStatus.ACTIVE]), key=lambda s: s.id)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Flush the request log at the end of a run."""
        if self._store is not None:
            self._store.close()


class TikTokResource(dg.ConfigurableResource):
    """TikTok Shop API access: per-shop API views whose tokens come from the token store."""

    app_key: str
    app_secret: str
    store: StoreResource
    api_base_url: str | None = None
    """Open API host; default ``TIKTOK_API_BASE_URL`` or TikTok's production host."""
    auth_base_url: str | None = None
    """Auth host for token calls; default ``TIKTOK_AUTH_BASE_URL`` or TikTok's."""
    qps: float = 25.0
    """Calls per second per shop (TikTok's quota unit is app x shop)."""
    burst: int = 1
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 5
    """Attempts per call for throttling, server errors and timeouts."""
    retry_initial_delay: float = 1.0
    refresh_margin_minutes: int = 30
    """Refresh an access token this many minutes before it expires."""
    log_requests: bool = True
    """Write every call to ``tiktok_requests``."""

    _client: TikTokShopClient | None = PrivateAttr(default=None)

    def client(self) -> TikTokShopClient:
        """The signed client (one per process and resource instance)."""
        if self._client is None:
            settings = load_settings()
            store = self.store.get()
            self._client = TikTokShopClient(
                self.app_key,
                self.app_secret,
                base_url=self.api_base_url or settings.api_base_url,
                auth_base_url=self.auth_base_url or settings.auth_base_url,
                credentials=store.tokens,
                rate_limits=store.rate_limits,
                qps=self.qps,
                burst=self.burst,
                timeout=(self.connect_timeout, self.read_timeout),
                retry=RetryPolicy(
                    max_attempts=self.max_attempts, initial_delay=self.retry_initial_delay
                ),
                refresh_margin=timedelta(minutes=self.refresh_margin_minutes),
                request_log=store.request_log if self.log_requests else None,
            )
        return self._client

    def shop(self, shop_id: str) -> ShopAPI:
        """The API for one shop in the token store."""
        return self.client().shop(shop_id)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Flush the request log and close the HTTP session."""
        if self._client is not None:
            self._client.close()


class WarehouseResource(dg.ConfigurableResource):
    """The analytic tables the assets write and analysts query."""

    url: str | None = None
    """SQLAlchemy URL; default ``TIKTOK_WAREHOUSE_URL``, else the operational database."""

    _warehouse: Warehouse | None = PrivateAttr(default=None)

    def get(self) -> Warehouse:
        """The warehouse, created (and on SQLite, migrated) on first use."""
        if self._warehouse is None:
            self._warehouse = Warehouse.from_url(self.url or load_settings().warehouse_url)
        return self._warehouse


def default_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources the definitions bind, configured from the environment at launch."""
    store = StoreResource()
    return {
        "store": store,
        "tiktok": TikTokResource(
            app_key=dg.EnvVar("TIKTOK_APP_KEY"),
            app_secret=dg.EnvVar("TIKTOK_APP_SECRET"),
            store=store,
        ),
        "warehouse": WarehouseResource(),
    }
