"""What a sync run tells Dagster: each day's figures on its partition, the totals on the run.

A range run (a backfill) materializes every day of its range. Each day's materialization gets
that day's figures (:func:`day_metadata`, through ``context.add_asset_metadata`` with the
partition key), so a day shows what was synced for it, and the days add up to the run's
totals. The totals, with each shop's, go on the run as one event of its log
(:func:`report_run`), not on every partition.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import dagster as dg
from dagster._core.events import EngineEventData

from tiktok_pipeline.defs.ingestion.entities import Entity
from tiktok_pipeline.defs.ingestion.sync import DaySummary, Figures, ShopSummary, SyncSummary
from tiktok_pipeline.warehouse.dictionary import markdown_cell

#: Each day's per-shop table is kept when shops x days stays under this (a year of the 25 shops
#: of a history run; a day of 10,000 shops): beyond, the event log would grow by megabytes
#: per run, and the run's per-shop totals and the sync ledger (one row per shop and day) tell.
MAX_SHOP_DAYS = 10_000


def keeps_shop_days(shops: int, days: int) -> bool:
    """Whether each partition gets its per-shop table (see :data:`MAX_SHOP_DAYS`)."""
    return shops * days <= MAX_SHOP_DAYS


def shop_rows(shops: Mapping[str, Figures], table: str) -> list[dict]:
    """One row per shop: windows, pages, objects received and ``table``'s row counts; for a
    run's shops (:class:`ShopSummary`), the first error too."""
    rows = []
    for shop_id, shop in sorted(shops.items()):
        row = {
            "shop_id": shop_id,
            "windows": shop.windows,
            "failed_windows": shop.failed_windows,
            "pages": shop.pages,
            "received": shop.received,
            **shop.load.counts(table).as_dict(),
        }
        if isinstance(shop, ShopSummary):
            error = shop.failures[0].error if shop.failures else None
            row["error"] = f"{type(error).__name__}: {error}" if error else ""
        rows.append(row)
    return rows


def markdown_table(rows: list[dict]) -> str:
    """``rows`` as a Markdown table (Dagster renders it)."""
    if not rows:
        return "No shop was synced."
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = [markdown_cell(row[h]) for h in headers]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def day_metadata(day: DaySummary, table: str, with_shops: bool) -> dict[str, Any]:
    """The figures of one partition of ``table``: shops synced, API pages, objects received,
    the table's inserted/updated/unchanged/stale/deleted rows, where the window ended, and
    (``with_shops``) the per-shop table of the day."""
    metadata: dict[str, Any] = {
        "shops_synced": day.windows,
        "failed_shops": day.failed_windows,
        "api_pages": day.pages,
        "received": day.received,
        **day.load.counts(table).as_dict(),
    }
    if day.synced_up_to is not None:
        metadata["synced_up_to"] = day.synced_up_to.isoformat()
    if with_shops:
        metadata["shops"] = dg.MetadataValue.md(markdown_table(shop_rows(day.shops, table)))
    return metadata


def run_metadata(
    summary: SyncSummary,
    entity: Entity,
    *,
    days: int,
    shops: int,
    seconds: float,
    synced_up_to: datetime,
) -> dict[str, Any]:
    """The run's totals: days, shops, windows, pages, objects received, every table's row
    counts (``tiktok_orders.inserted``...), the duration and each shop's totals."""
    return {
        "days": days,
        "shops_synced": shops,
        "windows": summary.windows,
        "failed_windows": sum(shop.failed_windows for shop in summary.shops.values()),
        "api_pages": summary.pages,
        "received": summary.received,
        **summary.load.as_metadata(),
        "duration_seconds": round(seconds, 3),
        "synced_up_to": synced_up_to.isoformat(),
        "shops": dg.MetadataValue.md(markdown_table(shop_rows(summary.shops, entity.tables[0]))),
    }


def run_message(summary: SyncSummary, entity: Entity, days: int, shops: int) -> str:
    """One line of the run's totals for its log."""
    tables = "; ".join(
        f"{table} {counts.inserted} inserted, {counts.updated} updated, "
        f"{counts.unchanged} unchanged, {counts.stale} stale"
        + (f", {counts.deleted} deleted" if counts.deleted else "")
        for table in entity.tables
        for counts in [summary.load.counts(table)]
    )
    return (
        f"Synced {entity.name} of {days} day(s) for {shops} shop(s): {summary.pages} API "
        f"page(s), {summary.received} {entity.label} received; {tables}"
    )


def report_run(
    context: dg.AssetExecutionContext, message: str, metadata: Mapping[str, Any]
) -> None:
    """Put the run's totals on the run: one event of its log, with ``metadata`` as a table."""
    context.instance.report_engine_event(
        message,
        dagster_run=context.run,
        engine_event_data=EngineEventData(metadata=metadata),
    )


def run_totals(instance: dg.DagsterInstance, run_id: str, entity: str) -> dict[str, Any]:
    """The totals the run ``run_id`` reported for ``entity`` (:func:`report_run`), as plain
    values; empty when it reported none (e.g. it did not sync ``entity``)."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=1000
    ).records
    for record in records:
        entry = record.event_log_entry
        if entry.message.startswith(f"Synced {entity} of ") and entry.dagster_event:
            metadata = entry.dagster_event.engine_event_data.metadata
            return {name: value.value for name, value in metadata.items()}
    return {}
