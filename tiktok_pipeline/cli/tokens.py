"""``tiktok-pipeline tokens refresh|flush|status``: keep shops connected, non-interactively.

``tokens new-key`` and ``tokens rotate-key`` manage TIKTOK_TOKEN_KEY, the key that encrypts the
tokens at rest.

The original package's ``tiktok:refresh-token`` refreshed every token on every run and always
exited 0; its ``tiktok:flush-expired-token`` asked for confirmation (so scheduled runs did
nothing) and deleted refreshable tokens. These commands never prompt, refresh only what expires
soon, remove only what can never be refreshed, and exit non-zero when something needs a human.

Exit codes: 0 all good; 1 a shop needs attention or a refresh failed (or the database is
unreachable); 2 bad input or configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tiktok_pipeline.cli.arguments import positive_duration
from tiktok_pipeline.cli.token_keys import register_commands as register_key_commands
from tiktok_pipeline.lifecycle.durations import format_duration
from tiktok_pipeline.lifecycle.flush import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_REQUEST_LOG_RETENTION,
    DEFAULT_WEBHOOK_RETENTION,
)
from tiktok_pipeline.lifecycle.refresh import DEFAULT_WITHIN
from tiktok_pipeline.lifecycle.status import DEFAULT_WARN_WITHIN


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``tokens`` command group."""
    parser = subparsers.add_parser(
        "tokens",
        help="refresh expiring tokens, flush dead ones, show every shop's token state, "
        "rotate the key that encrypts them",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="tokens_command", required=True, metavar="COMMAND")

    refresh = commands.add_parser(
        "refresh",
        help="refresh the access tokens that expire soon (one call per seller authorization)",
    )
    refresh.add_argument("--shop", help="only the authorization of this shop id")
    refresh.add_argument(
        "--within",
        type=positive_duration,
        default=DEFAULT_WITHIN,
        help="refresh tokens expiring within this duration, e.g. 90m, 48h, 2d "
        f"(default {format_duration(DEFAULT_WITHIN)})",
    )
    refresh.add_argument(
        "--dry-run", action="store_true", help="show what would be refreshed; call nothing"
    )
    _common(refresh)
    refresh.set_defaults(handler=run_refresh)

    flush = commands.add_parser(
        "flush",
        help="remove authorizations whose refresh token expired, and old log and webhook rows",
    )
    flush.add_argument(
        "--request-log-retention",
        type=positive_duration,
        default=DEFAULT_REQUEST_LOG_RETENTION,
        help="keep tiktok_requests rows younger than this "
        f"(default {format_duration(DEFAULT_REQUEST_LOG_RETENTION)})",
    )
    flush.add_argument(
        "--webhook-retention",
        type=positive_duration,
        default=DEFAULT_WEBHOOK_RETENTION,
        help="keep processed tiktok_webhooks rows younger than this "
        f"(default {format_duration(DEFAULT_WEBHOOK_RETENTION)})",
    )
    flush.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        help=f"rows deleted per transaction (default {DEFAULT_BATCH_SIZE})",
    )
    flush.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")
    _common(flush)
    flush.set_defaults(handler=run_flush)

    status = commands.add_parser(
        "status",
        help="every shop's status and token expiry; exit code 1 when a shop needs attention",
    )
    status.add_argument("--shop", help="only this shop id")
    status.add_argument(
        "--warn-within",
        type=positive_duration,
        default=DEFAULT_WARN_WITHIN,
        help="report refresh tokens and authorizations ending within this "
        f"(default {format_duration(DEFAULT_WARN_WITHIN)})",
    )
    _common(status)
    status.set_defaults(handler=run_status)
    register_key_commands(commands)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--url", help="database URL (default: TIKTOK_DATABASE_URL)")


