"""Pull (shop, window) units concurrently, each committed whole or not at all.

A unit walks every page of one shop's search for one ``update_time`` window and writes the
pages inside one warehouse transaction, so a page that fails after the client's retries leaves
nothing half-written for that shop and window. Units run in a thread pool; the client's rate
limiter keeps each shop within its quota. A failing shop is recorded and the others go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tiktok_pipeline.client import ShopAPI, TikTokAPIError
from tiktok_pipeline.db import utcnow
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
    seconds: float = 0.0


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
    started_at, started = utcnow(), time.perf_counter()
    pages = getattr(api, entity.service).pages(
        query={"page_size": entity.page_size}, body=entity.window_filter(window.start, window.end)
    )
    try:
        with warehouse.begin() as tx:
            load_page = getattr(tx, entity.loader)
            seen: set[str] = set()
            for page in pages:
                result.pages += 1
                if result.api_total_count is None:
                    result.api_total_count = page.total_count
                if page.items:
                    result.load += load_page(shop_id, page.items, source="poll")
                    seen.update(str(item[entity.id_field]) for item in page.items)
            result.items_received = len(seen)
            tx.record_sync(
                shop_id=shop_id,
                entity=entity.name,
                window_start=window.start,
                window_end=window.end,
                status="success",
                api_total_count=result.api_total_count,
                items_received=result.items_received,
                pages=result.pages,
                result=result.load,
                run_id=run_id,
                partition_key=window.partition_key,
                started_at=started_at,
            )
    except Exception as exc:  # one shop's failure must not stop the others
        result.error = exc
        result.load = LoadResult()
        _record_failure(warehouse, entity, result, run_id, started_at)
        if not isinstance(exc, TikTokAPIError):
            logger.exception("syncing %s of shop %s failed", entity.name, shop_id)
    result.seconds = time.perf_counter() - started
    return result


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


def sync_shops(
    shop_apis: Sequence[ShopAPI] | Callable[[], Iterable[ShopAPI]],
    warehouse: Warehouse,
    entity: Entity,
    windows: Sequence[Window],
    *,
    run_id: str | None = None,
    max_workers: int = 8,
    on_result: Callable[[UnitResult], None] | None = None,
) -> list[UnitResult]:
    """Sync every (shop, window) unit, ``max_workers`` at a time; returns one result per unit.

    Units of one shop are spread over the pool so that several of its windows are in flight at
    once (the client's rate limiter paces them), and shops interleave.
    """
    apis = list(shop_apis() if callable(shop_apis) else shop_apis)
    units = [(api, window) for window in windows for api in apis]
    results: list[UnitResult] = []
    with ThreadPoolExecutor(
        max_workers=max(1, max_workers), thread_name_prefix="tiktok-sync"
    ) as pool:
        futures = [
            pool.submit(sync_unit, api, warehouse, entity, window, run_id=run_id)
            for api, window in units
        ]
        for future in futures:
            unit = future.result()
            results.append(unit)
            if on_result is not None:
                on_result(unit)
    return results


def day_start(day: date) -> datetime:
    """00:00 UTC of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
