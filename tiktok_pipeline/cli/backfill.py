"""``tiktok-pipeline backfill ENTITY --from DAY --to DAY``: a Dagster backfill from the shell.

Submits the same asset backfill as the Dagster UI's "Materialize > partition range" to the
instance of DAGSTER_HOME: it shows on the UI's Backfills page, and the daemon
(``dagster-daemon run``, or ``tiktok-pipeline dev``) runs it in runs of at most
TIKTOK_BACKFILL_DAYS_PER_RUN days (366: a year per run). DAY is
a UTC date (YYYY-MM-DD), --to included. ``--shop`` restricts the runs to those shops (default:
every active shop). ``--wait`` follows the backfill until it ends.

Examples:
  tiktok-pipeline backfill orders --from 2025-01-01 --to 2025-12-31
  tiktok-pipeline backfill all --from 2025-06-01 --to 2025-06-30 --shop 7494106055741312091 --wait

Exit codes: 0 submitted (with --wait: every partition materialized); 1 the backfill failed or
was canceled (or the database is unreachable); 2 bad input or configuration; 3 --timeout
passed while the backfill still runs; 130 interrupted (the backfill keeps running).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from tiktok_pipeline.cli.arguments import positive_duration
from tiktok_pipeline.config import ConfigurationError, dagster_home
from tiktok_pipeline.defs.ingestion.entities import ENTITIES

if TYPE_CHECKING:
    import dagster as dg
    from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
    from dagster._core.execution.backfill import PartitionBackfill

    from tiktok_pipeline.defs.backfills import Progress

ALL = "all"
EXIT_FAILED = 1
EXIT_TIMEOUT = 3
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(text: str) -> date:
    if not _DAY.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a day; write a UTC date as YYYY-MM-DD")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: {exc}") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``backfill`` command."""
    parser = subparsers.add_parser(
        "backfill",
        help="backfill a range of days as a Dagster backfill (shown in the UI, run by the daemon)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "entity",
        choices=[*ENTITIES, ALL],
        metavar="ENTITY",
        help=f"what to pull: {', '.join(ENTITIES)} or {ALL}",
    )
    parser.add_argument(
        "--from", dest="first_day", type=_day, required=True, metavar="DAY", help="first UTC day"
    )
    parser.add_argument(
        "--to",
        dest="last_day",
        type=_day,
        required=True,
        metavar="DAY",
        help="last UTC day (included)",
    )
    parser.add_argument(
        "--shop",
        dest="shops",
        action="append",
        metavar="ID",
        help="only this shop (repeatable, or comma-separated; default: every active shop)",
    )
    parser.add_argument(
        "--wait", action="store_true", help="follow the backfill; exit 1 if it fails"
    )
    parser.add_argument(
        "--poll-seconds",
        type=_seconds,
        default=5.0,
        metavar="SECONDS",
        help="with --wait: seconds between progress checks (5)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_duration,
        metavar="DURATION",
        help="with --wait: stop waiting after this long, e.g. 90m or 2h (exit 3)",
    )
    parser.add_argument(
        "--ui-url",
        metavar="URL",
        help="the Dagster UI, for the link (default: TIKTOK_DAGSTER_UI_URL, else "
        "http://127.0.0.1:3000)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate, submit the backfill, print where to see it; with --wait, follow it."""
    from tiktok_pipeline.config import load_settings
    from tiktok_pipeline.defs.backfills import daemon_silence, submit_backfill

    entities = list(ENTITIES) if args.entity == ALL else [args.entity]
    partition_keys = days_to_partition_keys(args.first_day, args.last_day)
    shops = check_shops(args.shops or [])
    instance = _open_instance()
    backfill = submit_backfill(instance, entities, partition_keys, shops)
    ui_url = (args.ui_url or load_settings().dagster_ui_url).rstrip("/")
    url = f"{ui_url}/runs/b/{backfill.backfill_id}"
    print(
        f"Submitted backfill {backfill.backfill_id}: {', '.join(entities)}, "
        f"{partition_keys[0]} to {partition_keys[-1]} ({len(partition_keys)} day(s)), "
        f"{'shops ' + ', '.join(shops) if shops else 'every active shop'}"
    )
    print(f"  {url}")
    if not args.wait:
        if silent := daemon_silence(instance, os.environ["DAGSTER_HOME"]):
            print(f"warning: {silent}", file=sys.stderr)
        print("Follow it there, or with --wait. Cancel it on that page if needed.")
        return 0
    deadline = time.monotonic() + args.timeout.total_seconds() if args.timeout else None
    try:
        return follow_backfill(
            instance, backfill.backfill_id, args.poll_seconds, deadline, ui_url=ui_url
        )
    except KeyboardInterrupt:
        print(f"\nStopped following; the backfill goes on: {url}", file=sys.stderr)
        return 130


def days_to_partition_keys(first: date, last: date) -> list[str]:
    """The daily partition keys from ``first`` to ``last`` inclusive; ConfigurationError if the
    range is reversed or leaves the partitions (TIKTOK_PARTITIONS_START to today, UTC)."""
    from tiktok_pipeline.defs.partitions import configured_daily_partitions

    daily_partitions = configured_daily_partitions()
    earliest = date.fromisoformat(daily_partitions.get_first_partition_key() or "")
    latest = date.fromisoformat(daily_partitions.get_last_partition_key() or "")
    if first > last:
        raise ConfigurationError(f"--from {first} is after --to {last}; give the earlier day first")
    if first < earliest:
        raise ConfigurationError(
            f"--from {first} is before the first partition, {earliest} "
            f"(TIKTOK_PARTITIONS_START); use --from {earliest} or later"
        )
    if last > latest:
        raise ConfigurationError(
            f"--to {last} is after the last partition, {latest} (today, UTC); "
            f"use --to {latest} or earlier"
        )
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def check_shops(requested: Sequence[str]) -> list[str] | None:
    """The requested shop ids, deduplicated (None when none: every active shop);
    ConfigurationError unless each is an active shop of the store (TIKTOK_DATABASE_URL), or,
    with none requested, when the store has no active shop: the runs would sync nothing."""
    from tiktok_pipeline.cli.db import open_store
    from tiktok_pipeline.lifecycle import reauthorize_url

    wanted = list(dict.fromkeys(s.strip() for text in requested for s in text.split(",")))
    wanted = [shop for shop in wanted if shop]
    if requested and not wanted:
        raise ConfigurationError("--shop needs a shop id")
    with open_store(None) as store:
        known = {shop.id: shop for shop in store.tokens.list_shops()}
    if not wanted:
        if not any(shop.status == "active" for shop in known.values()):
            raise ConfigurationError(
                "no active shop in the store (TIKTOK_DATABASE_URL), so the backfill would sync "
                f"nothing; authorize a shop at {reauthorize_url()} first"
            )
        return None
    unknown = [shop for shop in wanted if shop not in known]
    if unknown:
        listed = ", ".join(sorted(known)[:20]) or "none"
        raise ConfigurationError(
            f"no shop{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} in the store "
            f"(TIKTOK_DATABASE_URL; known shops: {listed}); check the id with "
            f"`tiktok-pipeline shops list`, or authorize the shop at {reauthorize_url()}"
        )
    inactive = [
        f"{shop} is {known[shop].status}" for shop in wanted if known[shop].status != "active"
    ]
    if inactive:
        raise ConfigurationError(
            f"shop {'; '.join(inactive)}, so a run cannot call TikTok for it; the seller "
            f"authorizes the app again at {reauthorize_url()}"
        )
    return wanted


def _open_instance() -> dg.DagsterInstance:
    import dagster as dg

    # Dagster refuses a relative DAGSTER_HOME; `tiktok-pipeline dev` users have ./.dagster_home.
    os.environ["DAGSTER_HOME"] = str(dagster_home())
    return dg.DagsterInstance.get()


def follow_backfill(
    instance: dg.DagsterInstance,
    backfill_id: str,
    poll_seconds: float = 5.0,
    deadline: float | None = None,
    ui_url: str = "http://127.0.0.1:3000",
) -> int:
    """Print progress until the backfill ends; 0 when every partition materialized, 1 when it
    failed or was canceled (naming the failed runs, with links, and partitions), 3 past
    ``deadline`` (a ``time.monotonic()`` value)."""
    from dagster._core.execution.backfill import BULK_ACTION_TERMINAL_STATUSES

    from tiktok_pipeline.defs.backfills import backfill_progress, daemon_silence, sync_asset_graph

    asset_graph = sync_asset_graph()
    started = time.monotonic()
    last_line, last_print, daemon_warned = "", 0.0, False
    while True:
        backfill = instance.get_backfill(backfill_id)
        if backfill is None:
            print(f"error: backfill {backfill_id} is gone from the instance", file=sys.stderr)
            return EXIT_FAILED
        progress = backfill_progress(instance, backfill, asset_graph)
        line = progress.line()
        now = time.monotonic()
        if line != last_line or now - last_print >= 30:
            print(f"[{now - started:5.0f}s] {line}", flush=True)
            last_line, last_print = line, now
        if backfill.status in BULK_ACTION_TERMINAL_STATUSES:
            return _report_end(instance, backfill, progress, asset_graph, ui_url)
        silent = daemon_silence(instance, os.environ["DAGSTER_HOME"])
        if silent and not daemon_warned:
            print(f"warning: {silent}", file=sys.stderr, flush=True)
        elif daemon_warned and not silent:
            print("A dagster-daemon serves the instance now.", flush=True)
        daemon_warned = bool(silent)
        if deadline is not None and now >= deadline:
            print(
                f"error: --timeout passed; backfill {backfill_id} is still "
                f"{backfill.status.value.lower()} ({line})",
                file=sys.stderr,
            )
            return EXIT_TIMEOUT
        time.sleep(poll_seconds)


def _report_end(
    instance: dg.DagsterInstance,
    backfill: PartitionBackfill,
    progress: Progress,
    asset_graph: BaseAssetGraph,
    ui_url: str,
) -> int:
    from dagster._core.execution.backfill import BulkActionStatus

    from tiktok_pipeline.defs.backfills import failed_partitions, failed_runs

    failed = sum(c["failed"] for c in progress.partitions.values())
    missing = sum(c["targeted"] - c["done"] for c in progress.partitions.values())
    ok = backfill.status in (BulkActionStatus.COMPLETED_SUCCESS, BulkActionStatus.COMPLETED)
    if ok and not failed and not missing:
        print(f"Backfill {backfill.backfill_id} succeeded: every partition materialized.")
        return 0
    state = {
        BulkActionStatus.CANCELED: "was canceled",
        BulkActionStatus.FAILED: "failed in the daemon",
    }.get(backfill.status, "failed")
    print(f"error: backfill {backfill.backfill_id} {state}.", file=sys.stderr)
    if backfill.error is not None:
        print(f"  daemon error: {backfill.error.message.strip()}", file=sys.stderr)
    for line in failed_partitions(backfill, asset_graph):
        print(f"  {line}", file=sys.stderr)
    for line in failed_runs(instance, backfill.backfill_id, ui_url):
        print(f"  {line}", file=sys.stderr)
    return EXIT_FAILED
