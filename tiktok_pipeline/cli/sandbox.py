"""``tiktok-pipeline sandbox``: run the local TikTok Shop sandbox."""

from __future__ import annotations

import argparse
import sys

from tiktok_pipeline.sandbox.config import (
    DEFAULT_APP_KEY,
    DEFAULT_APP_SECRET,
    DEFAULT_REDIRECT_URL,
    DEFAULT_SERVICE_ID,
    SandboxConfig,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sandbox`` sub-command."""
    parser = subparsers.add_parser(
        "sandbox",
        help="run a local TikTok Shop server (Open API, tokens, consent page, webhooks)",
        description=(
            "Serve a local TikTok Shop: the Open API, the token endpoints and the consent "
            "page on one port, with deterministic data, a virtual clock, webhooks and faults "
            "on demand. Control endpoints are listed at /sandbox; see docs/sandbox.md."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=8900, help="port (default: %(default)s)")
    parser.add_argument("--app-key", default=DEFAULT_APP_KEY, help="app key (default: %(default)s)")
    parser.add_argument(
        "--app-secret",
        default=DEFAULT_APP_SECRET,
        help="app secret (default: the documented sandbox secret)",
    )
    parser.add_argument(
        "--service-id",
        default=DEFAULT_SERVICE_ID,
        help="service id of the consent link (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=7, help="data seed (default: %(default)s)")
    parser.add_argument(
        "--sellers", type=int, default=1, help="sellers (authorizations) (default: %(default)s)"
    )
    parser.add_argument(
        "--shops",
        type=int,
        default=2,
        help="shops in total, spread over the sellers (default: %(default)s)",
    )
    parser.add_argument(
        "--orders-per-shop",
        type=int,
        default=5000,
        help="orders in the --days before the anchor (default: %(default)s)",
    )
    parser.add_argument(
        "--products-per-shop",
        type=int,
        default=200,
        help="products per shop (default: %(default)s)",
    )
    parser.add_argument(
        "--days", type=int, default=90, help="days of order history (default: %(default)s)"
    )
    parser.add_argument(
        "--anchor",
        type=int,
        default=None,
        help="epoch seconds the data is anchored to (default: today 00:00 UTC)",
    )
    parser.add_argument(
        "--frozen-clock",
        action="store_true",
        help="the virtual clock only moves through /sandbox/clock/advance",
    )
    parser.add_argument(
        "--redirect-url",
        default=DEFAULT_REDIRECT_URL,
        help="where the consent page redirects (default: %(default)s)",
    )
    parser.add_argument(
        "--access-token-ttl",
        type=int,
        default=7 * 86400,
        help="access token lifetime in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--refresh-token-ttl",
        type=int,
        default=365 * 86400,
        help="refresh token lifetime in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--no-rotate-refresh-tokens",
        action="store_true",
        help="keep the same refresh token on refresh (default: rotate)",
    )
    parser.add_argument(
        "--webhook-retry-scale",
        type=float,
        default=1 / 600,
        help="multiplies TikTok's webhook retry delays (default: 1/600)",
    )
    parser.add_argument(
        "--render-cache-mb",
        type=int,
        default=64,
        help="size cap of cached JSON bodies, in MB (default: %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=("critical", "error", "warning", "info", "debug"),
        help="uvicorn log level (default: %(default)s)",
    )
    parser.set_defaults(handler=run)


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """The SandboxConfig the command line asks for."""
    return SandboxConfig(
        app_key=args.app_key,
        app_secret=args.app_secret,
        service_id=args.service_id,
        seed=args.seed,
        sellers=args.sellers,
        shops=args.shops,
        orders_per_shop=args.orders_per_shop,
        products_per_shop=args.products_per_shop,
        days=args.days,
        anchor=args.anchor,
        frozen_clock=args.frozen_clock,
        host=args.host,
        port=args.port,
        redirect_url=args.redirect_url,
        access_token_ttl=args.access_token_ttl,
        refresh_token_ttl=args.refresh_token_ttl,
        rotate_refresh_tokens=not args.no_rotate_refresh_tokens,
        webhook_retry_scale=args.webhook_retry_scale,
        render_cache_mb=args.render_cache_mb,
    )


def run(args: argparse.Namespace) -> int:
    """Serve the sandbox until interrupted."""
    import uvicorn

    from tiktok_pipeline.sandbox.app import create_app

    config = config_from_args(args)
    try:
        config.validate()
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    app = create_app(config)
    state = app.state.sandbox
    base = f"http://{args.host}:{args.port}"
    secret_note = (
        f"the default, {DEFAULT_APP_SECRET}"
        if args.app_secret == DEFAULT_APP_SECRET
        else "the value you passed with --app-secret"
    )
    lines = [
        f"TikTok Shop sandbox on {base} (Open API and auth host on the same port)",
        f"  app key:     {config.app_key}",
        f"  app secret:  {secret_note}",
        f"  service id:  {config.service_id}",
        f"  shops:       {len(state.worlds)} ({', '.join(w.info.id for w in state.worlds)})",
        f"  authorize:   open {base}/open/authorize?service_id={config.service_id}&state=xyz",
        f"               -> 302 to {config.redirect_url}?code=...&state=xyz",
        f"  control:     {base}/sandbox (docs/sandbox.md)",
        "  for this project:",
        f"    export TIKTOK_API_BASE_URL={base} TIKTOK_AUTH_BASE_URL={base}",
        f"    export TIKTOK_APP_KEY={config.app_key} TIKTOK_SERVICE_ID={config.service_id}",
        "",
    ]
    sys.stdout.write("\n".join(lines))
    sys.stdout.flush()
    # No access log: token calls carry the app secret and tokens in their query strings.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    return 0
