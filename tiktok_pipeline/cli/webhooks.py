"""``tiktok-pipeline webhooks list|set|delete``: a shop's webhook addresses, through TikTok."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tiktok_pipeline.client import TikTokAPIError, TikTokShopClient
from tiktok_pipeline.events import WebhookEvent

if TYPE_CHECKING:
    from tiktok_pipeline.store import Store


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``webhooks`` command group."""
    parser = subparsers.add_parser(
        "webhooks",
        help="list, set or delete a shop's webhook addresses (TikTok's event API)",
        description=(
            "Manage where TikTok pushes a shop's events. Changes go to TikTok first and are then "
            "recorded in tiktok_event_webhooks. Events are named like ORDER_STATUS_CHANGE, "
            "order-status-change or 1."
        ),
    )
    commands = parser.add_subparsers(dest="webhooks_command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="TikTok's addresses for the shop beside ours")
    _shop_argument(listing)
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(handler=run_list)

    setting = commands.add_parser(
        "set",
        help="point events at an address (default: this service's TIKTOK_PUBLIC_URL)",
        description=(
            "Without --address, each event goes to {TIKTOK_PUBLIC_URL}/tiktok/webhooks/<event> "
            "(or /all with --single-address). TikTok accepts only https addresses with a domain "
            "name and no port; the sandbox accepts any."
        ),
    )
    _shop_argument(setting)
    _event_arguments(setting, "every event the event API accepts")
    target = setting.add_mutually_exclusive_group()
    target.add_argument("--address", help="the URL TikTok should push to")
    target.add_argument(
        "--single-address",
        action="store_true",
        help="send every event to {TIKTOK_PUBLIC_URL}/tiktok/webhooks/all",
    )
    setting.set_defaults(handler=run_set)

    deleting = commands.add_parser("delete", help="stop pushes of events for the shop")
    _shop_argument(deleting)
    _event_arguments(deleting, "every event TikTok lists or we recorded for the shop")
    deleting.set_defaults(handler=run_delete)


def _shop_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shop", help="shop id (default: TIKTOK_SHOP_ID)")


def _event_arguments(parser: argparse.ArgumentParser, all_help: str) -> None:
    events = parser.add_mutually_exclusive_group(required=True)
    events.add_argument(
        "--event",
        action="append",
        metavar="TYPE",
        help="event type, e.g. ORDER_STATUS_CHANGE, order-status-change or 1 (repeatable)",
    )
    events.add_argument("--all-events", action="store_true", help=all_help)


@contextmanager
def _client() -> Iterator[tuple[TikTokShopClient, Store]]:
    """The client of the environment's app and the token store it takes shops from."""
    from tiktok_pipeline.cli.db import open_store

    with (
        open_store(None) as store,
        TikTokShopClient.from_env(
            credentials=store.tokens,
            request_log=store.request_log,
            rate_limits=store.rate_limits,
        ) as client,
    ):
        yield client, store


def _shop_id(args: argparse.Namespace, client: TikTokShopClient) -> str | None:
    shop_id = args.shop or client.default_shop_id
    if not shop_id:
        print("error: pass --shop ID or set TIKTOK_SHOP_ID", file=sys.stderr)
    return shop_id


def _fail(problem: Exception | str) -> int:
    print(f"error: {problem}", file=sys.stderr)
    return 1


def run_list(args: argparse.Namespace) -> int:
    """Print TikTok's and our addresses for the shop."""
    from tiktok_pipeline.web.registration import list_webhooks

    with _client() as (client, store):
        shop_id = _shop_id(args, client)
        if not shop_id:
            return 2
        try:
            rows = list_webhooks(client, store, shop_id)
        except TikTokAPIError as exc:
            return _fail(exc)
    if args.json:
        out = [
            {
                "event_type": row.event_type,
                "tiktok_address": row.tiktok_address,
                "recorded_address": row.recorded_address,
                "in_sync": row.in_sync,
            }
            for row in rows
        ]
        print(json.dumps(out, indent=2))
        return 0
    if not rows:
        print(
            f"Shop {shop_id} has no webhook addresses. Set them with `tiktok-pipeline webhooks "
            f"set --shop {shop_id} --all-events`."
        )
        return 0
    width = max(len(row.event_type) for row in rows)
    print(f"{'EVENT TYPE'.ljust(width)}  TIKTOK ADDRESS  (RECORDED HERE)")
    for row in rows:
        if row.in_sync:
            note = "(same)"
        elif row.recorded_address is None:
            note = "(not recorded here)"
        elif row.tiktok_address is None:
            note = f"(recorded {row.recorded_address}, but TikTok has none)"
        else:
            note = f"(recorded {row.recorded_address})"
        print(f"{row.event_type.ljust(width)}  {row.tiktok_address or '-'}  {note}")
    return 0


def run_set(args: argparse.Namespace) -> int:
    """Register each event's address with TikTok and record it."""
    from tiktok_pipeline.config import load_settings
    from tiktok_pipeline.web.registration import (
        SUBSCRIBABLE_EVENTS,
        address_problems,
        check_subscribable,
        set_webhook,
        webhook_address,
    )

    try:
        events = (
            list(SUBSCRIBABLE_EVENTS)
            if args.all_events
            else [check_subscribable(WebhookEvent.parse(e)) for e in args.event]
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    public_url = load_settings().public_url

    def address_for(event):
        if args.address:
            return args.address
        return webhook_address(public_url, None if args.single_address else event)

    warned: set[str] = set()
    with _client() as (client, store):
        shop_id = _shop_id(args, client)
        if not shop_id:
            return 2
        for event in events:
            address = address_for(event)
            problems = address_problems(address)
            if problems and address not in warned:
                warned.add(address)
                print(
                    f"warning: TikTok would refuse {address}: {'; '.join(problems)}. Set "
                    "TIKTOK_PUBLIC_URL to the service's public https URL (the sandbox accepts "
                    "it).",
                    file=sys.stderr,
                )
            try:
                set_webhook(client, store, shop_id, event, address)
            except TikTokAPIError as exc:
                return _fail(f"{event.name}: {exc}")
            print(f"{event.name} -> {address}")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    """Delete each event's address with TikTok and forget our record."""
    from tiktok_pipeline.web.registration import delete_webhook, list_webhooks

    try:
        named = None if args.all_events else [WebhookEvent.parse(e).name for e in args.event]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with _client() as (client, store):
        shop_id = _shop_id(args, client)
        if not shop_id:
            return 2
        try:
            if named is None:
                named = [row.event_type for row in list_webhooks(client, store, shop_id)]
            for event_type in named:
                delete_webhook(client, store, shop_id, event_type)
                print(f"{event_type} deleted")
        except TikTokAPIError as exc:
            return _fail(exc)
    if not named:
        print(f"Shop {shop_id} had no webhook addresses.")
    return 0
