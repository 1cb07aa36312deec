"""The few HTML pages a seller sees: "shops connected" and clear error pages.

Every value is escaped, and no page ever shows a token, an auth code, a state or a secret: the
callers pass only names, regions and ids. The responses forbid caching and referrers, because
the callback URL itself carries the auth code.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from starlette.responses import HTMLResponse

from tiktok_pipeline.lifecycle.links import AUTHORIZE_PATH
from tiktok_pipeline.store import Shop

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;"
    "color:#161823}h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}"
    "td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}"
    ".muted{color:#666;font-size:.9rem}"
)


def _page(title: str, body: str, status_code: int) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status_code, headers=SECURITY_HEADERS)


def _again_link(label: str = "Connect a shop again") -> str:
    return f'<p><a href="{AUTHORIZE_PATH}">{html.escape(label)}</a></p>'


def connected_page(seller_name: str | None, shops: Iterable[Shop]) -> HTMLResponse:
    """200: the seller's shops are connected; lists each shop's name, region and id."""
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(shop.name or "(no name)"),
            html.escape(shop.region or "-"),
            html.escape(shop.id),
        )
        for shop in shops
    )
    who = f" for {html.escape(seller_name)}" if seller_name else ""
    if rows:
        listing = (
            "<table><thead><tr><th>Shop</th><th>Region</th><th>Shop ID</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    else:
        listing = (
            "<p>TikTok authorized the app but listed no shops for this account. Check that the "
            "account owns a shop, then connect again.</p>"
        )
    body = (
        f"<h1>TikTok Shop connected{who}</h1>"
        "<p>These shops are now connected; their orders, products and returns will be "
        "synced.</p>"
        f"{listing}{_again_link('Connect another shop')}"
    )
    return _page("TikTok Shop connected", body, 200)


def error_page(
    status_code: int, title: str, message: str, *, offer_retry: bool = True
) -> HTMLResponse:
    """A page saying what went wrong and what to do, with ``status_code``."""
    body = f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
    if offer_retry:
        body += _again_link("Start the authorization again")
    return _page(title, body, status_code)
