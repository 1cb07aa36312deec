"""The /sandbox console: a small page (HTML, CSS, vanilla JavaScript) over the control API.

The page shows the virtual clock (with buttons that advance it), sellers and shops, recent
webhook deliveries with their status, faults (switched on and off with a click) and request
counts. Its script only calls the JSON control endpoints of :mod:`control`; it never asks for
an auth code and nothing it reads carries a secret. The endpoint reference is rendered into the
page on the server, so it reads without JavaScript too.
"""

from __future__ import annotations

import html
from functools import cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

#: (method, path, what it does) for the /sandbox page and docs/sandbox.md.
CONTROL_ENDPOINTS = (
    ("GET", "/sandbox", "this console"),
    (
        "GET",
        "/sandbox/state",
        "clock, shops (ids, ciphers, open_ids), sellers, faults, config, "
        "token counts, webhook subscriptions (never a secret)",
    ),
    ("GET", "/sandbox/clock", "the virtual clock"),
    (
        "POST",
        "/sandbox/clock/advance",
        '{"seconds": N}: move the clock forward and push the webhooks of what changed',
    ),
    ("GET", "/sandbox/faults", "the current fault settings"),
    ("POST", "/sandbox/faults", "replace the fault settings (see docs/sandbox.md for fields)"),
    ("DELETE", "/sandbox/faults", "no faults"),
    ("POST", "/sandbox/faults/clear", "no faults (for clients without DELETE)"),
    ("GET", "/sandbox/config", "run-time settings"),
    (
        "POST",
        "/sandbox/config",
        "change run-time settings (redirect_url, token lifetimes, "
        "webhook retry scale, duplicates, shuffling, cancel status word ...)",
    ),
    (
        "POST",
        "/sandbox/reset",
        '{"auth": false}: back to the start (clock, writes, '
        "subscriptions, deliveries, stats, faults); auth=true also forgets tokens",
    ),
    ("POST", "/sandbox/authorize", '{"open_id"?}: an auth code, as the consent redirect gives'),
    (
        "POST",
        "/sandbox/tokens/expire",
        '{"open_id"?, "which": "access"|"refresh"|"both"}: make tokens expire now',
    ),
    (
        "POST",
        "/sandbox/sellers",
        '{"shops": 1, "region"?, "orders_per_shop"?}: a new seller with new shops',
    ),
    (
        "POST",
        "/sandbox/sellers/{open_id}/shops",
        '{"region"?, "orders_per_shop"?, "shop_id"?}: a new shop joins the seller\'s '
        "authorization, with its own data (shop_id: a removed shop comes back); no new consent",
    ),
    (
        "DELETE",
        "/sandbox/sellers/{open_id}/shops/{shop_id}",
        "the shop leaves the seller's authorization (its data is kept for a comeback)",
    ),
    (
        "POST",
        "/sandbox/sellers/{open_id}/deauthorize",
        "revoke the seller's tokens and push SELLER_DEAUTHORIZATION (6) for its shops",
    ),
    (
        "POST",
        "/sandbox/sellers/{open_id}/expiring",
        '{"days": 7}: push UPCOMING_AUTHORIZATION_EXPIRATION (7) for its shops',
    ),
    (
        "GET",
        "/sandbox/stats",
        "requests per endpoint, token get/refresh calls, rejections per code, injected faults",
    ),
    ("POST", "/sandbox/stats/reset", "zero the statistics"),
    (
        "GET",
        "/sandbox/truth/counts",
        "?shop_id=&update_time_ge=&update_time_lt=: counts of "
        "orders, order_line_items, products, product_skus, returns, return_line_items",
    ),
    (
        "GET",
        "/sandbox/truth/{orders|products|returns}",
        "?shop_id=&update_time_ge=&"
        "update_time_lt=&create_time_ge=&create_time_lt=&limit=: the objects exactly as the API "
        "serves them now",
    ),
    ("GET", "/sandbox/webhooks", "webhook subscriptions per shop"),
    (
        "GET",
        "/sandbox/webhooks/deliveries",
        "?shop_id=&event_type=&limit=&wait=SECONDS: push attempts, oldest first (event, "
        "address, attempt, HTTP status, time, notification id); limit: only the last N",
    ),
)

#: The console's files (package data under ``sandbox/static``) and their content types.
STATIC_FILES = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
}
_ENDPOINTS_MARK = "<!--CONTROL_ENDPOINTS-->"

#: Same-origin script, style and fetch only: no inline code, no third party, no framing.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@cache
def _static_text(name: str) -> str:
    return (resources.files("tiktok_pipeline.sandbox") / "static" / name).read_text("utf-8")


def endpoint_rows() -> str:
    """The endpoint reference as escaped HTML table rows."""
    return "".join(
        f"<tr><td>{html.escape(method)}</td><td><code>{html.escape(path)}</code></td>"
        f"<td>{html.escape(what)}</td></tr>"
        for method, path, what in CONTROL_ENDPOINTS
    )


def console_page() -> HTMLResponse:
    """The console's HTML with the endpoint reference filled in."""
    document = _static_text("console.html").replace(_ENDPOINTS_MARK, endpoint_rows())
    return HTMLResponse(document, headers=HEADERS)


def routes() -> list[Route]:
    """``/`` (to the console), ``/sandbox``, ``/sandbox/`` and ``/sandbox/static/<file>``."""

    async def page(request: Request) -> Response:
        """GET /sandbox: the console."""
        return console_page()

    async def home(request: Request) -> Response:
        """GET /: the sandbox has no other page, so send people to the console."""
        return RedirectResponse("/sandbox", status_code=307)

    async def static(request: Request) -> Response:
        """GET /sandbox/static/<file>: the console's script and style sheet."""
        name = request.path_params["name"]
        media_type = STATIC_FILES.get(name)
        if media_type is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(_static_text(name), media_type=media_type, headers=HEADERS)

    return [
        Route("/", home, methods=["GET"]),
        Route("/sandbox", page, methods=["GET"]),
        Route("/sandbox/", page, methods=["GET"]),
        Route("/sandbox/static/{name}", static, methods=["GET"]),
    ]
