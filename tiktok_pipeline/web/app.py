"""The Starlette application: seller authorization, the webhook receiver and a health check.

Routes (under ``/tiktok``, where the original package put them, and a home page):

- ``GET  /``                          what this service is, "Connect a TikTok Shop", its health
- ``GET  /tiktok/seller/authorize``   302 to TikTok's consent page (``?region=us|row``)
- ``GET  /tiktok/seller/authorized``  TikTok's redirect back: tokens and shops are stored
- ``POST /tiktok/webhooks/all``       any push
- ``POST /tiktok/webhooks/{event}``   pushes of one event (``order-status-change``, ...)
- ``GET  /tiktok/health``             200 when the database answers, else 503
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import anyio.to_thread
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.config import Settings, load_settings
from tiktok_pipeline.db import db_error_text
from tiktok_pipeline.lifecycle.links import AUTHORIZE_PATH, AUTHORIZED_PATH
from tiktok_pipeline.store import Store
from tiktok_pipeline.web import pages
from tiktok_pipeline.web.hooks import WebhookHooks
from tiktok_pipeline.web.registration import WEBHOOKS_PATH
from tiktok_pipeline.web.seller import SellerAuthorization, parse_region
from tiktok_pipeline.web.state import DEFAULT_TTL_SECONDS, StateSigner
from tiktok_pipeline.web.webhooks import DEFAULT_BODY_LIMIT, WebhookReceiver

log = logging.getLogger(__name__)

PREFIX = "/tiktok"


def create_app(
    *,
    store: Store | None = None,
    client: TikTokShopClient | None = None,
    settings: Settings | None = None,
    hooks: WebhookHooks | None = None,
    region: str = "row",
    require_state: bool = True,
    state_ttl_seconds: int = DEFAULT_TTL_SECONDS,
    body_limit: int = DEFAULT_BODY_LIMIT,
    db_concurrency: int | None = None,
) -> Starlette:
    """The web service's ASGI app.

    Resources not given are made from ``settings`` (default: the environment): the store from
    ``TIKTOK_DATABASE_URL`` and a client from ``TIKTOK_APP_KEY``/``TIKTOK_APP_SECRET`` and the
    API and auth base URLs. Resources the app makes are closed when it shuts down.

    Args:
        store: the operational store (pushes, authorizations, shops).
        client: the TikTok client for the token exchange and the shop listing; its app key and
            secret also verify pushes.
        settings: configuration (``service_id``, ``consent_base_url``, ...).
        hooks: webhook listeners (:class:`WebhookHooks`); ``app.state.hooks`` otherwise.
        region: default consent host, ``us`` or ``row`` (``?region=`` on /authorize wins);
            ignored when ``TIKTOK_CONSENT_BASE_URL`` is set.
        require_state: refuse callbacks that carry no state (default; Partner Center's links
            have none, and accepting them opens a login CSRF).
        state_ttl_seconds: how long a consent link's state stays valid.
        body_limit: largest webhook body accepted, in bytes.
        db_concurrency: webhook inserts run at once in threads; 0: on the event loop
            (default 0 on SQLite, 8 on database servers).

    Raises:
        ConfigurationError: the app key or secret is missing (naming the variable), or the
            database schema is not at head.
    """
    settings = settings or load_settings()
    parse_region(region)
    owned: list[Store | TikTokShopClient] = []
    if store is None:
        store = Store.from_url(settings.database_url)
        owned.append(store)
    if client is None:
        client = TikTokShopClient(
            settings.require("app_key"),
            settings.require("app_secret"),
            base_url=settings.api_base_url,
            auth_base_url=settings.auth_base_url,
            credentials=store.tokens,
            request_log=store.request_log,
        )
        owned.insert(0, client)
    hooks = hooks if hooks is not None else WebhookHooks()
    if not settings.service_id:
        log.warning(
            "TIKTOK_SERVICE_ID is not set: /tiktok/seller/authorize cannot build consent links "
            "(the callback and the webhooks work)"
        )
    seller = SellerAuthorization(
        client=client,
        store=store,
        signer=StateSigner(client.app_secret_value, ttl_seconds=state_ttl_seconds),
        service_id=settings.service_id,
        region=region,
        consent_base_url=settings.consent_base_url,
        require_state=require_state,
    )
    receiver = WebhookReceiver(
        store=store,
        app_key=client.app_key,
        app_secret=client.app_secret_value,
        hooks=hooks,
        body_limit=body_limit,
        db_concurrency=db_concurrency,
    )

    async def health(request: Request) -> Response:
        if not await _database_answers(store):
            return JSONResponse({"status": "error", "database": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    consent_target = settings.consent_base_url or (
        "TikTok's US consent page" if seller.region == "us" else "TikTok's global consent page"
    )

    async def home(request: Request) -> Response:
        """GET /: the home page (lists no shop, seller or token: there is no sign-in)."""
        status = pages.ServiceStatus(
            database_ok=await _database_answers(store),
            service_id_set=bool(settings.service_id),
            consent_target=consent_target,
        )
        return pages.home_page(status)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await anyio.to_thread.run_sync(hooks.close)
        for resource in owned:
            resource.close()

    app = Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route(f"{PREFIX}/health", health, methods=["GET"]),
            Route(AUTHORIZE_PATH, seller.authorize, methods=["GET"]),
            Route(AUTHORIZED_PATH, seller.authorized, methods=["GET"]),
            Route(f"{WEBHOOKS_PATH}/{{event}}", receiver.receive, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    # What WebService (server.py) hands out; nothing else reads app.state.
    app.state.store = store
    app.state.hooks = hooks
    return app


async def _database_answers(store: Store) -> bool:
    """True when the database answers ``SELECT 1`` (the health check, the home page)."""
    try:
        await anyio.to_thread.run_sync(_ping, store)
    except sa.exc.SQLAlchemyError as exc:
        log.error("health check: the database does not answer: %s", db_error_text(exc))
        return False
    return True


def _ping(store: Store) -> None:
    with store.engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
