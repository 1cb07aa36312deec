"""What a range run of the sync assets shows in Dagster: each day's materialization carries
that day's figures (TikTok's truth for the day), and the run's totals are on the run, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from tiktok_pipeline.defs.ingestion.figures import keeps_shop_days, run_totals
from tiktok_pipeline_tests.test_defs.conftest import authorize_seller, day_key

FIRST, LAST = day_key(6), day_key(2)
DAYS = [day_key(d) for d in range(6, 1, -1)]
COUNTS = ("inserted", "updated", "unchanged", "stale", "deleted")


def _window(key: str) -> dict[str, int]:
    start = int(datetime.fromisoformat(key).replace(tzinfo=UTC).timestamp())
    return {"update_time_ge": start, "update_time_lt": start + 86400}


def _run_range(defs, instance) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def("tiktok_sync_job")
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": FIRST,
            "dagster/asset_partition_range_end": LAST,
        },
    )


def _stored(instance, table: str) -> dict[str, dict]:
    """Each partition's materialization as the instance stored it (what the UI reads)."""
    records = instance.fetch_materializations(dg.AssetKey(table), limit=1000).records
    by_day: dict[str, dict] = {}
    for record in records:
        event = record.asset_materialization
        assert event.partition not in by_day, "one materialization per partition"
        by_day[event.partition] = {k: v.value for k, v in event.metadata.items()}
    return by_day


def _run_totals(instance, run_id: str, entity: str) -> tuple[str, dict]:
    """The run's totals event of ``entity`` in the run's log."""
    found = [
        record.event_log_entry
        for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ENGINE_EVENT
        ).records
        if record.event_log_entry.message.startswith(f"Synced {entity} ")
    ]
    assert len(found) == 1, [e.message for e in found]
    entry = found[0]
    metadata = entry.dagster_event.engine_event_data.metadata
    return entry.message, {k: v.value for k, v in metadata.items()}


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_each_day_of_a_range_shows_its_own_figures(sandbox, store, warehouse, defs, instance):
    shop_ids = authorize_seller(sandbox, store)
    shop_ids += authorize_seller(sandbox, store, sandbox.sellers[1].open_id)
    result = _run_range(defs, instance)
    assert result.success
    assert len(instance.get_runs()) == 1

    orders = _stored(instance, "tiktok_orders")
    items = _stored(instance, "tiktok_order_line_items")
    assert sorted(orders) == sorted(items) == DAYS
    for day in DAYS:
        truth = {s: sandbox.control.truth("orders", s, **_window(day)) for s in shop_ids}
        received = sum(len(found) for found in truth.values())
        line_items = sum(len(o["line_items"]) for found in truth.values() for o in found)
        figures = orders[day]
        # The day's orders, not the run's: a fresh warehouse inserts each one once.
        assert figures["received"] == figures["inserted"] == received, day
        assert (figures["updated"], figures["unchanged"], figures["stale"]) == (0, 0, 0)
        assert items[day]["inserted"] == line_items, day
        assert items[day]["received"] == received, day
        assert figures["shops_synced"] == len(shop_ids)
        assert figures["failed_shops"] == 0
        assert len(shop_ids) <= figures["api_pages"] < received
        day_end = datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=1)
        assert figures["synced_up_to"] == day_end.isoformat()
        table = figures["shops"]
        for shop_id in shop_ids:
            row = next(line for line in table.splitlines() if line.startswith(f"| {shop_id} "))
            assert f" {len(truth[shop_id])} |" in row, row
        # Run-level figures stay off the partitions.
        assert "days" not in figures and "duration_seconds" not in figures

    message, totals = _run_totals(instance, result.run_id, "orders")
    assert totals["days"] == len(DAYS) and totals["shops_synced"] == len(shop_ids)
    assert totals["windows"] == len(DAYS) * len(shop_ids)
    for figure in ("received", "api_pages"):
        assert totals[figure] == sum(orders[day][figure] for day in DAYS), figure
    for table, by_day in (("tiktok_orders", orders), ("tiktok_order_line_items", items)):
        for count in COUNTS:
            assert totals[f"{table}.{count}"] == sum(by_day[d][count] for d in DAYS), count
    assert f"{totals['received']} orders received" in message
    assert f"tiktok_orders {totals['tiktok_orders.inserted']} inserted" in message
    for shop_id in shop_ids:
        assert f"| {shop_id} |" in totals["shops"]
    assert run_totals(instance, result.run_id, "orders") == totals
    assert run_totals(instance, result.run_id, "returns")["days"] == len(DAYS)

    # A rerun of the range: every day says its orders came back unchanged.
    second = _run_range(defs, instance)
    assert second.success
    _, again = _run_totals(instance, second.run_id, "orders")
    assert again["tiktok_orders.unchanged"] == totals["tiktok_orders.inserted"]
    latest = instance.get_latest_materialization_event(dg.AssetKey("tiktok_orders"))
    assert latest.asset_materialization.partition == LAST
    figures = {k: v.value for k, v in latest.asset_materialization.metadata.items()}
    assert figures["inserted"] == 0 and figures["unchanged"] == orders[LAST]["received"]


def test_per_shop_tables_per_day_stay_small():
    assert keeps_shop_days(shops=25, days=366)  # a history run of 25 shops
    assert keeps_shop_days(shops=10_000, days=1)  # today's partition of a big agency
    assert not keeps_shop_days(shops=200, days=366)
