"""The few HTML pages a person sees: the home page, "shops connected" and clear error pages.

Every value is escaped, and no page ever shows a token, an auth code, a state or a secret: the
callers pass only names, regions and ids. The home page lists no shop or seller at all (the
service has no sign-in). The responses forbid caching and referrers, because the callback URL
itself carries the auth code, and allow no script.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

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
HEALTH_PATH = "/tiktok/health"

_STYLE = (
    ":root{--ink:#161823;--muted:#5d6370;--line:#e4e6ea;--bg:#f5f6f8;--brand:#fe2c55;"
    "--ok:#12805c;--bad:#c4314b;--warn:#9a6700}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:16px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:var(--ink);background:var(--bg)}"
    "header{background:#fff;border-bottom:1px solid var(--line)}"
    ".bar{max-width:46rem;margin:0 auto;padding:.8rem 1rem;display:flex;align-items:center;"
    "gap:.6rem}"
    ".brand{font-weight:650;color:var(--ink);text-decoration:none;display:flex;"
    "align-items:center;gap:.55rem}"
    ".logo{width:1.5rem;height:1.5rem;border-radius:.4rem;"
    "background:linear-gradient(135deg,#25f4ee 0 45%,#fe2c55 55% 100%)}"
    ".bar .muted{margin-left:auto}"
    "main{max-width:46rem;margin:2rem auto;padding:0 1rem}"
    ".card{background:#fff;border:1px solid var(--line);border-radius:.8rem;padding:1.5rem;"
    "margin-bottom:1.2rem}"
    "h1{font-size:1.5rem;line-height:1.25;margin:0 0 .6rem}"
    "h2{font-size:1.05rem;margin:0 0 .8rem}"
    "p{margin:.4rem 0 .9rem}"
    ".kicker{text-transform:uppercase;letter-spacing:.06em;font-size:.75rem;font-weight:650;"
    "color:var(--muted);margin:0 0 .3rem}"
    ".kicker.bad{color:var(--bad)}.kicker.ok{color:var(--ok)}"
    ".button{display:inline-block;background:var(--brand);color:#fff;text-decoration:none;"
    "font-weight:600;padding:.65rem 1.25rem;border-radius:.55rem}"
    ".button:hover,.button:focus{background:#dc1f47}"
    ".actions{margin-top:1.2rem}"
    "ol{padding-left:1.2rem;margin:.2rem 0}li{margin:.25rem 0}"
    "table{border-collapse:collapse;width:100%;font-size:.95rem}"
    "td,th{border-bottom:1px solid var(--line);padding:.5rem .4rem;text-align:left}"
    "th{font-size:.8rem;color:var(--muted);font-weight:600}"
    "ul.status{list-style:none;padding:0;margin:0}"
    "ul.status li{display:flex;gap:.6rem;align-items:baseline;padding:.45rem 0;"
    "border-bottom:1px solid var(--line)}ul.status li:last-child{border-bottom:0}"
    ".dot{flex:none;width:.65rem;height:.65rem;border-radius:50%;background:var(--muted)}"
    ".ok .dot{background:var(--ok)}.bad .dot{background:var(--bad)}"
    ".warn .dot{background:var(--warn)}"
    ".label{font-weight:600;flex:0 0 12.5rem}"
    ".note{border-left:3px solid var(--warn);background:#fff8e6;padding:.5rem .8rem;"
    "border-radius:.3rem}"
    "code{background:#f0f1f4;padding:.08rem .3rem;border-radius:.25rem;font-size:.88em}"
    ".muted{color:var(--muted);font-size:.9rem}"
    "footer{max-width:46rem;margin:0 auto 2rem;padding:0 1rem}"
    "a{color:#0b62c4}"
)


def _page(title: str, body: str, status_code: int) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)} · tiktok-pipeline</title><style>{_STYLE}</style></head>"
        '<body><header><div class="bar"><a class="brand" href="/">'
        '<span class="logo" aria-hidden="true"></span>tiktok-pipeline</a>'
        '<span class="muted">web service</span></div></header>'
        f"<main>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status_code, headers=SECURITY_HEADERS)


def _connect_button(label: str = "Connect a TikTok Shop") -> str:
    return (
        f'<p class="actions"><a class="button" id="connect" href="{AUTHORIZE_PATH}">'
        f"{html.escape(label)}</a></p>"
    )


@dataclass(frozen=True)
class ServiceStatus:
    """What the home page reports: nothing about any shop, seller or token.

    Attributes:
        database_ok: the operational database answers (what /tiktok/health checks).
        service_id_set: ``TIKTOK_SERVICE_ID`` is set, so consent links can be built.
        consent_target: where consent links go (a region or a configured host), for display.
    """

    database_ok: bool
    service_id_set: bool
    consent_target: str


def _status_row(level: str, label: str, text: str) -> str:
    return (
        f'<li class="{level}" data-check="{html.escape(label)}"><span class="dot"></span>'
        f'<span class="label">{html.escape(label)}</span><span>{text}</span></li>'
    )


def home_page(status: ServiceStatus) -> HTMLResponse:
    """200: what this service is, a "Connect a TikTok Shop" button and its health."""
    rows = [
        _status_row("ok", "Database", "reachable")
        if status.database_ok
        else _status_row(
            "bad", "Database", "not reachable: connecting a shop will fail until it answers"
        ),
        _status_row(
            "ok",
            "Seller authorization",
            f"ready: sellers consent on {html.escape(status.consent_target)}",
        )
        if status.service_id_set
        else _status_row(
            "warn", "Seller authorization", "not configured: set <code>TIKTOK_SERVICE_ID</code>"
        ),
        _status_row(
            "ok",
            "Webhook receiver",
            "accepting signed pushes at <code>POST /tiktok/webhooks/all</code> and "
            "<code>/tiktok/webhooks/&lt;event&gt;</code>",
        ),
    ]
    warning = ""
    if not status.service_id_set:
        warning = (
            '<p class="note">This service cannot build consent links yet: set '
            "<code>TIKTOK_SERVICE_ID</code> (Partner Center &gt; App &gt; Service ID) and "
            "restart it.</p>"
        )
    body = (
        '<section class="card"><p class="kicker">TikTok Shop connector</p>'
        "<h1>Connect your TikTok Shop to the data pipeline</h1>"
        "<p>This is <strong>tiktok-pipeline</strong>'s web service. It connects TikTok Shop "
        "sellers to the pipeline (seller authorization) and receives TikTok's webhooks, so "
        "that orders, products, returns and finance data reach the warehouse.</p>"
        f"{warning}{_connect_button()}</section>"
        '<section class="card"><h2>How connecting works</h2><ol>'
        "<li>Choose <em>Connect a TikTok Shop</em>: TikTok asks you to sign in as the seller "
        "and to authorize the app.</li>"
        "<li>TikTok sends you back here, and the shops of that account are connected.</li>"
        "<li>The pipeline syncs those shops from then on; connect again at any time to renew "
        "the authorization.</li></ol></section>"
        f'<section class="card" id="status"><h2>Service status</h2>'
        f'<ul class="status">{"".join(rows)}</ul>'
        f'<p class="muted">Machine-readable: <a href="{HEALTH_PATH}">{HEALTH_PATH}</a> '
        "(200 when the database answers, else 503).</p></section>"
    )
    return _page("TikTok Shop connector", body, 200)


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
        '<section class="card"><p class="kicker ok">Connected</p>'
        f"<h1>TikTok Shop connected{who}</h1>"
        "<p>These shops are now connected; their orders, products, returns, cancellations "
        "and settlements will be synced.</p>"
        f"{listing}{_connect_button('Connect another shop')}</section>"
    )
    return _page("TikTok Shop connected", body, 200)


def error_page(
    status_code: int, title: str, message: str, *, offer_retry: bool = True
) -> HTMLResponse:
    """A page saying what went wrong and what to do, with ``status_code``."""
    body = (
        f'<section class="card"><p class="kicker bad">Error {status_code}</p>'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
    )
    if offer_retry:
        body += _connect_button("Start the authorization again")
    else:
        body += '<p class="actions"><a href="/">Back to the service\'s home page</a></p>'
    return _page(title, body + "</section>", status_code)
