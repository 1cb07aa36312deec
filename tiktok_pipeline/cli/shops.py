"""``tiktok-pipeline shops list``: the shops in the token store (never their tokens)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``shops`` command group."""
    parser = subparsers.add_parser("shops", help="the authorized TikTok shops")
    commands = parser.add_subparsers(dest="shops_command", required=True, metavar="COMMAND")
    listing = commands.add_parser(
        "list", help="list the shops, their status and token expiry (no tokens are shown)"
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.add_argument(
        "--status",
        action="append",
        choices=["active", "needs_reauth", "deauthorized"],
        help="only shops with this status (repeatable)",
    )
    listing.add_argument("--url", help="database URL (default: TIKTOK_DATABASE_URL)")
    listing.set_defaults(handler=run_list)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def _short(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}Z"


def shop_rows(url: str | None = None, statuses: list[str] | None = None) -> list[dict[str, Any]]:
    """One dict per shop: id, name, region, status, cipher presence, token expiry, open_id."""
    from tiktok_pipeline.cli.db import database_errors
    from tiktok_pipeline.config import load_settings
    from tiktok_pipeline.store import Store

    url = url or load_settings().database_url
    with database_errors(url):
        store = Store.from_url(url)
        authorizations = {a.id: a for a in store.tokens.list_authorizations()}
        shops = store.tokens.list_shops(statuses)
    rows = []
    for shop in shops:
        authorization = authorizations.get(shop.authorization_id)
        rows.append(
            {
                "id": shop.id,
                "name": shop.name,
                "code": shop.code,
                "region": shop.region,
                "status": shop.status.value,
                "status_reason": shop.status_reason,
                "has_cipher": bool(shop.cipher),
                "open_id": authorization.open_id if authorization else None,
                "authorization_status": authorization.status.value if authorization else None,
                "access_token_expires_at": authorization.access_token_expires_at
                if authorization
                else None,
                "refresh_token_expires_at": authorization.refresh_token_expires_at
                if authorization
                else None,
            }
        )
    return rows


def run_list(args: argparse.Namespace) -> int:
    """Print the shops as a table or as JSON."""
    from tiktok_pipeline.cli.db import DatabaseUnavailable, report

    try:
        rows = shop_rows(args.url, args.status)
    except DatabaseUnavailable as exc:
        return report(exc)
    if args.json:
        for row in rows:
            row["access_token_expires_at"] = _iso(row["access_token_expires_at"])
            row["refresh_token_expires_at"] = _iso(row["refresh_token_expires_at"])
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(
            "No shops yet. Authorize one: run `tiktok-pipeline serve` and open "
            "/tiktok/seller/authorize."
        )
        return 0
    headers = [
        "ID",
        "NAME",
        "REGION",
        "STATUS",
        "CIPHER",
        "ACCESS EXPIRES",
        "REFRESH EXPIRES",
        "OPEN_ID",
    ]
    table = [
        [
            row["id"],
            row["name"] or "-",
            row["region"] or "-",
            row["status"],
            "yes" if row["has_cipher"] else "no",
            _short(row["access_token_expires_at"]),
            _short(row["refresh_token_expires_at"]),
            row["open_id"] or "-",
        ]
        for row in rows
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *table)]  # noqa: B905
    for line in [headers, *table]:
        cells = (str(cell).ljust(width) for cell, width in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip())
    reasons = [row for row in rows if row["status"] != "active" and row["status_reason"]]
    if reasons:
        print()
        for row in reasons:
            print(f"{row['id']}: {row['status']}: {row['status_reason']}")
    return 0
