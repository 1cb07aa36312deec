"""Seller consent (/open/authorize) and the token endpoints (/api/v2/token/get|refresh)."""

from __future__ import annotations

import html
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tiktok_pipeline.sandbox import errors
from tiktok_pipeline.sandbox.auth import TokenError
from tiktok_pipeline.sandbox.gateway import envelope, request_id
from tiktok_pipeline.sandbox.state import SandboxState


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _error_page(title: str, detail: str) -> HTMLResponse:
    body = (
        "<!doctype html><html><head><title>TikTok Shop sandbox: authorization error</title>"
        "</head><body><h1>" + html.escape(title) + "</h1><p>" + html.escape(detail) + "</p>"
        "</body></html>"
    )
    return HTMLResponse(body, status_code=400)


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def routes(state: SandboxState) -> list[Route]:
    """The consent and token routes."""

    def consent(request: Request, identify_ok: bool, what: str) -> Response:
        """Redirect to the redirect URL with a code (or the denial) and the state."""
        q = request.query_params
        if not identify_ok:
            return _error_page(
                f"Unknown {what}",
                f"This sandbox only knows its configured {what}; check the authorization link "
                "(see GET /sandbox/state for the sandbox's settings).",
            )
        open_id = q.get("open_id") or None
        if open_id is not None and open_id not in state.sellers:
            return _error_page(
                "Unknown seller",
                "open_id does not name a sandbox seller; see GET /sandbox/state for the sellers.",
            )
        seller = state.seller(open_id)
        state.stats.consents += 1
        params: dict[str, str] = {}
        if q.get("deny") in ("1", "true", "yes"):
            params["code"] = "null"
            params["error"] = "auth_denied"
        else:
            params["code"] = state.auth.issue_code(seller.open_id)
        if "state" in q:
            params["state"] = q["state"]
        return RedirectResponse(_with_query(state.config.redirect_url, params), status_code=302)

    async def open_authorize(request: Request) -> Response:
        """GET /open/authorize?service_id=..&state=.."""
        service_id = request.query_params.get("service_id", "")
        return consent(request, service_id == state.config.service_id, "service_id")

    async def oauth_authorize(request: Request) -> Response:
        """GET /oauth/authorize?app_key=..&state=.. (the older consent link)."""
        # The older consent link (auth host, ?app_key=..&state=..) some SDKs still use.
        app_key = request.query_params.get("app_key", "")
        return consent(request, app_key == state.config.app_key, "app_key")

    def token_answer(issued: dict) -> Response:
        """The token endpoints' success answer."""
        if issued["open_id"] not in state.sellers:  # the seller was removed by a reset
            code, message = errors.AUTH_RECORD_NOT_FOUND
            state.stats.rejection(code)
            return _json(envelope(code, message, request_id()))
        seller = state.seller(issued["open_id"])
        data = {
            "access_token": issued["access_token"],
            "access_token_expire_in": issued["access_token_expire_in"],
            "refresh_token": issued["refresh_token"],
            "refresh_token_expire_in": issued["refresh_token_expire_in"],
            "open_id": seller.open_id,
            "seller_name": seller.seller_name,
            "seller_base_region": seller.region,
            "user_type": 0,
            "granted_scopes": state.auth.granted_scopes(),
        }
        return _json(envelope(0, "success", request_id(), data))

    async def token_get(request: Request) -> Response:
        """GET /api/v2/token/get."""
        state.stats.token_call("get")
        q = request.query_params
        try:
            issued = state.auth.exchange_code(
                q.get("app_key"), q.get("app_secret"), q.get("auth_code"), q.get("grant_type")
            )
        except TokenError as exc:
            state.stats.rejection(exc.code)
            return _json(envelope(exc.code, exc.message, request_id()))
        return token_answer(issued)

    async def token_refresh(request: Request) -> Response:
        """GET /api/v2/token/refresh."""
        state.stats.token_call("refresh")
        q = request.query_params
        try:
            issued = state.auth.refresh(
                q.get("app_key"),
                q.get("app_secret"),
                q.get("refresh_token"),
                q.get("grant_type"),
            )
        except TokenError as exc:
            state.stats.rejection(exc.code)
            return _json(envelope(exc.code, exc.message, request_id()))
        return token_answer(issued)

    return [
        Route("/open/authorize", open_authorize, methods=["GET"]),
        Route("/oauth/authorize", oauth_authorize, methods=["GET"]),
        Route("/api/v2/token/get", token_get, methods=["GET"]),
        Route("/api/v2/token/refresh", token_refresh, methods=["GET"]),
    ]
