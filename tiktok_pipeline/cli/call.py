"""``tiktok-pipeline call SERVICE METHOD``: an ad-hoc signed API call that prints JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tiktok_pipeline.client import TikTokAPIError, TikTokShopClient


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``call`` command."""
    parser = subparsers.add_parser(
        "call",
        help="make one signed API call and print TikTok's JSON response",
        description=(
            "Call any method of the client, e.g. `tiktok-pipeline call order list --shop ID "
            '--query \'{"page_size": 10}\' --body \'{"order_status": "UNPAID"}\'`. Credentials '
            "come from the token store (authorize the shop first) unless --access-token is given."
        ),
    )
    parser.add_argument("service", help="order, product, returns, finance, event, seller, ...")
    parser.add_argument("method", help="list, detail, get, statements, ...")
    parser.add_argument("--shop", help="shop id (default: TIKTOK_SHOP_ID)")
    parser.add_argument("--query", type=_json_object, help="query parameters as a JSON object")
    parser.add_argument("--body", type=_json_object, help="JSON body as a JSON object")
    parser.add_argument(
        "--params", type=_json_object, help='path parameters, e.g. \'{"order_id": "576..."}\''
    )
    parser.add_argument("--access-token", help="use this token instead of the token store")
    parser.add_argument("--cipher", help="shop cipher to go with --access-token")
    parser.add_argument(
        "--all-pages",
        action="store_true",
        help="follow next_page_token and print every item as one JSON line",
    )
    parser.set_defaults(handler=run)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc.msg} at {exc.pos})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object like '{\"page_size\": 10}'")
    return value


def run(args: argparse.Namespace) -> int:
    """Make the call; exit code 1 when TikTok (or the network) returns an error."""
    from tiktok_pipeline.cli.db import open_store

    with (
        open_store(None) as store,
        TikTokShopClient.from_env(
            credentials=store.tokens,
            request_log=store.request_log,
            rate_limits=store.rate_limits,
        ) as client,
    ):
        try:
            if args.access_token:
                api = client.shop(args.shop, access_token=args.access_token, cipher=args.cipher)
            else:
                api = client.shop(args.shop)
            service = getattr(api, args.service)
            if args.all_pages:
                try:
                    pages = service.pages(
                        args.method, query=args.query, body=args.body, params=args.params
                    )
                except TypeError as exc:  # a method that returns one object, not a list
                    print(f"error: {exc}; call it without --all-pages", file=sys.stderr)
                    return 2
                for item in pages.items():
                    print(json.dumps(item, ensure_ascii=False))
                return 0
            method = getattr(service, args.method)
            response = method(query=args.query, body=args.body, params=args.params)
        except AttributeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except TikTokAPIError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(json.dumps(response, indent=2, ensure_ascii=False))
    return 0