def run_refresh(args: argparse.Namespace) -> int:
    """Refresh expiring tokens; exit 1 when an authorization needs re-authorization or failed."""
    from tiktok_pipeline.cli.db import open_store
    from tiktok_pipeline.client import TikTokShopClient
    from tiktok_pipeline.lifecycle import reauthorize_url, refresh_expiring

    with open_store(args.url) as store:
        if args.dry_run:
            result = refresh_expiring(
                None, store, within=args.within, shop_id=args.shop, dry_run=True
            )
        else:
            with TikTokShopClient.from_env(
                credentials=store.tokens, request_log=store.request_log
            ) as client:
                result = refresh_expiring(client, store, within=args.within, shop_id=args.shop)
    link = reauthorize_url()
    if args.json:
        print(json.dumps(result.to_dict() | {"reauthorize_url": link}, indent=2))
    else:
        rows = [
            [
                r.authorization_id if r.authorization_id is not None else "-",
                r.seller_name or r.open_id or "-",
                ",".join(r.shop_ids) or "-",
                r.outcome.value,
                short_time(r.access_token_expires_at),
                short_time(r.refresh_token_expires_at),
                r.detail or "",
            ]
            for r in result.results
        ]
        headers = ["AUTH", "SELLER", "SHOPS", "OUTCOME", "ACCESS EXPIRES", "REFRESH EXPIRES", ""]
        print_table(headers, rows, empty="No authorizations to refresh.")
        print(result.summary())
    _explain_problems(result.shops_needing_reauth, result.failed_shops, link)
    return 0 if result.ok else 1


def run_flush(args: argparse.Namespace) -> int:
    """Remove dead authorizations and old rows; never asks for confirmation."""
    from tiktok_pipeline.cli.db import open_store
    from tiktok_pipeline.lifecycle import flush

    with open_store(args.url) as store:
        result = flush(
            store,
            request_log_retention=args.request_log_retention,
            webhook_retention=args.webhook_retention,
            batch_size=args.batch_size,
            dry_run=args.dry_run,
        )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    for removed in result.authorizations:
        verb = "would remove" if result.dry_run else "removed"
        print(
            f"{verb} authorization {removed.authorization_id} "
            f"({removed.seller_name or removed.open_id}): refresh token expired "
            f"{short_time(removed.refresh_token_expires_at)}; shops "
            f"{', '.join(removed.shop_ids) or 'none'} now need re-authorization"
        )
    print(result.summary())
    return 0


def run_status(args: argparse.Namespace) -> int:
    """Print every shop's token state; exit 1 when any shop needs attention."""
    from tiktok_pipeline.cli.db import open_store
    from tiktok_pipeline.lifecycle import reauthorize_url, token_status

    with open_store(args.url) as store:
        rows = token_status(store, warn_within=args.warn_within, shop_id=args.shop)
    problems = [row for row in rows if not row.ok]
    link = reauthorize_url()
    if args.json:
        print(
            json.dumps(
                {
                    "ok": not problems,
                    "reauthorize_url": link,
                    "shops": [row.to_dict() for row in rows],
                },
                indent=2,
            )
        )
        return 1 if problems else 0
    table = [
        [
            row.shop_id,
            row.name or "-",
            row.status,
            short_time(row.access_token_expires_at),
            short_time(row.refresh_token_expires_at),
            short_time(row.authorization_expires_at),
            "ok" if row.ok else "ATTENTION",
        ]
        for row in rows
    ]
    headers = [
        "SHOP",
        "NAME",
        "STATUS",
        "ACCESS EXPIRES",
        "REFRESH EXPIRES",
        "AUTH EXPIRES",
        "STATE",
    ]
    print_table(
        headers,
        table,
        empty=f"No shops yet. Authorize one: run `tiktok-pipeline serve` and open {link}.",
    )
    if problems:
        print(file=sys.stderr)
        for row in problems:
            for problem in row.problems:
                print(f"{row.shop_id}: {problem}", file=sys.stderr)
        print(f"fix: the seller opens {link} and authorizes the app again", file=sys.stderr)
    return 1 if problems else 0


def _explain_problems(reauth: Sequence[str], failed: Sequence[str], link: str) -> None:
    if reauth:
        print(
            f"error: shop(s) {', '.join(reauth)} need re-authorization: the seller opens "
            f"{link} and authorizes the app again",
            file=sys.stderr,
        )
    if failed:
        print(
            f"error: the tokens of shop(s) {', '.join(failed)} could not be refreshed (see the "
            "details above); run `tiktok-pipeline tokens refresh` again later",
            file=sys.stderr,
        )


def short_time(value: datetime | None) -> str:
    """A table cell for a moment: ``2026-01-01 00:00Z``, or ``-`` when unknown."""
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}Z"


def print_table(headers: list[str], rows: list[list[Any]], *, empty: str) -> None:
    """Print ``rows`` under ``headers`` in aligned columns; ``empty`` when there are none."""
    if not rows:
        print(empty)
        return
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    for line in [headers, *rows]:
        cells = (str(cell).ljust(width) for cell, width in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip())
