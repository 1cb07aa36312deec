"""A poll that fetched an order, then lost the race to a webhook refresh of a newer version of
it, does not put the old version back: the newer order and its line items stay."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tiktok_pipeline.client import Page, TikTokShopClient
from tiktok_pipeline.defs.ingestion.entities import ORDERS
from tiktok_pipeline.defs.ingestion.sync import UnitResult, Window, sync_unit
from tiktok_pipeline.defs.webhooks.refresh import refresh_shop
from tiktok_pipeline.defs.webhooks.routing import ShopRefresh
from tiktok_pipeline_tests.test_defs.conftest import ANCHOR
from tiktok_pipeline_tests.test_faults.helpers import ON_BOTH_DATABASES, ledger_rows

#: Yesterday, as the scheduled poll syncs it.
WINDOW = Window(
    datetime.fromtimestamp(ANCHOR, UTC) - timedelta(days=1),
    datetime.fromtimestamp(ANCHOR, UTC),
    (datetime.fromtimestamp(ANCHOR, UTC) - timedelta(days=1)).date().isoformat(),
)
EVERYTHING = {"update_time_ge": 0, "update_time_lt": 2**31}


def _rows(engine: sa.Engine, sql: str, **params) -> list[dict]:
    with engine.connect() as connection:
        return [dict(r) for r in connection.execute(sa.text(sql), params).mappings()]


@ON_BOTH_DATABASES
def test_a_stale_poll_finishing_after_a_webhook_refresh_keeps_the_newer_order(
    backend, sandbox, new_database, use_database
):
    store, warehouse = use_database(new_database())
    shop_id = sandbox.shops[0].id
    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        credentials=store.tokens,
    )
    api = client.shop(shop_id)
    polled: list[dict] = []
    fetched, write = threading.Event(), threading.Event()

    def fetch_then_wait(api, start: datetime, end: datetime) -> Iterator[Page]:
        """The poll's real search; it pauses between fetching and writing."""
        pages = list(ORDERS.fetch(api, start, end))
        polled.extend(item for page in pages for item in page.items)
        fetched.set()
        assert write.wait(60), "the test never let the poll write"
        yield from pages

    slow_poll = dataclasses.replace(ORDERS, fetch=fetch_then_wait)
    outcome: list[UnitResult] = []
    poll = threading.Thread(
        target=lambda: outcome.append(sync_unit(api, warehouse, slow_poll, WINDOW, run_id="poll"))
    )
    poll.start()
    try:
        assert fetched.wait(60)
        # Time passes on TikTok: orders of the window move on (shipped, delivered, ...), and
        # their pushes make the webhook refresh fetch and write the newer versions first.
        sandbox.control.advance(6 * 3600)
        now = {o["id"]: o for o in sandbox.control.truth("orders", shop_id, **EVERYTHING)}
        changed = {o["id"] for o in polled if now[o["id"]]["update_time"] > o["update_time"]}
        assert len(changed) >= 5, "the clock moved no order of the window"
        refreshed = refresh_shop(api, warehouse, ShopRefresh(orders=changed))
        assert refreshed["tiktok_orders"].updated + refreshed["tiktok_orders"].inserted == len(
            changed
        )
    finally:
        write.set()
        poll.join(60)
        client.close()
    (unit,) = outcome
    assert unit.error is None, unit.error

    # The poll wrote its whole window, and counted its versions of the changed orders as stale.
    assert unit.load["tiktok_orders"].stale == len(changed)
    engine = warehouse.engine
    orders = {
        r["id"]: r
        for r in _rows(
            engine,
            "SELECT id, status, update_time, _source FROM tiktok_orders WHERE shop_id = :s",
            s=shop_id,
        )
    }
    assert set(orders) == {o["id"] for o in polled}
    for order in polled:
        newest = now[order["id"]] if order["id"] in changed else order
        source = "webhook" if order["id"] in changed else "poll"
        assert orders[order["id"]] == {
            "id": order["id"],
            "status": newest["status"],
            "update_time": newest["update_time"],
            "_source": source,
        }
    # Line items follow their order: the newer version's items, statuses and packages.
    items = _rows(
        engine,
        "SELECT order_id, id, display_status, package_status, _source "
        "FROM tiktok_order_line_items WHERE shop_id = :s",
        s=shop_id,
    )
    expected = {
        (
            o["id"],
            item["id"],
            item.get("display_status"),
            item.get("package_status"),
            "webhook" if o["id"] in changed else "poll",
        )
        for o in (now[p["id"]] if p["id"] in changed else p for p in polled)
        for item in o["line_items"]
    }
    assert {tuple(r.values()) for r in items} == expected
    assert len(items) == len(expected)
    (entry,) = ledger_rows(engine)
    assert (entry["status"], entry["items_received"], entry["stale"]) == (
        "success",
        len(polled),
        len(changed),
    )
