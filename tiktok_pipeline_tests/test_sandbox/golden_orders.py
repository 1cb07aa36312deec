"""Golden order pages: what clients got from the sandbox's order endpoints, kept as fixtures.

Each case starts a sandbox (a seed, regions, a clock time), walks Get Order List with some
filters and page sizes, reads Get Order Detail, Get Price Detail and the truth endpoint, and
records what a client sees: the order ids of every page, ``total_count``, a digest of every
order's JSON (canonical form: key order is not part of the contract), a few whole orders
chosen to cover every status and the rarer states (on hold, buyer asking to cancel,
cancelled, unpaid), and the price details of some of them.
``test_order_golden.py`` replays the cases and compares field by field.

The fixtures were captured from the sandbox before its order rendering was rewritten, then
regenerated once when orders gained TikTok's further documented members (buyer profile, CPF,
SLA times, payment discount, shipping VAT, combined listings; the same pages, ids and values
otherwise). After a deliberate change of the order payload, regenerate them (and review the
diff):

    .venv/bin/python -m tiktok_pipeline_tests.test_sandbox.golden_orders --write
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiktok_pipeline.sandbox import run_sandbox
from tiktok_pipeline_tests.test_sandbox.conftest import ANCHOR, authorized_client, small_config
from tiktok_pipeline_tests.test_sandbox.signer import SignedClient

FIXTURES = Path(__file__).parent / "fixtures" / "golden_orders"
SEARCH = "/order/202309/orders/search"
DETAIL = "/order/202309/orders"
DAY = 86400
#: Whole orders kept per shop (the others only by digest).
SAMPLE_PER_SHOP = 6


@dataclass(frozen=True)
class Walk:
    """One paged Get Order List walk of a shop (by its position in the sandbox)."""

    shop: int
    page_size: int
    body: dict[str, Any] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """A sandbox configuration and the walks made against it."""

    name: str
    config: dict[str, Any]
    walks: tuple[Walk, ...]


CASES = (
    Case(
        "seed7_us_gb_id_jp_at_anchor",
        {
            "seed": 7,
            "shops": 4,
            "regions": ("US", "GB", "ID", "JP"),
            "orders_per_shop": 300,
            "days": 30,
            "anchor": ANCHOR,
            "start_time": ANCHOR,
        },
        (
            Walk(0, 50),
            Walk(
                0,
                37,
                {"update_time_ge": ANCHOR - 6 * DAY, "update_time_lt": ANCHOR - DAY},
                {"sort_field": "update_time", "sort_order": "ASC"},
            ),
            Walk(1, 100),
            Walk(1, 20, {"order_status": "AWAITING_SHIPMENT"}),
            Walk(
                2,
                64,
                {"create_time_ge": ANCHOR - 20 * DAY, "create_time_lt": ANCHOR - 5 * DAY},
                {"sort_order": "ASC"},
            ),
            Walk(3, 100, {"shipping_type": "SELLER"}),
        ),
    ),
    Case(
        "seed11_my_mx_br_es_three_days_later",
        {
            "seed": 11,
            "shops": 4,
            "regions": ("MY", "MX", "BR", "ES"),
            "orders_per_shop": 250,
            "days": 20,
            "anchor": ANCHOR,
            "start_time": ANCHOR + 3 * DAY,
        },
        (
            Walk(0, 100),
            Walk(
                1,
                45,
                {"update_time_ge": ANCHOR, "update_time_lt": ANCHOR + 3 * DAY},
                {"sort_field": "update_time"},
            ),
            Walk(2, 100, {"order_status": "CANCELLED"}),
            Walk(3, 30),
        ),
    ),
    Case(
        "seed3_us_and_unknown_region_in_1990",
        {
            "seed": 3,
            "shops": 2,
            "regions": ("US", "XX"),
            "orders_per_shop": 200,
            "days": 15,
            "anchor": 631_152_000,
            "start_time": 631_152_000 - 4 * DAY,
        },
        (
            Walk(0, 100),
            Walk(1, 100),
            Walk(1, 50, {"is_buyer_request_cancel": False, "order_status": "IN_TRANSIT"}),
        ),
    ),
)


def digest(order: dict[str, Any]) -> str:
    """A short digest of an order's canonical JSON."""
    text = json.dumps(order, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _walk(client: SignedClient, cipher: str, walk: Walk) -> tuple[list[list[dict]], list[int]]:
    """Every page of a walk (the orders of each page) and the total_count of each page."""
    pages: list[list[dict]] = []
    totals: list[int] = []
    token = ""
    while True:
        query: dict[str, Any] = {"page_size": walk.page_size, **walk.query}
        if token:
            query["page_token"] = token
        data = client.ok("POST", SEARCH, query, walk.body, cipher=cipher)
        pages.append(data["orders"])
        totals.append(data["total_count"])
        token = data["next_page_token"]
        if not token:
            return pages, totals
        if len(pages) > 1000:
            raise AssertionError("paging did not end")


def _sample(orders: list[dict]) -> list[str]:
    """Ids of a few orders covering every status and the rarer states."""
    wanted: list[str] = []
    seen: set[tuple[str, bool, bool]] = set()
    for order in orders:
        kind = (
            order["status"],
            bool(order.get("is_buyer_request_cancel")),
            "request_cancel_time" in order,
        )
        if kind not in seen:
            seen.add(kind)
            wanted.append(order["id"])
    for order in (orders[0], orders[-1]) if orders else ():
        if order["id"] not in wanted:
            wanted.append(order["id"])
    return wanted


def observe(case: Case) -> dict[str, Any]:
    """What a client sees of the case's orders, in the fixtures' form."""
    config = small_config(**case.config)
    with run_sandbox(config) as sandbox:
        client = authorized_client(sandbox)
        shops = client.ok("GET", "/authorization/202309/shops")["shops"]
        walks = []
        by_id: dict[str, dict] = {}
        per_shop: dict[int, list[dict]] = {}
        for walk in case.walks:
            pages, totals = _walk(client, shops[walk.shop]["cipher"], walk)
            walks.append(
                {
                    "shop": walk.shop,
                    "page_size": walk.page_size,
                    "body": walk.body,
                    "query": walk.query,
                    "total_count": totals,
                    "pages": [[o["id"] for o in page] for page in pages],
                }
            )
            for page in pages:
                for order in page:
                    by_id.setdefault(order["id"], order)
                    per_shop.setdefault(walk.shop, []).append(order)
        sample: list[str] = []
        for shop in sorted(per_shop):
            sample += _sample(per_shop[shop])[:SAMPLE_PER_SHOP]
        details = []
        for shop in sorted(per_shop):
            ids = [o["id"] for o in per_shop[shop][:: max(1, len(per_shop[shop]) // 20)]][:50]
            data = client.ok("GET", DETAIL, {"ids": ",".join(ids)}, cipher=shops[shop]["cipher"])
            details.append(
                {"shop": shop, "ids": ids, "digests": [digest(o) for o in data["orders"]]}
            )
        prices = {}
        for shop in sorted(per_shop):
            cipher = shops[shop]["cipher"]
            for order_id in _sample(per_shop[shop])[:2]:
                prices[order_id] = client.ok(
                    "GET", f"/order/202407/orders/{order_id}/price_detail", cipher=cipher
                )
        truth = []
        for shop in sorted(per_shop):
            shop_id = sandbox.shops[shop].id
            window = {
                "update_time_ge": str(case.config["start_time"] - 2 * DAY),
                "update_time_lt": str(case.config["start_time"]),
            }
            found = sandbox.control.truth("orders", shop_id, **window)
            truth.append(
                {
                    "shop": shop,
                    "window": window,
                    "ids": [o["id"] for o in found],
                    "digests": [digest(o) for o in found],
                }
            )
    return {
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in case.config.items()},
        "walks": walks,
        "digests": {order_id: digest(order) for order_id, order in sorted(by_id.items())},
        "orders": [by_id[order_id] for order_id in sample],
        "detail": details,
        "truth": truth,
        "price_detail": prices,
    }


def fixture_path(case: Case) -> Path:
    """Where a case's fixture lives."""
    return FIXTURES / f"{case.name}.json"


def _fixture_text(seen: dict[str, Any]) -> str:
    """The fixture as JSON with one line per walk, digest and order (diffs stay readable)."""

    def line(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    blocks = []
    for key, value in seen.items():
        if isinstance(value, dict) and key in ("digests", "price_detail"):
            inner = ",\n".join(f"  {line(k)}:{line(v)}" for k, v in value.items())
            blocks.append(f"{line(key)}:{{\n{inner}\n }}")
        elif isinstance(value, list):
            inner = ",\n".join(f"  {line(v)}" for v in value)
            blocks.append(f"{line(key)}:[\n{inner}\n ]")
        else:
            blocks.append(f"{line(key)}:{line(value)}")
    return "{\n " + ",\n ".join(blocks) + "\n}\n"


def main() -> int:
    """Write (or check) the fixtures of every case."""
    parser = argparse.ArgumentParser(description="golden order pages of the sandbox")
    parser.add_argument("--write", action="store_true", help="overwrite the fixture files")
    args = parser.parse_args()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        seen = observe(case)
        path = fixture_path(case)
        if args.write:
            path.write_text(_fixture_text(seen))
            print(f"wrote {path} ({path.stat().st_size} bytes)")
        else:
            same = path.exists() and json.loads(path.read_text()) == seen
            print(f"{path.name}: {'same' if same else 'DIFFERENT'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
