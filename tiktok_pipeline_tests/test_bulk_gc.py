"""Garbage collection settings during bulk loads are raised, shared and restored."""

import dataclasses
import gc
import threading
from datetime import UTC, datetime
from types import SimpleNamespace

from tiktok_pipeline.bulk_gc import BULK_THRESHOLD, fewer_collections
from tiktok_pipeline.client import TransportError
from tiktok_pipeline.defs.ingestion.entities import ORDERS
from tiktok_pipeline.defs.ingestion.sync import Window, sync_unit
from tiktok_pipeline.warehouse import Warehouse


def test_threshold_raised_inside_and_restored_after_nested_blocks():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] >= BULK_THRESHOLD
        assert gc.get_freeze_count() > 0
        with fewer_collections():
            assert gc.get_threshold()[0] >= BULK_THRESHOLD
        # The inner block's end does not restore the settings while the outer one runs.
        assert gc.get_threshold()[0] >= BULK_THRESHOLD
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_overlapping_blocks_in_threads_restore_once_the_last_ends():
    before = gc.get_threshold()
    inside, release = threading.Event(), threading.Event()

    def other_block():
        with fewer_collections():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other_block)
    with fewer_collections():
        thread.start()
        inside.wait(10)
    # This thread's block ended first; the other thread's still runs.
    assert gc.get_threshold()[0] >= BULK_THRESHOLD
    release.set()
    thread.join(10)
    assert gc.get_threshold() == before


def test_a_sync_unit_collects_less_while_it_loads_and_restores_after_a_failure(
    sqlite_db_url: str,
):
    """The sync changes the settings only while a window is fetched and loaded."""
    warehouse = Warehouse.from_url(sqlite_db_url, upgrade=True)
    before = gc.get_threshold()
    seen_inside = []

    def failing_fetch(api, start, end):
        seen_inside.append(gc.get_threshold())
        raise TransportError("the network went away")
        yield  # a generator, like the client's pages

    entity = dataclasses.replace(ORDERS, fetch=failing_fetch)
    window = Window(
        datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 6, 2, tzinfo=UTC), "2024-06-01"
    )
    result = sync_unit(SimpleNamespace(shop_id="7000"), warehouse, entity, window)

    assert isinstance(result.error, TransportError)
    assert seen_inside and seen_inside[0][0] >= BULK_THRESHOLD
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    (entry,) = warehouse.ledger_windows("orders", window.start, window.end)
    assert entry.status == "failed"
