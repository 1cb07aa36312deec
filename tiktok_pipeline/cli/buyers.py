"""``tiktok-pipeline buyers``: remove buyers' personal data from the warehouse.

``buyers purge --buyer-user-id ID`` answers a deletion request (GDPR, CCPA) for one buyer now;
``buyers purge-expired`` runs the retention purge the scheduled job runs
(``TIKTOK_BUYER_DATA_RETENTION_DAYS``). Both print what they removed per table.
"""

from __future__ import annotations

import argparse
import json
import sys

import sqlalchemy as sa

from tiktok_pipeline.cli.db import database_errors
from tiktok_pipeline.cli.tokens import print_table
from tiktok_pipeline.config import ConfigurationError, load_buyer_data_retention, load_settings
from tiktok_pipeline.warehouse import Warehouse
from tiktok_pipeline.warehouse.retention import (
    PurgeReport,
    check_buyer_user_id,
    purge_buyer,
    purge_expired,
)

KEPT = (
    "Kept: ids (the buyer's pseudonymous user_id too), amounts, statuses, times, line items, "
    "region and city. Later syncs of these orders store them without the buyer's data."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``buyers`` command group."""
    parser = subparsers.add_parser(
        "buyers", help="remove buyers' personal data from the warehouse (deletion requests)"
    )
    commands = parser.add_subparsers(dest="buyers_command", required=True, metavar="COMMAND")
    purge = commands.add_parser(
        "purge",
        help="remove one buyer's name, address, phone, e-mail and message from every order now",
    )
    purge.add_argument(
        "--buyer-user-id",
        required=True,
        help="the buyer's TikTok user_id (the order's user_id, tiktok_orders.buyer_user_id)",
    )
    expired = commands.add_parser(
        "purge-expired",
        help="remove buyer data past TIKTOK_BUYER_DATA_RETENTION_DAYS now (what the "
        "scheduled tiktok_buyer_data_retention_job does)",
    )
    for command in (purge, expired):
        command.add_argument("--dry-run", action="store_true", help="count only; change nothing")
        command.add_argument("--json", action="store_true", help="print JSON instead of a table")
        command.add_argument("--url", help="warehouse URL (default: TIKTOK_WAREHOUSE_URL)")
    purge.set_defaults(handler=run_purge)
    expired.set_defaults(handler=run_purge_expired)


def _warehouse(url: str | None) -> tuple[Warehouse, str]:
    url = url or load_settings().warehouse_url
    with database_errors(url):
        warehouse = Warehouse.from_url(url)
    return warehouse, sa.make_url(url).render_as_string(hide_password=True)


def _print(report: PurgeReport, headline: str, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "dry_run": report.dry_run,
                    "tables": report.purged,
                    "already_purged": report.already_purged,
                    "cutoff": report.cutoff.isoformat() if report.cutoff else None,
                },
                indent=2,
            )
        )
        return
    print(headline)
    heading = "rows that would be purged" if report.dry_run else "rows purged"
    print_table(["table", heading], [[t, n] for t, n in report.purged.items()], empty="")
    if report.orders:
        print(KEPT)


def run_purge(args: argparse.Namespace) -> int:
    """Purge one buyer's personal data from every order; exit 2 for a malformed id."""
    try:
        buyer = check_buyer_user_id(args.buyer_user_id)
    except ValueError as exc:
        print(f"error: --buyer-user-id {exc}", file=sys.stderr)
        return 2
    warehouse, where = _warehouse(args.url)
    with database_errors(where):
        report = purge_buyer(warehouse.engine, buyer, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    if report.orders:
        headline = f"buyer {buyer}: {verb} the personal data of {report.orders} order(s) in {where}"
    else:
        headline = f"buyer {buyer}: no order in {where} holds this buyer's personal data"
    if report.already_purged:
        headline += f" ({report.already_purged} order(s) had been purged before)"
    _print(report, headline, args.json)
    return 0


def run_purge_expired(args: argparse.Namespace) -> int:
    """Purge the buyer data of orders past retention; exit 2 when retention is off."""
    days = load_buyer_data_retention()
    if days is None:
        raise ConfigurationError(
            "TIKTOK_BUYER_DATA_RETENTION_DAYS is off: nothing expires; set it to a number of "
            "days (90 by default) or use `buyers purge --buyer-user-id` for one buyer"
        )
    warehouse, where = _warehouse(args.url)
    with database_errors(where):
        report = purge_expired(warehouse.engine, days, dry_run=args.dry_run)
    _print(report, f"{where}: {report.summary()} (retention {days} days)", args.json)
    return 0
