"""Pull (shop, window) units concurrently, each committed whole or not at all.

A unit walks every page of one shop's search for one ``update_time`` window and writes the
pages inside one warehouse transaction, so a page that fails after the client's retries leaves
nothing half-written for that shop and window. Units run in a thread pool; the client's rate
limiter keeps each shop within its quota. A failing shop is recorded and the others go on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tiktok_pipeline.bulk_gc import fewer_collections
from tiktok_pipeline.client import Page, ShopAPI, TikTokAPIError
from tiktok_pipeline.db import is_sqlite, utcnow
from tiktok_pipeline.defs.ingestion.entities import Entity
from tiktok_pipeline.warehouse import LoadResult, Warehouse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    """A half-open ``[start, end)`` span of ``update_time``, labelled with its partition."""

    start: datetime
    end: datetime
    partition_key: str


@dataclass
class UnitResult:
    """What syncing one shop for one window did."""

    shop_id: str
    window: Window
    pages: int = 0
    api_total_count: int | None = None
    items_received: int = 0
    load: LoadResult = field(default_factory=LoadResult)
    error: BaseException | None = None


def daily_windows(start: datetime, end: datetime, upper_bound: datetime) -> list[Window]:
    """Daily windows covering ``[start, end)``, each cut at ``upper_bound`` (now minus the lag).

    Windows that start at or after the bound are left out: their data cannot be complete yet.
    """
    windows = []
    day = start.astimezone(UTC)
    while day < end:
        next_day = day + timedelta(days=1)
        window_end = min(next_day, end, upper_bound)
        if day < window_end:
            windows.append(Window(day, window_end, day.date().isoformat()))
        day = next_day
    return windows


def sync_unit(
    api: ShopAPI,
    warehouse: Warehouse,
    entity: Entity,
    window: Window,
    *,
    run_id: str | None = None,
) -> UnitResult:
    """Walk every page of one shop's window and commit it with its ledger row, or record why not."""
    shop_id = api.shop_id or ""
    result = UnitResult(shop_id, window)
    started_at = utcnow()
    search = entity.fetch(api, window.start, window.end)

    def fetched() -> Iterator[Page]:
        for page in search:
            result.pages += 1
            if result.api_total_count is None:
                result.api_total_count = page.total_count
            yield page

    try:
        # Parsing and loading a window allocates objects by the hundred thousand, all freed
        # by reference counting: collect garbage less often meanwhile (restored after).
        with fewer_collections():
            _fetch_and_load(warehouse, entity, fetched(), result, run_id, started_at)
    except Exception as exc:  # one shop's failure must not stop the others
        result.error = exc
        result.load = LoadResult()
        _record_failure(warehouse, entity, result, run_id, started_at)
        if not isinstance(exc, TikTokAPIError):
            logger.exception("syncing %s of shop %s failed", entity.name, shop_id)
    return result


def _fetch_and_load(
    warehouse: Warehouse,
    entity: Entity,
    pages: Iterable[Page],
    result: UnitResult,
    run_id: str | None,
    started_at: datetime,
) -> None:
    """Loads the window's pages in one transaction with its ledger row; counts in ``result``."""
    if is_sqlite(warehouse.engine):
        # SQLite has one writer for the whole file, the web service's inbox included:
        # fetch the window first, then hold the write lock only while writing it.
        pages = list(pages)
    with warehouse.begin() as tx:
        key = entity.stored_in.key
        seen: set[str] = set()
        for page in pages:
            if page.items:
                loaded = tx.load(entity.stored_in, result.shop_id, page.items, source="poll")
                # Counts only: the ids of changed rows would grow with the window.
                result.load += LoadResult(dict(loaded))
                seen.update(str(item[key]) for item in page.items)
        result.items_received = len(seen)
        tx.record_sync(
            shop_id=result.shop_id,
            entity=entity.name,
            window_start=result.window.start,
            window_end=result.window.end,
            status="success",
            api_total_count=result.api_total_count,
            items_received=result.items_received,
            pages=result.pages,
            result=result.load,
            run_id=run_id,
            partition_key=result.window.partition_key,
            started_at=started_at,
        )


def _record_failure(
    warehouse: Warehouse,
    entity: Entity,
    result: UnitResult,
    run_id: str | None,
    started_at: datetime,
) -> None:
    try:
        warehouse.record_sync_failure(
            shop_id=result.shop_id,
            entity=entity.name,
            window_start=result.window.start,
            window_end=result.window.end,
            error=f"{type(result.error).__name__}: {result.error}",
            pages=result.pages,
            run_id=run_id,
            partition_key=result.window.partition_key,
            started_at=started_at,
        )
    except Exception:
        logger.exception("could not record the failed sync of shop %s", result.shop_id)


@dataclass
class ShopSummary:
    """What a run did for one shop, over all its windows."""

    shop_id: str
    windows: int = 0
    pages: int = 0
    received: int = 0
    load: LoadResult = field(default_factory=LoadResult)
    failures: list[UnitResult] = field(default_factory=list)
    failed_windows: int = 0

    #: Failures kept per shop for messages; the ledger has every one of them.
    KEEP_FAILURES = 5


class SyncSummary:
    """Figures of a run, added up per shop as units finish (memory does not grow with units)."""

    def __init__(self) -> None:
        self.shops: dict[str, ShopSummary] = {}
        self._lock = threading.Lock()

    def add(self, unit: UnitResult) -> None:
        """Count one finished unit."""
        with self._lock:
            shop = self.shops.setdefault(unit.shop_id, ShopSummary(unit.shop_id))
            shop.windows += 1
            shop.pages += unit.pages
            shop.received += unit.items_received
            shop.load += unit.load
            if unit.error is not None:
                shop.failed_windows += 1
                if len(shop.failures) < ShopSummary.KEEP_FAILURES:
                    shop.failures.append(unit)

    @property
    def load(self) -> LoadResult:
        """Row counts over every shop."""
        total = LoadResult()
        for shop in self.shops.values():
            total += shop.load
        return total

    @property
    def pages(self) -> int:
        """API pages fetched."""
        return sum(shop.pages for shop in self.shops.values())

    @property
    def received(self) -> int:
        """Distinct objects received, summed over windows."""
        return sum(shop.received for shop in self.shops.values())

    @property
    def failures(self) -> list[UnitResult]:
        """A few failed units of each failed shop."""
        return [unit for shop in self.shops.values() for unit in shop.failures]


def sync_shops(
    shop_apis: Sequence[ShopAPI],
    warehouse: Warehouse,
    entity: Entity,
    windows: Sequence[Window],
    *,
    run_id: str | None = None,
    max_workers: int = 8,
) -> SyncSummary:
    """Sync every (shop, window) unit with ``max_workers`` threads; returns the run's figures.

    Units are handed out window by window, so that several windows of each shop are in flight
    at once (the client's rate limiter paces each shop) and shops interleave. Workers pull units
    one at a time, so a year of windows for hundreds of shops costs no memory up front.
    """
    units = ((api, window) for window in windows for api in shop_apis)
    lock = threading.Lock()
    summary = SyncSummary()

    def work() -> None:
        while True:
            with lock:
                unit = next(units, None)
            if unit is None:
                return
            api, window = unit
            summary.add(sync_unit(api, warehouse, entity, window, run_id=run_id))

    threads = [
        threading.Thread(target=work, name=f"tiktok-sync-{i}", daemon=True)
        for i in range(max(1, min(max_workers, len(windows) * len(shop_apis))))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summary
