"""The sync assets against the sandbox with a real Dagster instance: what lands in the
warehouse is TikTok's truth, reruns change nothing, newer rows win, shops fail alone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import dagster as dg
import pytest
import sqlalchemy as sa

from tiktok_pipeline.defs.ingestion.jobs import sync_run_config
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline.warehouse import ORDER_TABLES
from tiktok_pipeline_tests.test_defs.conftest import ANCHOR, authorize_seller, day_key

DAY = day_key(3)


def _window(key: str) -> dict[str, int]:
    start = int(datetime.fromisoformat(key).replace(tzinfo=UTC).timestamp())
    return {"update_time_ge": start, "update_time_lt": start + 86400}


def _run(defs, instance, partition_key: str | None = None, **kwargs) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def("tiktok_sync_job")
    return job.execute_in_process(
        partition_key=partition_key, instance=instance, raise_on_error=False, **kwargs
    )


def _rows(engine, sql: str, **params) -> list[dict]:
    with engine.connect() as connection:
        return [dict(r) for r in connection.execute(sa.text(sql), params).mappings()]


def _materialization(result, key: str) -> dict:
    events = result.asset_materializations_for_node(f"sync_{key}")
    return {e.asset_key.to_user_string(): e.metadata for e in events}


pytestmark = pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def test_a_partition_lands_exactly_what_tiktok_has(sandbox, store, warehouse, defs, instance):
    shop_ids = authorize_seller(sandbox, store)
    result = _run(defs, instance, DAY)
    assert result.success
    engine = warehouse.engine
    for shop_id in shop_ids:
        truth = sandbox.control.truth("orders", shop_id, **_window(DAY))
        rows = _rows(
            engine,
            "SELECT id, status, update_time, total_amount, currency, line_item_count "
            "FROM tiktok_orders WHERE shop_id = :shop",
            shop=shop_id,
        )
        assert len(truth) > 10
        assert {r["id"]: (r["status"], r["update_time"]) for r in rows} == {
            o["id"]: (o["status"], o["update_time"]) for o in truth
        }
        by_id = {r["id"]: r for r in rows}
        for order in truth:
            row = by_id[order["id"]]
            assert Decimal(str(row["total_amount"])) == Decimal(order["payment"]["total_amount"])
            assert row["currency"] == order["payment"]["currency"]
            assert row["line_item_count"] == len(order["line_items"])
        line_items = _rows(
            engine,
            "SELECT id, order_id FROM tiktok_order_line_items WHERE shop_id = :shop",
            shop=shop_id,
        )
        assert {(r["order_id"], r["id"]) for r in line_items} == {
            (o["id"], item["id"]) for o in truth for item in o["line_items"]
        }
        for entity, table, key in (
            ("products", "tiktok_products", "id"),
            ("returns", "tiktok_returns", "return_id"),
        ):
            expected = {o[key] for o in sandbox.control.truth(entity, shop_id, **_window(DAY))}
            landed = {
                r[key]
                for r in _rows(engine, f"SELECT {key} FROM {table} WHERE shop_id = :s", s=shop_id)
            }
            assert landed == expected

    metadata = _materialization(result, "orders")
    orders_meta = metadata["tiktok_orders"]
    assert orders_meta["inserted"].value == sum(
        len(sandbox.control.truth("orders", s, **_window(DAY))) for s in shop_ids
    )
    assert orders_meta["dagster/row_count"].value == orders_meta["inserted"].value
    assert "shop_id" in orders_meta["shops"].value
    assert orders_meta["api_pages"].value >= len(shop_ids)
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }
    freshness = {k: e for k, e in checks.items() if k[1] == "fresh_for_every_shop"}
    others = {k: e.passed for k, e in checks.items() if k[1] != "fresh_for_every_shop"}
    # 8 entities x (unique ids, total count) + 5 child tables' orphans + 2 finance reconciliations.
    assert len(others) == 23 and all(others.values()), others
    # Only a day three days ago was synced: every shop is stale, and the check says which.
    assert len(freshness) == 8 and not any(e.passed for e in freshness.values())
    stale = freshness[("tiktok_orders", "fresh_for_every_shop")].metadata["stale_shops"].value
    assert set(stale) == set(shop_ids)


def test_rerunning_a_partition_changes_nothing(sandbox, store, warehouse, defs, instance):
    authorize_seller(sandbox, store)
    assert _run(defs, instance, DAY).success
    query = "SELECT * FROM tiktok_orders ORDER BY shop_id, id"
    before = _rows(warehouse.engine, query)
    before_items = _rows(warehouse.engine, "SELECT * FROM tiktok_order_line_items ORDER BY id")
    second = _run(defs, instance, DAY)
    assert second.success
    assert _rows(warehouse.engine, query) == before
    assert _rows(warehouse.engine, "SELECT * FROM tiktok_order_line_items ORDER BY id") == (
        before_items
    )
    meta = _materialization(second, "orders")["tiktok_orders"]
    assert (meta["inserted"].value, meta["updated"].value) == (0, 0)
    assert meta["unchanged"].value == len(before)


def test_an_older_payload_never_overwrites_a_newer_row(sandbox, store, warehouse, defs, instance):
    shop_id = authorize_seller(sandbox, store)[0]
    newer = dict(sandbox.control.truth("orders", shop_id, **_window(DAY))[0])
    newer["update_time"] += 3600
    newer["status"] = "COMPLETED"
    warehouse.load(ORDER_TABLES, shop_id, [newer], source="webhook")
    result = _run(defs, instance, DAY)
    assert result.success
    row = _rows(
        warehouse.engine,
        "SELECT status, update_time, _source FROM tiktok_orders WHERE id = :id",
        id=newer["id"],
    )[0]
    assert row == {"status": "COMPLETED", "update_time": newer["update_time"], "_source": "webhook"}
    assert _materialization(result, "orders")["tiktok_orders"]["stale"].value == 1


def test_a_range_backfill_runs_once_for_all_its_days(sandbox, store, warehouse, defs, instance):
    shop_ids = authorize_seller(sandbox, store)
    first, last = day_key(6), day_key(2)
    result = _run(
        defs,
        instance,
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
    )
    assert result.success
    start = _window(first)["update_time_ge"]
    end = _window(last)["update_time_lt"]
    expected = sum(
        len(sandbox.control.truth("orders", s, update_time_ge=start, update_time_lt=end))
        for s in shop_ids
    )
    assert len(_rows(warehouse.engine, "SELECT id FROM tiktok_orders")) == expected
    ledger = _rows(
        warehouse.engine,
        "SELECT DISTINCT partition_key FROM tiktok_sync_ledger WHERE entity = 'orders'",
    )
    assert {r["partition_key"] for r in ledger} == {day_key(d) for d in range(2, 7)}
    assert len(instance.get_runs()) == 1


def test_run_config_restricts_the_shops(sandbox, store, warehouse, defs, instance):
    authorize_seller(sandbox, store)
    other = authorize_seller(sandbox, store, sandbox.sellers[1].open_id)[0]
    result = _run(defs, instance, DAY, run_config=sync_run_config([other]))
    assert result.success
    assert {r["shop_id"] for r in _rows(warehouse.engine, "SELECT shop_id FROM tiktok_orders")} == {
        other
    }


def test_an_unknown_shop_in_run_config_fails_clearly(sandbox, store, defs, instance):
    authorize_seller(sandbox, store)
    result = _run(defs, instance, DAY, run_config=sync_run_config(["999"]))
    assert not result.success
    failure = result.failure_data_for_node("sync_orders")
    assert "999" in failure.error.message and "/tiktok/seller/authorize" in failure.error.message


def test_a_failing_shop_does_not_stop_the_others(sandbox, store, warehouse, defs, instance):
    good = authorize_seller(sandbox, store)[0]
    bad_seller = sandbox.sellers[1]
    bad = authorize_seller(sandbox, store, bad_seller.open_id)[0]
    # The seller revokes the app: its tokens stop working.
    sandbox.control.expire_tokens(open_id=bad_seller.open_id, which="both")
    try:
        # Orders alone: the first entity to meet the dead token marks the shop needs_reauth,
        # and the later ones then leave it out.
        result = _run(
            defs, instance, DAY, asset_selection=[dg.AssetKey(t) for t in ORDER_TABLES.table_names]
        )
    finally:
        sandbox.control.reset(auth=False)
    assert not result.success
    message = result.failure_data_for_node("sync_orders").error.message
    assert bad in message and good not in message.split("The other")[0]
    assert "authorize" in message
    shops_with_rows = {
        r["shop_id"] for r in _rows(warehouse.engine, "SELECT shop_id FROM tiktok_orders")
    }
    assert shops_with_rows == {good}
    failures = _rows(
        warehouse.engine,
        "SELECT shop_id, error FROM tiktok_sync_ledger "
        "WHERE status = 'failed' AND entity = 'orders'",
    )
    assert {f["shop_id"] for f in failures} == {bad}
    assert {s.id: s.status for s in store.tokens.list_shops()}[bad] == "needs_reauth"


def test_a_page_failing_after_retries_commits_nothing_for_that_window(
    environment, database, warehouse, monkeypatch, instance
):
    busy = SandboxConfig(
        seed=9,
        shops=1,
        orders_per_shop=2000,
        products_per_shop=5,
        days=5,
        anchor=ANCHOR,
        frozen_clock=True,
    )
    with run_sandbox(busy) as sandbox:
        monkeypatch.setenv("TIKTOK_API_BASE_URL", sandbox.base_url)
        monkeypatch.setenv("TIKTOK_AUTH_BASE_URL", sandbox.base_url)
        store = Store.from_url(database, upgrade=True)
        shop_id = authorize_seller(sandbox, store)[0]
        truth = sandbox.control.truth("orders", shop_id, **_window(DAY))
        assert len(truth) > 200  # several pages of 100
        # One call a second: the first page passes, the second is throttled, and with no
        # retries allowed the window fails after one page was written in its transaction.
        sandbox.control.set_faults(rate_limit_qps=0.5)
        from tiktok_pipeline.definitions import defs as load

        job = load().resolve_job_def("tiktok_sync_job")
        result = job.execute_in_process(
            partition_key=DAY,
            instance=instance,
            raise_on_error=False,
            asset_selection=[dg.AssetKey("tiktok_orders"), dg.AssetKey("tiktok_order_line_items")],
            run_config={
                "resources": {
                    "tiktok": {
                        "config": {
                            "app_key": {"env": "TIKTOK_APP_KEY"},
                            "app_secret": {"env": "TIKTOK_APP_SECRET"},
                            "max_attempts": 1,
                            "qps": 100,
                        }
                    }
                }
            },
        )
    assert not result.success
    message = result.failure_data_for_node("sync_orders").error.message
    assert shop_id in message and "RateLimited" in message
    assert _rows(warehouse.engine, "SELECT id FROM tiktok_orders") == []
    assert _rows(warehouse.engine, "SELECT id FROM tiktok_order_line_items") == []
    ledger = _rows(warehouse.engine, "SELECT status, pages FROM tiktok_sync_ledger")
    assert ledger == [{"status": "failed", "pages": 1}]
