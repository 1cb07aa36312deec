"""``tiktok-pipeline serve``: run the web service (seller authorization and webhooks)."""

from __future__ import annotations

import argparse
import sys

from tiktok_pipeline.web.webhooks import DEFAULT_BODY_LIMIT


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve`` command."""
    parser = subparsers.add_parser(
        "serve",
        help="run the web service: seller authorization and the webhook receiver",
        description=(
            "Serve /tiktok/seller/authorize (send sellers here to connect a shop), "
            "/tiktok/seller/authorized (register it as the redirect URL in Partner Center), "
            "/tiktok/webhooks/all and /tiktok/webhooks/<event> (webhook addresses) and "
            "/tiktok/health. Reads TIKTOK_APP_KEY, TIKTOK_APP_SECRET, TIKTOK_SERVICE_ID, "
            "TIKTOK_DATABASE_URL, TIKTOK_PUBLIC_URL and TIKTOK_CONSENT_BASE_URL."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--region",
        default="row",
        choices=["us", "row"],
        help="consent page host: us (services.tiktokshops.us) or row, the rest of the world "
        "(services.tiktokshop.com; default); a link may override it with ?region=",
    )
    parser.add_argument(
        "--require-state",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="refuse callbacks without this service's signed state, bound to the browser "
        "(default). --no-require-state also accepts consent links copied from Partner Center, "
        "which carry none, at the price of a login-CSRF opening",
    )
    parser.add_argument(
        "--body-limit",
        type=int,
        default=DEFAULT_BODY_LIMIT,
        metavar="BYTES",
        help=f"largest webhook body accepted (default {DEFAULT_BODY_LIMIT}; larger gets 413)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (auth codes and states are blanked out)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Build the app from the environment and serve it until interrupted."""
    from tiktok_pipeline.cli.db import database_errors
    from tiktok_pipeline.config import load_settings
    from tiktok_pipeline.lifecycle import reauthorize_url, redirect_url
    from tiktok_pipeline.web import create_app, serve
    from tiktok_pipeline.web.registration import webhook_address

    if args.body_limit < 1024:
        print("error: --body-limit must be at least 1024 bytes", file=sys.stderr)
        return 2
    settings = load_settings()
    with database_errors(settings.database_url):
        app = create_app(
            settings=settings,
            region=args.region,
            require_state=args.require_state,
            body_limit=args.body_limit,
        )
    public = settings.public_url
    print(f"TikTok web service on http://{args.host}:{args.port}", file=sys.stderr)
    for label, url in (
        ("connect a shop", reauthorize_url(public)),
        ("redirect URL for Partner Center", redirect_url(public)),
        ("webhook address", webhook_address(public)),
    ):
        print(f"  {label + ':':33}{url}", file=sys.stderr)
    serve(app, host=args.host, port=args.port, access_log=args.access_log)
    return 0
