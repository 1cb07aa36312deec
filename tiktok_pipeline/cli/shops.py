"""``tiktok-pipeline shops list|refresh``: the shops in the token store (never their tokens),
and their authorizations' shop lists read again from TikTok.

``shops refresh`` exits 0 when every authorization's list was read, 1 when one could not be
(a dead token: the seller must authorize again; or TikTok failing), 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from tiktok_pipeline.cli.db import open_store
from tiktok_pipeline.cli.tokens import print_table, short_time
from tiktok_pipeline.lifecycle.durations import iso_seconds
from tiktok_pipeline.lifecycle.links import AUTHORIZE_PATH
from tiktok_pipeline.store.models import ShopStatus

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
        choices=[status.value for status in ShopStatus],
        help="only shops with this status (repeatable)",
    )
    listing.add_argument("--url", help="database URL (default: TIKTOK_DATABASE_URL)")
    listing.set_defaults(handler=run_list)
    refresh = commands.add_parser(
        "refresh",
        help="read every active authorization's shop list from TikTok: shops the seller added "
        "become active, shops removed become departed (no new consent needed)",
    )
    refresh.add_argument("--open-id", help="only this seller's authorization")
    refresh.add_argument("--json", action="store_true", help="print JSON instead of lines")
    refresh.add_argument("--url", help="database URL (default: TIKTOK_DATABASE_URL)")
    refresh.set_defaults(handler=run_refresh)


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
    table = []
    for row in rows:
        # A departed shop is not covered by its seller's tokens: their expiry is not its own.
        departed = row["status"] == ShopStatus.DEPARTED.value
        table.append(
            [
                row["id"],
                row["name"] or "-",
                row["region"] or "-",
                row["status"],
                "yes" if row["has_cipher"] else "no",
                "-" if departed else short_time(row["access_token_expires_at"]),
                "-" if departed else short_time(row["refresh_token_expires_at"]),
                row["open_id"] or "-",
            ]
        )
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
    departed = [row["id"] for row in rows if row["status"] == ShopStatus.DEPARTED.value]
    if departed:
        print(
            f"\n{len(departed)} departed shop(s) ({', '.join(departed)}): no longer in their "
            "seller's authorization, by the seller's choice. Nothing to fix; they are not synced "
            "until the seller adds them back at TikTok: the next shop-list refresh (hourly, or "
            "`tiktok-pipeline shops refresh`) then makes them active and the new-shop history "
            "sensor fetches the days they missed."
        )
    return 0


def run_refresh(args: argparse.Namespace) -> int:
    """Refresh the shop lists; print what changed per seller; exit 1 when one failed."""
    from tiktok_pipeline.client import TikTokShopClient
    from tiktok_pipeline.lifecycle.links import reauthorize_url
    from tiktok_pipeline.lifecycle.shop_lists import refresh_shop_lists

    with open_store(args.url) as store:
        with TikTokShopClient.from_env(
            credentials=store.tokens, request_log=store.request_log
        ) as client:
            report = refresh_shop_lists(client, store, open_id=args.open_id)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        if not report.results:
            print(
                "No active authorizations. Authorize one: run `tiktok-pipeline serve` and open "
                f"{AUTHORIZE_PATH}."
            )
        for result in report.results:
            seller = f"{result.seller_name or 'unnamed seller'} (open_id {result.open_id})"
            change = result.change
            if change is None or result.detail:
                print(f"{seller}: {result.outcome.value}: {result.detail}")
                continue
            done = [
                f"{name} {', '.join(ids)}"
                for name, ids in (
                    ("added", change.added),
                    ("returned", change.returned),
                    ("departed", change.departed),
                    ("updated", change.updated),
                )
                if ids
            ]
            print(f"{seller}: {'; '.join(done) or 'no change'} ({len(change.listed)} listed)")
        print(report.summary())
    if report.ok:
        return 0
    for result in report.problems:
        print(
            f"error: the shop list of {result.seller_name or result.open_id} (open_id "
            f"{result.open_id}) could not be read: {result.detail}",
            file=sys.stderr,
        )
    print(
        f"fix: a seller that needs re-authorization opens {reauthorize_url()} and authorizes the "
        "app again; otherwise run `tiktok-pipeline shops refresh` again later",
        file=sys.stderr,
    )
    return 1
