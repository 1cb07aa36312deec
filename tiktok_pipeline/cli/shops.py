"""``tiktok-pipeline shops list``: the shops in the token store (never their tokens)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from tiktok_pipeline.cli.db import open_store
from tiktok_pipeline.cli.tokens import print_table, short_time
from tiktok_pipeline.lifecycle.durations import iso_seconds
from tiktok_pipeline.lifecycle.links import AUTHORIZE_PATH

if TYPE_CHECKING:
    from tiktok_pipeline.store import Authorization


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


def shop_rows(url: str | None = None, statuses: list[str] | None = None) -> list[dict[str, Any]]:
    """One dict per shop: id, name, region, status, cipher presence, token expiry, open_id."""
    with open_store(url) as store:
        authorizations: dict[int | None, Authorization] = {
            a.id: a for a in store.tokens.list_authorizations()
        }
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
    rows = shop_rows(args.url, args.status)
    if args.json:
        for row in rows:
            row["access_token_expires_at"] = iso_seconds(row["access_token_expires_at"])
            row["refresh_token_expires_at"] = iso_seconds(row["refresh_token_expires_at"])
        print(json.dumps(rows, indent=2))
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
            short_time(row["access_token_expires_at"]),
            short_time(row["refresh_token_expires_at"]),
            row["open_id"] or "-",
        ]
        for row in rows
    ]
    print_table(
        headers,
        table,
        empty="No shops yet. Authorize one: run `tiktok-pipeline serve` and open "
        f"{AUTHORIZE_PATH}.",
    )
    reasons = [row for row in rows if row["status"] != "active" and row["status_reason"]]
    if reasons:
        print()
        for row in reasons:
            print(f"{row['id']}: {row['status']}: {row['status_reason']}")
    return 0
