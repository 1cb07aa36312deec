"""Pull (shop, window) units concurrently, each committed whole or not at all.

A unit walks every page of one shop's search for one ``update_time`` window and writes the
pages inside one warehouse transaction, so a page that fails after the client's retries leaves
nothing half-written for that shop and window. Units run in a thread pool; the client's rate
limiter keeps each shop within its quota. A failing shop is recorded and the others go on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import sqlalchemy as sa

from tiktok_pipeline.bulk_gc import fewer_collections
from tiktok_pipeline.client import Page, ShopAPI, TikTokAPIError
from tiktok_pipeline.db import db_error_text, is_sqlite, is_transient_database_error, utcnow
from tiktok_pipeline.defs.ingestion.entities import Entity, fetch_start
from tiktok_pipeline.warehouse import LoadResult, Warehouse

logger = logging.getLogger(__name__)

#: How long a window keeps trying again while the warehouse database is unreachable.
DATABASE_RETRY_SECONDS = 90.0
#: How long a failed window waits for the database to come back to record its failure.
LEDGER_WAIT_SECONDS = 30.0


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
    database_retry_seconds: float = DATABASE_RETRY_SECONDS,
) -> UnitResult:
    """Walk every page of one shop's window and commit it with its ledger row, or record why not.

    A transient database error (connection refused or lost, the server restarting, a
    serialization failure or deadlock) makes the window start over, with backoff, for up to
    ``database_retry_seconds``: a short warehouse outage delays a run instead of failing it.
    """
    shop_id = api.shop_id or ""
    started_at = utcnow()
    retry = _DatabaseRetry(database_retry_seconds)
    while True:
        result = UnitResult(shop_id, window)
        try:
            # Parsing and loading a window allocates objects by the hundred thousand, all freed
            # by reference counting: collect garbage less often meanwhile (restored after).
            with fewer_collections():
                start = fetch_start(entity, window.start, window.end, utcnow())
                pages = _counted(entity.fetch(api, start, window.end), result)
                _fetch_and_load(warehouse, entity, pages, result, run_id, started_at)
            return result
        except Exception as exc:  # one shop's failure must not stop the others
            if is_transient_database_error(exc) and retry.wait(exc, entity, result):
                continue
            result.error = exc
            result.load = LoadResult()
            _record_failure(warehouse, entity, result, run_id, started_at)
            if is_transient_database_error(exc):
                logger.error(
                    "syncing %s of shop %s for %s failed: the warehouse database was unreachable "
                    "for %.0f s (%s)",
                    entity.name,
                    shop_id,
                    window.partition_key,
                    retry.waited,
                    db_error_text(exc),
                )
            elif not isinstance(exc, TikTokAPIError):
                logger.exception("syncing %s of shop %s failed", entity.name, shop_id)
            return result


class _DatabaseRetry:
    """Backoff (1 s doubling to 15 s) over a window's attempts, for a time budget counted from
    the first database error."""

    def __init__(self, budget_seconds: float) -> None:
        self.budget = budget_seconds
        self.deadline: float | None = None
        self.delay = 1.0
        self.waited = 0.0

    def wait(self, exc: BaseException, entity: Entity, result: UnitResult) -> bool:
        """Sleep before the next attempt; False when the budget does not allow another."""
        if self.deadline is None:
            self.deadline = time.monotonic() + self.budget
        if time.monotonic() + self.delay > self.deadline:
            return False
        logger.info(
            "the warehouse database failed while syncing %s of shop %s for %s (%s); "
            "trying the window again in %.0f s",
            entity.name,
            result.shop_id,
            result.window.partition_key,
            db_error_text(exc),
            self.delay,
        )
        time.sleep(self.delay)
        self.waited += self.delay
        self.delay = min(self.delay * 2, 15.0)
        return True


def _counted(pages: Iterable[Page], result: UnitResult) -> Iterator[Page]:
    """``pages``, counting them and keeping TikTok's total_count in ``result``.

    A fetch may be several searches (one per statement for statement transactions): each
    search's first page carries its total_count, and the window's is their sum (0 when there
    was no search: no statement in the window). A first page without one leaves the window's
    total unknown (None), which the count check skips.
    """
    known = True
    for page in pages:
        result.pages += 1
        if page.number == 1:
            if page.total_count is None or not known:
                known = False
                result.api_total_count = None
            else:
                result.api_total_count = (result.api_total_count or 0) + page.total_count
        yield page
    if result.pages == 0:
        result.api_total_count = 0


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
    """Writes the failed window's ledger row, waiting up to :data:`LEDGER_WAIT_SECONDS` for the
    database to come back."""
    deadline = time.monotonic() + LEDGER_WAIT_SECONDS
    while True:
        try:
            warehouse.record_sync_failure(
                shop_id=result.shop_id,
                entity=entity.name,
                window_start=result.window.start,
                window_end=result.window.end,
                error=_error_text(result.error),
                pages=result.pages,
                run_id=run_id,
                partition_key=result.window.partition_key,
                started_at=started_at,
            )
            return
        except Exception as exc:
            if is_transient_database_error(exc) and time.monotonic() + 2 < deadline:
                time.sleep(2)
                continue
            logger.error(
                "could not record the failed sync of shop %s for %s in the ledger (%s)",
                result.shop_id,
                result.window.partition_key,
                db_error_text(exc),
            )
            return


def _error_text(error: BaseException | None) -> str:
    if isinstance(error, sa.exc.DBAPIError):
        return db_error_text(error)  # never the statement nor its parameters
    return f"{type(error).__name__}: {error}"


@dataclass
class Figures:
    """What a run did over some (shop, window) units: windows, pages, objects and rows."""

    windows: int = 0
    failed_windows: int = 0
    pages: int = 0
    received: int = 0
    load: LoadResult = field(default_factory=LoadResult)

    def add(self, unit: UnitResult) -> None:
        """Count one finished unit."""
        self.windows += 1
        self.pages += unit.pages
        self.received += unit.items_received
        self.load += unit.load
        if unit.error is not None:
            self.failed_windows += 1


@dataclass
class ShopSummary(Figures):
    """What a run did for one shop, over all its windows."""

    shop_id: str = ""
    failures: list[UnitResult] = field(default_factory=list)

    #: Failures kept per shop for messages; the ledger has every one of them.
    KEEP_FAILURES: ClassVar[int] = 5


@dataclass
class DaySummary(Figures):
    """What a run did for one partition (UTC day), over every shop.

    ``synced_up_to`` is where the day's window ended (now minus the safety lag for today), None
    when the day was not synced; ``shops`` holds each shop's figures of the day unless the run
    keeps none (see :class:`SyncSummary`).
    """

    partition_key: str = ""
    synced_up_to: datetime | None = None
    shops: dict[str, Figures] = field(default_factory=dict)


class SyncSummary:
    """Figures of a run per shop and per day, added up as units finish.

    Memory grows with shops plus days, and with shops times days only when ``keep_shop_days``
    (each day's per-shop figures, for a per-shop table on each partition).
    """

    def __init__(self, *, keep_shop_days: bool = True) -> None:
        self.shops: dict[str, ShopSummary] = {}
        self.days: dict[str, DaySummary] = {}
        self.keep_shop_days = keep_shop_days
        self._lock = threading.Lock()

    def add(self, unit: UnitResult) -> None:
        """Count one finished unit."""
        with self._lock:
            shop = self.shops.get(unit.shop_id)
            if shop is None:
                shop = self.shops[unit.shop_id] = ShopSummary(shop_id=unit.shop_id)
            shop.add(unit)
            if unit.error is not None and len(shop.failures) < ShopSummary.KEEP_FAILURES:
                shop.failures.append(unit)
            key = unit.window.partition_key
            day = self.days.get(key)
            if day is None:
                day = self.days[key] = DaySummary(partition_key=key, synced_up_to=unit.window.end)
            day.add(unit)
            if self.keep_shop_days:
                day.shops.setdefault(unit.shop_id, Figures()).add(unit)

    def day(self, partition_key: str) -> DaySummary:
        """The figures of one partition (zeros when the run synced nothing of it)."""
        return self.days.get(partition_key) or DaySummary(partition_key=partition_key)

    @property
    def load(self) -> LoadResult:
        """Row counts over every shop."""
        total = LoadResult()
        for shop in self.shops.values():
            total += shop.load
        return total

    @property
    def windows(self) -> int:
        """(shop, day) windows synced, failed ones included."""
        return sum(shop.windows for shop in self.shops.values())

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
    keep_shop_days: bool = True,
    database_retry_seconds: float = DATABASE_RETRY_SECONDS,
) -> SyncSummary:
    """Sync every (shop, window) unit with ``max_workers`` threads; returns the run's figures.

    Units are handed out window by window, so that several windows of each shop are in flight
    at once (the client's rate limiter paces each shop) and shops interleave. Workers pull units
    one at a time, so a year of windows for hundreds of shops costs no memory up front.
    ``keep_shop_days`` keeps each day's per-shop figures in the summary;
    ``database_retry_seconds`` is each window's budget for waiting out a database outage.
    """
    units = ((api, window) for window in windows for api in shop_apis)
    lock = threading.Lock()
    summary = SyncSummary(keep_shop_days=keep_shop_days)

    def work() -> None:
        while True:
            with lock:
                unit = next(units, None)
            if unit is None:
                return
            api, window = unit
            summary.add(
                sync_unit(
                    api,
                    warehouse,
                    entity,
                    window,
                    run_id=run_id,
                    database_retry_seconds=database_retry_seconds,
                )
            )

    threads = [
        threading.Thread(target=work, name=f"tiktok-sync-{i}", daemon=True)
        for i in range(max(1, min(max_workers, len(windows) * len(shop_apis))))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summary
