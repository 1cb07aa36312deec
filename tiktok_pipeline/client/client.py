"""The TikTok Shop Open API client: the entry point scripts and the pipeline use."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from tiktok_pipeline.client.auth import AuthAPI
from tiktok_pipeline.client.credentials import (
    CredentialsProvider,
    StaticCredentials,
    StoreCredentials,
)
from tiktok_pipeline.client.endpoints import Endpoint, build_endpoints
from tiktok_pipeline.client.errors import TikTokConfigurationError
from tiktok_pipeline.client.ratelimit import LIMITERS, Limiter, RateLimiterSource
from tiktok_pipeline.client.retry import RetryPolicy
from tiktok_pipeline.client.shop import ShopAPI
from tiktok_pipeline.client.transport import RequestFailed, Transport
from tiktok_pipeline.config import (
    DEFAULT_API_BASE_URL,
    DEFAULT_AUTH_BASE_URL,
    ConfigurationError,
    ca_bundle,
    load_settings,
)
from tiktok_pipeline.request_records import RequestLogSink, RequestRecord

logger = logging.getLogger(__name__)

DEFAULT_QPS = 25.0
DEFAULT_TIMEOUT = (5.0, 30.0)
DEFAULT_REFRESH_MARGIN = timedelta(minutes=30)


def _pooled_session(*urls: str) -> requests.Session:
    """A session with a connection pool big enough for many threads.

    ``requests`` reads proxy settings from the environment on every request, a measurable share
    of a local call's cost; they are read once here instead, for the hosts the client talks to
    (when those hosts would get different proxies, the per-request default is kept).
    """
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=64)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    proxies = [requests.utils.get_environ_proxies(url) for url in urls]
    if all(p == proxies[0] for p in proxies):
        session.proxies.update(proxies[0])
        bundle = ca_bundle()
        if bundle:
            session.verify = bundle
        session.trust_env = False
    return session


class TikTokShopClient:
    """A signed TikTok Shop Open API client.

    Args:
        app_key: the app key from Partner Center.
        app_secret: the app secret (never logged or shown).
        base_url: the Open API host (the sandbox's URL for local runs).
        auth_base_url: the auth host for token calls.
        credentials: where ``client.shop(id)`` finds the shop's cipher and tokens, and has them
            refreshed: the token store, ``Store.from_url(...).tokens``
            (:class:`~tiktok_pipeline.client.credentials.CredentialsProvider`).
        default_shop_id: the shop ``client.shop()`` uses when given none (``TIKTOK_SHOP_ID``).
        qps: calls per second per (app, shop); None: no limit.
        burst: calls allowed back to back before ``qps`` spacing applies.
        rate_limits: where the (app, shop) budgets live: by default shared by the threads of the
            process; ``store.rate_limits`` shares them with every process using the store.
        timeout: (connect, read) seconds.
        retry: the retry policy for throttling, server errors, timeouts and dropped connections.
        refresh_margin: refresh a stored access token this long before it expires.
        request_log: where every call's record goes (``Store.from_url(...).request_log`` writes
            ``tiktok_requests``); None: nowhere.
        endpoints: extra or replaced routes, ``{"order.foo": "POST /order/202309/foo"}``.
        versions: pinned API versions, ``{"order.detail": "202507"}``.
        session: a ``requests.Session`` to use (one with connection pooling is made otherwise).
    """

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        *,
        base_url: str = DEFAULT_API_BASE_URL,
        auth_base_url: str = DEFAULT_AUTH_BASE_URL,
        credentials: CredentialsProvider | None = None,
        default_shop_id: str | None = None,
        qps: float | None = DEFAULT_QPS,
        burst: int = 1,
        rate_limits: RateLimiterSource | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        refresh_margin: timedelta = DEFAULT_REFRESH_MARGIN,
        request_log: RequestLogSink | None = None,
        endpoints: Mapping[str, str] | None = None,
        versions: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if not app_key:
            raise TikTokConfigurationError(
                "app_key is empty: pass the app key from Partner Center or set TIKTOK_APP_KEY"
            )
        if not app_secret:
            raise TikTokConfigurationError(
                "app_secret is empty: pass the app secret from Partner Center or set "
                "TIKTOK_APP_SECRET"
            )
        if isinstance(request_log, bool):
            raise TikTokConfigurationError(
                "request_log takes where the records go, not a flag: pass "
                "request_log=store.request_log to log calls, or leave it out"
            )
        self.app_key = app_key
        self._app_secret = app_secret
        self.base_url = base_url.rstrip("/")
        self.auth_base_url = auth_base_url.rstrip("/")
        self.credentials = credentials
        self.default_shop_id = default_shop_id
        self.qps = qps
        self.burst = burst
        self.rate_limits: RateLimiterSource = rate_limits or LIMITERS
        self.refresh_margin = refresh_margin
        self.endpoints: dict[str, Endpoint] = build_endpoints(endpoints, versions)
        self._owns_session = session is None
        if session is None:
            session = _pooled_session(self.base_url, self.auth_base_url)
        self.transport = Transport(
            app_key=app_key,
            app_secret=app_secret,
            session=session,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            request_log=request_log,
        )
        self.auth = AuthAPI(self)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> TikTokShopClient:
        """A client configured from the environment.

        Reads TIKTOK_APP_KEY, TIKTOK_APP_SECRET, TIKTOK_API_BASE_URL, TIKTOK_AUTH_BASE_URL and
        TIKTOK_SHOP_ID; ``options`` override constructor arguments. For shops in the token
        store, pass it::

            store = Store.from_url()  # TIKTOK_DATABASE_URL
            client = TikTokShopClient.from_env(
                credentials=store.tokens, request_log=store.request_log
            )
        """
        settings = load_settings(environ)
        try:
            app_key, app_secret = settings.require("app_key"), settings.require("app_secret")
        except ConfigurationError as exc:
            raise TikTokConfigurationError(str(exc)) from None
        options.setdefault("base_url", settings.api_base_url)
        options.setdefault("auth_base_url", settings.auth_base_url)
        options.setdefault("default_shop_id", settings.shop_id)
        return cls(app_key, app_secret, **options)

    @property
    def app_secret_value(self) -> str:
        """The app secret, for the token calls that must send it. Never log it."""
        return self._app_secret

    @property
    def services(self) -> list[str]:
        """The API services this client knows (``order``, ``product``, ...)."""
        return sorted({name.partition(".")[0] for name in self.endpoints})

    def shop(
        self,
        shop_id: str | None = None,
        *,
        code: str | None = None,
        name: str | None = None,
        access_token: str | None = None,
        cipher: str | None = None,
    ) -> ShopAPI:
        """The API for one shop.

        ``client.shop("7010123456")`` takes the shop's cipher and a valid access token from the
        token store (refreshing it when needed); ``client.shop(code="GBLCXXXX")`` and
        ``client.shop(name="Maomao Shop")`` find the shop there by its shop code or name;
        ``client.shop()`` uses the default shop (``TIKTOK_SHOP_ID``).
        ``client.shop(access_token=..., cipher=...)`` uses credentials you keep elsewhere; leave
        out ``cipher`` for ``authorization`` and ``seller`` calls.
        """
        if code is not None or name is not None:
            if shop_id is not None or access_token is not None:
                raise TikTokConfigurationError(
                    "give one of a shop id, code= or name= (and no access_token= with them)"
                )
            if self.credentials is None:
                raise TikTokConfigurationError(
                    "client.shop(code=/name=) looks the shop up in the token store: create the "
                    "client with credentials=Store.from_url().tokens (tiktok_pipeline.store)"
                )
            shop_id = str(self.credentials.find_shop(code=code, name=name).id)
        if access_token is not None:
            given = StaticCredentials(access_token, cipher)
            return ShopAPI(self, given, shop_id, limiter_key=shop_id or cipher or "seller")
        shop_id = shop_id or self.default_shop_id
        if not shop_id:
            raise TikTokConfigurationError(
                "no shop given: call client.shop('<shop id>'), set TIKTOK_SHOP_ID, or pass "
                "access_token= (and cipher=) for credentials you keep elsewhere"
            )
        if self.credentials is None:
            raise TikTokConfigurationError(
                f"client.shop({shop_id!r}) needs the token store: create the client with "
                "credentials=Store.from_url().tokens (tiktok_pipeline.store), or pass "
                "access_token= and cipher="
            )
        self.credentials.get_shop(shop_id)  # fails early, listing the known shops
        stored = StoreCredentials(
            self.credentials, shop_id, self.refresh_token_data, self.refresh_margin
        )
        return ShopAPI(self, stored, shop_id, limiter_key=shop_id)

    def refresh_token_data(self, refresh_token: str) -> Mapping[str, Any]:
        """TikTok's token ``data`` for ``refresh_token`` (the token store's refresh callback)."""
        return self.auth.refresh_access_token(refresh_token)["data"]

    def rate_limiter(self, shop_key: str) -> Limiter | None:
        """The limiter of this app's budget for ``shop_key`` (None when qps is None)."""
        if self.qps is None:
            return None
        return self.rate_limits.get(self.app_key, shop_key, self.qps, self.burst)

    def on_request(self, callback: Callable[[RequestRecord], None]) -> None:
        """Call ``callback`` with a redacted record of every HTTP attempt."""
        self.transport.request_observers.append(callback)

    def on_request_failed(self, callback: Callable[[RequestFailed], None]) -> None:
        """Call ``callback`` when a call fails for good (the original's ``TikTokRequestFailed``)."""
        self.transport.failure_observers.append(callback)

    def close(self) -> None:
        """Flush the request log and close the HTTP session (if the client made it)."""
        if self.transport.request_log is not None:
            self.transport.request_log.flush()
        if self._owns_session:
            self.transport.session.close()

    def __enter__(self) -> TikTokShopClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<TikTokShopClient app_key={self.app_key!r} base_url={self.base_url!r}>"
