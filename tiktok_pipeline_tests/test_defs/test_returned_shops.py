"""A shop that comes back gets the days it missed from the new-shop history sensor.

Over HTTP to the sandbox: the seller removes a shop from the app at TikTok, the shop-list
refresh marks it ``departed`` (the sensor remembers since when), the seller adds it back, the
refresh makes it active, and the next tick asks for exactly its missed days; no other shop is
fetched again. The store and the warehouse are on SQLite and on Postgres.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.db import utcnow
from tiktok_pipeline.defs.ingestion.automation import build_new_shop_sensor
from tiktok_pipeline.defs.ingestion.returned_shops import HistoryCursor, follow_shops
from tiktok_pipeline.defs.resources import StoreResource, WarehouseResource
from tiktok_pipeline.lifecycle.shop_lists import refresh_shop_lists
from tiktok_pipeline.store import Store
from tiktok_pipeline.store.schema import tiktok_shops
from tiktok_pipeline_tests.test_defs.conftest import authorize_seller
from tiktok_pipeline_tests.test_store.fakes import shop, token_data

pytestmark = pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)

AWAY_DAYS = 5


@pytest.fixture
def client(sandbox, store: Store) -> Iterator[TikTokShopClient]:
    with TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
        credentials=store.tokens,
    ) as made:
        yield made


def _tick(instance, database: str, cursor: str | None) -> dg.SensorResult:
    sensor = build_new_shop_sensor(history_days=10)
    resources = {"store": StoreResource(url=database), "warehouse": WarehouseResource(url=database)}
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult) and result.cursor is not None
    return result


def _cursor(result: dg.SensorResult) -> dict:
    return json.loads(result.cursor or "")


def test_a_returned_shop_gets_the_days_it_missed_and_no_other_shop_is_fetched_again(
    sandbox, store: Store, warehouse, client: TikTokShopClient, instance, defs, database: str
) -> None:
    seller = sandbox.sellers[0].open_id
    (returning,) = authorize_seller(sandbox, store, seller)
    (staying,) = authorize_seller(sandbox, store, sandbox.sellers[1].open_id)
    first = _tick(instance, database, None)
    cursor = first.cursor
    assert _cursor(first) == {"shops": sorted([returning, staying])}

    sandbox.control.remove_shop(seller, returning)
    try:
        assert refresh_shop_lists(client, store).departed == [returning]
        # It left AWAY_DAYS days ago (the refresh stamps the moment it saw it gone).
        left = utcnow() - timedelta(days=AWAY_DAYS)
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(tiktok_shops)
                .where(tiktok_shops.c.id == returning)
                .values(deauthorized_at=left)
            )
        away = _tick(instance, database, cursor)
    finally:
        sandbox.control.add_shop(seller, shop_id=returning)
    first_missed = (left - timedelta(days=1)).date().isoformat()
    assert away.run_requests == [] and away.skip_reason is not None
    assert _cursor(away)["away"] == {returning: first_missed}

    assert refresh_shop_lists(client, store).returned == [returning]
    back = _tick(instance, database, away.cursor)

    today = datetime.now(UTC).date().isoformat()
    requests = list(back.run_requests or [])
    assert [(r.job_name, r.tags["tiktok/shop"]) for r in requests] == [
        ("tiktok_sync_job", returning)
    ]
    (request,) = requests
    assert request.tags["tiktok/trigger"] == "returned_shop_history"
    assert request.tags["dagster/asset_partition_range_start"] == first_missed
    assert request.tags["dagster/asset_partition_range_end"] == today
    assert _cursor(back) == {"shops": sorted([returning, staying])}
    assert _tick(instance, database, back.cursor).run_requests == []

    # Running it lands the missed days of that shop, and nothing of the other.
    job = defs.resolve_job_def("tiktok_sync_job")
    assert job.execute_in_process(
        run_config=request.run_config, tags=request.tags, instance=instance
    ).success
    with warehouse.engine.connect() as conn:
        shops = set(conn.execute(sa.text("SELECT DISTINCT shop_id FROM tiktok_orders")).scalars())
    assert shops == {returning}


def test_only_shops_seen_away_count_as_returned(store: Store) -> None:
    ids = ["7494049642642441621", "7494049642642441622", "7494049642642441623"]
    authorization, _ = store.tokens.save_authorization(token_data(), [shop(i) for i in ids])
    cursor = HistoryCursor(frozenset(ids[:2]))  # the third shop is new to the sensor

    new, returned, cursor = follow_shops(cursor, store.tokens.list_shops())
    assert (new, returned, cursor.away) == ([ids[2]], {}, {})

    # The seller's token dies (needs_reauth): every shop is away, none is new.
    store.tokens.set_authorization_status(authorization.id, "needs_reauth", "rt expired")
    new, returned, cursor = follow_shops(cursor, store.tokens.list_shops())
    assert new == [] and returned == {} and set(cursor.away) == set(ids)
    assert HistoryCursor.parse(cursor.to_json()) == cursor

    # Authorized again: all three come back, each from the day before it went away.
    store.tokens.set_authorization_status(authorization.id, "active")
    new, returned, cursor = follow_shops(cursor, store.tokens.list_shops())
    expected = (utcnow() - timedelta(days=1)).date()
    assert new == [] and returned == dict.fromkeys(ids, expected) and cursor.away == {}
