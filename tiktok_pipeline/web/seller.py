"""Seller authorization: the consent link and the callback that stores tokens and shops.

``GET /tiktok/seller/authorize`` sends the seller to TikTok's consent page with a signed state;
TikTok sends them back to ``GET /tiktok/seller/authorized?code=..&state=..`` (the redirect URL
registered in Partner Center), where the code is exchanged for tokens, the authorized shops are
fetched and both are stored once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import urlencode

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tiktok_pipeline.client import (
    AuthorizationCodeInvalid,
    SignatureError,
    TikTokAPIError,
    TikTokShopClient,
    TransportError,
)
from tiktok_pipeline.db import db_error_text
from tiktok_pipeline.lifecycle.connect import connect_seller
from tiktok_pipeline.store import Shop, Store
from tiktok_pipeline.web import pages
from tiktok_pipeline.web.state import InvalidState, StateSigner

log = logging.getLogger(__name__)

#: TikTok's seller consent hosts (reference §1); the link is ``{host}/open/authorize``.
CONSENT_HOSTS = {
    "us": "https://services.tiktokshops.us",
    "row": "https://services.tiktokshop.com",
}
#: The cookie that binds a consent state to the browser that asked for it.
CONSENT_COOKIE = "tiktok_consent"
SELLER_PATH = "/tiktok/seller"
REGION_ALIASES = {"us": "us", "row": "row", "global": "row"}


def parse_region(value: str) -> str:
    """``us`` or ``row`` for a region name; ValueError naming the choices otherwise."""
    region = REGION_ALIASES.get(value.strip().lower())
    if region is None:
        raise ValueError(
            f"unknown consent region {value!r}: use `us` for US shops or `row` for the rest of "
            "the world"
        )
    return region


def consent_url(
    service_id: str, state: str, *, region: str = "row", base_url: str | None = None
) -> str:
    """TikTok's consent page for this app: ``{host}/open/authorize?service_id=..&state=..``.

    ``base_url`` (``TIKTOK_CONSENT_BASE_URL``, e.g. the sandbox) wins over ``region``.
    """
    host = (base_url or CONSENT_HOSTS[parse_region(region)]).rstrip("/")
    return f"{host}/open/authorize?{urlencode({'service_id': service_id, 'state': state})}"


class ConnectFailed(Exception):
    """The code exchange or the shop listing failed; carries the page to show."""

    def __init__(self, response: Response) -> None:
        super().__init__("seller authorization failed")
        self.response = response


class SellerAuthorization:
    """The two seller routes, bound to a client, a store and a state signer.

    Args:
        client: makes the token call and lists the authorized shops.
        store: receives the authorization and its shops.
        signer: issues and checks the state.
        service_id: ``TIKTOK_SERVICE_ID`` (None: /authorize explains how to set it).
        region: default consent host, ``us`` or ``row`` (a request's ``?region=`` wins).
        consent_base_url: a consent host that replaces TikTok's (the sandbox's URL).
        require_state: refuse callbacks without a state (the default). Consent links copied
            from Partner Center carry none; accepting them (False) reopens a login CSRF, so
            prefer sending sellers to ``/tiktok/seller/authorize``.
    """

    def __init__(
        self,
        *,
        client: TikTokShopClient,
        store: Store,
        signer: StateSigner,
        service_id: str | None,
        region: str = "row",
        consent_base_url: str | None = None,
        require_state: bool = True,
    ) -> None:
        self.client = client
        self.store = store
        self.signer = signer
        self.service_id = service_id
        self.region = parse_region(region)
        self.consent_base_url = consent_base_url
        self.require_state = require_state

    async def authorize(self, request: Request) -> Response:
        """302 to TikTok's consent page with a fresh signed state."""
        if not self.service_id:
            return pages.error_page(
                503,
                "Authorization is not configured",
                "The app's service id is missing: set TIKTOK_SERVICE_ID (Partner Center > App "
                "> Service ID) and restart the web service.",
                offer_retry=False,
            )
        try:
            region = parse_region(request.query_params.get("region") or self.region)
        except ValueError as exc:
            return pages.error_page(400, "Unknown region", str(exc), offer_retry=False)
        issued = self.signer.issue()
        url = consent_url(
            self.service_id, issued.state, region=region, base_url=self.consent_base_url
        )
        response = RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
        # Lax: the browser sends it on TikTok's top-level redirect back, not on cross-site posts.
        response.set_cookie(
            CONSENT_COOKIE,
            issued.binding,
            max_age=self.signer.ttl_seconds,
            path=SELLER_PATH,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",
        )
        return response

    def _check_state(self, state: str | None, binding: str | None) -> Response | None:
        """None when the state is valid, bound to this browser and unused (it is then used);
        else the 400 page saying what is wrong."""
        try:
            claims = self.signer.verify(state, binding)
            if not self.store.consent_states.claim(
                claims.nonce, datetime.fromtimestamp(claims.expires_at, UTC)
            ):
                raise InvalidState("reused", "this authorization link was already used")
        except InvalidState as exc:
            log.warning("seller callback refused: state %s", exc.reason)
            return pages.error_page(
                400,
                "Authorization link not valid",
                f"{str(exc)[0].upper()}{str(exc)[1:]}. Start again from this service's "
                "'Connect a TikTok Shop' link.",
            )
        return None

    async def authorized(self, request: Request) -> Response:
        """The redirect target: check state, exchange the code, store tokens and shops."""
        params = request.query_params
        error = params.get("error")
        if error:
            if error == "auth_denied":
                return pages.error_page(
                    403,
                    "Authorization declined",
                    "The shop was not connected because the authorization was declined on "
                    "TikTok. To connect it, start again and choose Authorize.",
                )
            return pages.error_page(
                400,
                "Authorization failed",
                "TikTok returned an error instead of an authorization code. Start again; if "
                "it keeps failing, check the app's redirect URL in Partner Center.",
            )
        code = params.get("code")
        if not code or code == "null":
            return pages.error_page(
                400,
                "Missing authorization code",
                "TikTok's redirect carried no authorization code. Open this page only through "
                "TikTok's authorization redirect; start again.",
            )
        state = params.get("state")
        if state or self.require_state:
            refused = self._check_state(state, request.cookies.get(CONSENT_COOKIE))
            if refused is not None:
                return refused
        else:
            log.warning("seller callback without a state accepted (require_state is off)")
        try:
            seller_name, shops = await run_in_threadpool(self.connect, code)
        except ConnectFailed as exc:
            return exc.response
        return pages.connected_page(seller_name, shops)

    def connect(self, code: str) -> tuple[str | None, list[Shop]]:
        """Exchange ``code``, list the shops, store them; returns (seller name, shops)."""
        try:
            authorization, stored = connect_seller(self.client, self.store, code)
        except AuthorizationCodeInvalid as exc:
            log.info("seller callback refused: TikTok rejected the code exchange: %s", exc)
            raise ConnectFailed(
                pages.error_page(
                    400,
                    "Authorization code not accepted",
                    f"TikTok did not accept this authorization code ({_tiktok_said(exc)}). A "
                    "code works once and for 30 minutes, so it was probably used or expired: "
                    "start the authorization again to get a new one.",
                )
            ) from None
        except SignatureError as exc:
            log.error("seller callback: TikTok refused the app's credentials: %s", exc)
            raise ConnectFailed(
                pages.error_page(
                    400,
                    "The app's credentials were refused",
                    f"TikTok refused this service's app credentials ({_tiktok_said(exc)}): "
                    "the administrator must check the web service's TIKTOK_APP_KEY and "
                    "TIKTOK_APP_SECRET, then you can start the authorization again.",
                )
            ) from None
        except TransportError as exc:
            log.warning("seller callback: could not reach TikTok: %s", exc)
            raise ConnectFailed(
                pages.error_page(
                    502,
                    "TikTok could not be reached",
                    "The connection to TikTok failed. Start the authorization again in a few "
                    "minutes.",
                )
            ) from None
        except TikTokAPIError as exc:
            log.warning("seller callback: TikTok refused: %s", exc)
            raise ConnectFailed(
                pages.error_page(
                    502 if exc.retryable else 400,
                    "TikTok refused the authorization",
                    f"TikTok answered with an error ({_tiktok_said(exc)}). Start again; if it "
                    "keeps failing, check the web service's app key, secret and service id.",
                )
            ) from None
        except ValueError as exc:
            log.error("seller callback: TikTok's token answer is unusable: %s", exc)
            raise ConnectFailed(
                pages.error_page(
                    502,
                    "TikTok's answer was unusable",
                    "TikTok's answer lacked a field the service needs (an access token or the "
                    "open_id) or held a value longer than the service stores. Start the "
                    "authorization again; the administrator finds which field in the log.",
                )
            ) from None
        except sa.exc.SQLAlchemyError as exc:
            # Never log the exception itself: its text lists the statement's parameters,
            # which include the tokens.
            log.error(
                "seller callback: the authorization could not be stored: %s", db_error_text(exc)
            )
            raise ConnectFailed(
                pages.error_page(
                    503,
                    "The shop could not be saved",
                    "The service's database did not accept the authorization. Start again "
                    "in a few minutes; the administrator finds the cause in the service's log.",
                )
            ) from None
        log.info(
            "seller %s authorized: %d shop(s) connected (%s)",
            authorization.open_id,
            len(stored),
            ", ".join(shop.id for shop in stored) or "none",
        )
        return authorization.seller_name, stored


def _tiktok_said(exc: TikTokAPIError) -> str:
    """TikTok's code and message (the client already keeps secrets out of them)."""
    if exc.code is None:
        return f"HTTP {exc.http_status}" if exc.http_status else "no details"
    return f"code {exc.code}: {exc.message}"
