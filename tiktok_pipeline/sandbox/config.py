"""The sandbox's settings: one dataclass with a sensible default for every field."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields

DEFAULT_APP_KEY = "sandbox-app-key"
DEFAULT_APP_SECRET = "sandbox-app-secret"
DEFAULT_SERVICE_ID = "sandbox-service-id"
DEFAULT_REDIRECT_URL = "http://127.0.0.1:8000/tiktok/seller/authorized"

#: Regions given to shops in turn (first shop US, second GB, ...).
DEFAULT_REGIONS = ("US", "GB", "ID", "MY", "TH", "VN", "PH", "SG", "MX", "ES", "JP", "BR")

#: TikTok's retry schedule for a failed webhook push (seconds after the previous failure).
WEBHOOK_RETRY_DELAYS = (120, 1800, 10800, 43200)


def today_midnight_utc(now: float | None = None) -> int:
    """Epoch seconds of today's 00:00 UTC."""
    now = time.time() if now is None else now
    return int(now) - int(now) % 86400


@dataclass
class SandboxConfig:
    """Everything the sandbox needs; every field has a default.

    Data is a pure function of ``seed`` and ``anchor`` (plus the shape fields): the same values
    give the same shops, products, orders and returns. Orders are spread over the ``days`` before
    ``anchor`` and keep arriving at the same rate after it as the virtual clock moves.

    Attributes:
        app_key: the only app key the sandbox accepts.
        app_secret: the app's secret (never shown by the sandbox).
        service_id: the service id the consent page accepts.
        seed: the data seed.
        sellers: number of sellers (authorizations) created at start.
        shops: total number of shops, spread round-robin over the sellers (>= sellers).
        orders_per_shop: orders created in the ``days`` before ``anchor`` in each shop.
        products_per_shop: products of each shop.
        days: the history length in days.
        anchor: epoch seconds the data is anchored to (default: today's 00:00 UTC).
        start_time: the virtual clock at start (default: real time now when ``anchor`` is not
            given, else ``anchor``).
        frozen_clock: when True the virtual clock only moves through explicit advances.
        regions: regions handed to shops in turn.
        return_every: one order in this many gets a return.
        host, port: where :func:`run_sandbox` listens (port 0: a free port).
        redirect_url: where the consent page redirects with ``code`` and ``state``.
        access_token_ttl, refresh_token_ttl: token lifetimes in seconds (real wall clock).
        rotate_refresh_tokens: when True a refresh returns a new refresh token and kills the old.
        refresh_grace: seconds the previous access token keeps working after a refresh.
        auth_code_ttl: seconds an auth code stays valid (single use).
        webhook_retry_scale: multiplies TikTok's retry delays (1/600: the whole schedule ~90 s).
        webhook_timeout: seconds a receiver has to answer a push.
        webhook_duplicate_share: share of pushes delivered twice.
        webhook_shuffle: deliver each batch of pushes in a shuffled order.
        webhook_workers: threads delivering pushes.
        cancel_status_word: order status sent in pushes for cancelled orders.
        max_events_per_advance: cap of webhook events computed by one clock advance.
        render_cache_mb: size cap of the cached JSON bodies (their bytes; per-entry overhead
            not counted).
        query_cache_entries: number of search results kept for paging.
        product_search_window: how deep a product search may be paged (TikTok's 10,000;
            lower it to test split searches on a small catalog).
    """

    app_key: str = DEFAULT_APP_KEY
    app_secret: str = field(default=DEFAULT_APP_SECRET, repr=False)
    service_id: str = DEFAULT_SERVICE_ID
    seed: int = 7
    sellers: int = 1
    shops: int = 2
    orders_per_shop: int = 5000
    products_per_shop: int = 200
    days: int = 90
    anchor: int | None = None
    start_time: int | None = None
    frozen_clock: bool = False
    regions: tuple[str, ...] = DEFAULT_REGIONS
    return_every: int = 25
    host: str = "127.0.0.1"
    port: int = 0
    redirect_url: str = DEFAULT_REDIRECT_URL
    access_token_ttl: int = 7 * 86400
    refresh_token_ttl: int = 365 * 86400
    rotate_refresh_tokens: bool = True
    refresh_grace: int = 60
    auth_code_ttl: int = 1800
    webhook_retry_scale: float = 1 / 600
    webhook_timeout: float = 3.0
    webhook_duplicate_share: float = 0.0
    webhook_shuffle: bool = False
    webhook_workers: int = 4
    cancel_status_word: str = "CANCELLED"
    max_events_per_advance: int = 200_000
    render_cache_mb: int = 64
    query_cache_entries: int = 32
    product_search_window: int = 10_000

    def validate(self) -> None:
        """Raise ValueError with what to change when a setting cannot work."""
        problems = []
        if self.sellers < 1:
            problems.append("sellers must be at least 1")
        if self.shops < self.sellers:
            problems.append(f"shops ({self.shops}) must be at least sellers ({self.sellers})")
        if self.shops > 900:
            problems.append("shops must be at most 900")
        if self.orders_per_shop < 1:
            problems.append("orders_per_shop must be at least 1")
        if self.products_per_shop < 1:
            problems.append("products_per_shop must be at least 1")
        if self.days < 1:
            problems.append("days must be at least 1")
        if self.product_search_window < 1:
            problems.append("product_search_window must be at least 1")
        if self.return_every < 2:
            problems.append("return_every must be at least 2")
        if not self.regions:
            problems.append("regions must not be empty")
        if self.cancel_status_word not in ("CANCELLED", "CANCEL"):
            problems.append("cancel_status_word must be CANCELLED or CANCEL")
        if not self.app_key or not self.app_secret:
            problems.append("app_key and app_secret must not be empty")
        if problems:
            raise ValueError("invalid SandboxConfig: " + "; ".join(problems))

    def resolved_anchor(self) -> int:
        """The data anchor: ``anchor`` or today's 00:00 UTC."""
        return self.anchor if self.anchor is not None else today_midnight_utc()

    def public_dict(self) -> dict:
        """The settings without the secret, for /sandbox/state."""
        out = {}
        for f in fields(self):
            if f.name == "app_secret":
                continue
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


#: Settings that POST /sandbox/config may change at run time, with their types.
RUNTIME_SETTINGS: dict[str, type] = {
    "redirect_url": str,
    "access_token_ttl": int,
    "refresh_token_ttl": int,
    "rotate_refresh_tokens": bool,
    "refresh_grace": int,
    "auth_code_ttl": int,
    "webhook_retry_scale": float,
    "webhook_timeout": float,
    "webhook_duplicate_share": float,
    "webhook_shuffle": bool,
    "cancel_status_word": str,
    "max_events_per_advance": int,
}
