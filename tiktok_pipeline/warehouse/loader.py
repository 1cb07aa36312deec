"""The bulk loader: upsert parents where newer, replace their children, count what happened.

1. Check every object has an id; keep one per id (the newest update_time); sort by id so
   that concurrent loads take row locks in the same order.
2. Read the stored update_time and hash of every id (one SELECT per 1,000 ids), and which
   stored orders had their buyer data purged: those are stored without it again
   (:mod:`~tiktok_pipeline.warehouse.retention`).
3. Per batch of 1,000: serialize each object canonically and hash it (the text is also its
   ``raw``), then classify it: unchanged (same hash: nothing is written, not even
   ``_synced_at``), stale (older than the stored version: ignored), new (no stored version)
   or changed (same or newer update_time, other content; for a table without update_time,
   such as the finance tables, any other content). Only new and changed objects are
   mapped to rows and packed for the driver.
4. The backend's writer (see :mod:`~tiktok_pipeline.warehouse.writers`) writes them so that
   not even a concurrent writer can make a row go back in time, deletes the children of the
   parents it replaced and inserts the children of the parents it wrote.

Step 4 of one batch runs in a writer thread while step 3 of the next one runs. Everything
uses the caller's connection, inside the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.warehouse import retention
from tiktok_pipeline.warehouse.batch import Batch, Writer, child_rows
from tiktok_pipeline.warehouse.buyer_data import without_buyer_data
from tiktok_pipeline.warehouse.convert import BadValue
from tiktok_pipeline.warehouse.mapping import (
    Context,
    Prepared,
    entity_id,
    serialize,
    update_time,
)
from tiktok_pipeline.warehouse.objects import ObjectTables
from tiktok_pipeline.warehouse.result import LoadResult, TableCounts
from tiktok_pipeline.warehouse.writers import writer_for

logger = logging.getLogger(__name__)

#: Parents per SELECT / write round: large enough to amortise round trips, small enough to
#: keep memory flat and the key SELECT's bound parameters far below the backends' limits.
BATCH_SIZE = 1000


@dataclass(slots=True)
class Incoming:
    """One object of the input: its id, update_time, position and JSON object."""

    key: str
    update_time: int | None
    index: int
    data: dict[str, Any] | None


def newer_or_equal(candidate: int | None, current: int | None) -> bool:
    """True when an object with ``candidate`` update_time may replace one with ``current``.

    A missing update_time is older than any known one.
    """
    if current is None:
        return True
    return candidate is not None and candidate >= current


def _error(spec: ObjectTables, shop_id: str, index: int, data: Any, exc: Exception) -> ValueError:
    known_id = data.get(spec.key) if isinstance(data, dict) else None
    which = f"{spec.label} {known_id!r}" if known_id else f"{spec.label} at position {index}"
    return ValueError(
        f"cannot load {which} of shop {shop_id!r}: {exc}. Loading {spec.name} takes "
        f"{spec.name} exactly as TikTok's API returns them, each with its {spec.key!r}."
    )


def collect(spec: ObjectTables, shop_id: str, objects: Iterable[Any]) -> list[Incoming]:
    """Checks every object has an id and keeps one per id: the newest (the last on a tie).

    Returns them sorted by id.
    """
    if isinstance(objects, dict | str | bytes):
        raise TypeError(
            f"loading {spec.name} takes a list of {spec.name} (JSON objects), "
            f"not a {type(objects).__name__}"
        )
    newest: dict[str, Incoming] = {}
    for index, data in enumerate(objects):
        try:
            key = entity_id(data, spec.key, spec.label)
            updated = update_time(data)
        except BadValue as exc:
            raise _error(spec, shop_id, index, data, exc) from None
        current = newest.get(key)
        if current is None or newer_or_equal(updated, current.update_time):
            newest[key] = Incoming(key, updated, index, data)
    # Every writer takes its row locks in key order, so two concurrent loads of overlapping
    # objects wait for each other instead of deadlocking.
    return sorted(newest.values(), key=_by_key)


def _by_key(item: Incoming) -> str:
    return item.key


class _Counts:
    """What a load did so far; only the loading thread updates it."""

    def __init__(self, spec: ObjectTables) -> None:
        self.inserted = self.updated = self.unchanged = self.stale = 0
        self.children = {child.table.name: [0, 0] for child in spec.children}
        self.changed: list[str] = []

    def add(self, outcome: _Outcome) -> None:
        self.inserted += outcome.inserted
        self.updated += outcome.updated
        self.unchanged += outcome.unchanged
        self.stale += outcome.stale
        self.changed.extend(outcome.changed)
        for name, (inserted, deleted) in outcome.children.items():
            self.children[name][0] += inserted
            self.children[name][1] += deleted

    def result(self, spec: ObjectTables) -> LoadResult:
        tables = {
            spec.table.name: TableCounts(self.inserted, self.updated, self.unchanged, self.stale)
        }
        for name, (inserted, deleted) in self.children.items():
            tables[name] = TableCounts(inserted=inserted, deleted=deleted)
        return LoadResult(tables, self.changed)


@dataclass
class _Outcome:
    """What writing one batch did (returned by the writer thread, added up by the loader)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    changed: list[str] = field(default_factory=list)
    children: dict[str, tuple[int, int]] = field(default_factory=dict)  # (inserted, deleted)


def load(
    connection: sa.Connection,
    spec: ObjectTables,
    shop_id: str,
    objects: Iterable[Any],
    *,
    source: str,
    synced_at: datetime,
) -> LoadResult:
    """Loads ``objects`` of one shop into the spec's tables on ``connection`` (no commit)."""
    ctx = Context(shop_id=shop_id, synced_at=synced_at, source=source)
    incoming = collect(spec, shop_id, objects)
    counts = _Counts(spec)
    if incoming:
        writer = writer_for(connection, ctx)
        writer.lock()
        batches = [incoming[s : s + BATCH_SIZE] for s in range(0, len(incoming), BATCH_SIZE)]
        stored: dict[str, tuple[int | None, str]] = {}
        for batch in batches:
            keys = [i.key for i in batch]
            stored.update(writer.stored_versions(spec.table, spec.key_column, keys))
        # Orders whose buyer data was purged are stored purged again (see retention.py).
        purged = retention.purged_keys(connection, spec.table, shop_id, list(stored))
        plans = (_plan(spec, ctx, writer, batch, stored, purged, counts) for batch in batches)

        def write(plan: Batch) -> _Outcome:
            return _write(writer, spec, ctx, plan)

        if len(batches) == 1:
            for plan in plans:
                counts.add(write(plan))
        else:
            for outcome in _pipelined(plans, write):
                counts.add(outcome)
    result = counts.result(spec)
    logger.debug("loaded %s of shop %s: %s", spec.name, shop_id, result)
    return result


def _pipelined(plans: Iterator[Batch], write: Callable[[Batch], _Outcome]) -> list[_Outcome]:
    """Writes each plan in a worker thread while the next one is being prepared.

    The database drivers release the GIL while the server works, so Python's share of the
    next batch runs meanwhile. One write at a time, in order, on the caller's connection;
    the connection is never used by both threads at once (the main thread only prepares).
    """
    outcomes: list[_Outcome] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="warehouse-writer") as pool:
        pending: Future | None = None
        for plan in plans:
            if pending is not None:
                outcomes.append(pending.result())
            pending = pool.submit(write, plan)
        if pending is not None:
            outcomes.append(pending.result())
    return outcomes


def _plan(
    spec: ObjectTables,
    ctx: Context,
    writer: Writer,
    batch: list[Incoming],
    stored: dict[str, tuple[int | None, str]],
    purged: dict[str, datetime],
    counts: _Counts,
) -> Batch:
    """Classifies a batch against the stored versions; maps and packs what must be written."""
    parents: list[Prepared] = []
    new: set[str] = set()
    for item in batch:
        data, item.data = item.data, None  # free memory as the load goes on
        assert data is not None, "each item is planned once"
        try:
            if purged and item.key in purged:
                data = without_buyer_data(data)
            serialized = serialize(data)
            version = stored.get(item.key)
            if version is not None and version[1] == serialized.digest:
                counts.unchanged += 1
            elif version is not None and not newer_or_equal(item.update_time, version[0]):
                counts.stale += 1
            else:
                parents.append(spec.rows(data, ctx, serialized))
                if purged and item.key in purged:
                    parents[-1].row[retention.PURGED_AT] = purged[item.key]
                if version is None:
                    new.add(item.key)
        except BadValue as exc:
            raise _error(spec, ctx.shop_id, item.index, data, exc) from None
    children = {}
    if parents:
        for child in spec.children:
            rows = child_rows(child.table, parents)
            children[child.table.name] = (writer.pack(child.table, rows), len(rows))
    packed = writer.pack(spec.table, [p.row for p in parents]) if parents else None
    return Batch(parents, new, packed, children)


def _write(writer: Writer, spec: ObjectTables, ctx: Context, batch: Batch) -> _Outcome:
    """Writes one planned batch: parents, then the children of those actually written."""
    outcome = _Outcome()
    if not batch.parents:
        return outcome
    written = writer.write(spec.table, spec.key_column, spec.children, batch)
    outcome.inserted, outcome.updated = len(written.inserted), len(written.updated)
    outcome.changed = written.inserted + written.updated
    outcome.children = written.children
    if written.lost:
        _recount_lost_races(writer, spec, ctx, written.lost, outcome)
    return outcome


def _recount_lost_races(
    writer: Writer, spec: ObjectTables, ctx: Context, lost: list[Prepared], outcome: _Outcome
) -> None:
    """Counts rows another transaction wrote first (between our SELECT and our upsert).

    Its version won because it is newer or identical: ours counts as stale or unchanged.
    """
    now_stored = writer.stored_versions(spec.table, spec.key_column, [p.key for p in lost])
    for prepared in lost:
        version = now_stored.get(prepared.key)
        if version is not None and version[1] == prepared.row["_row_hash"]:
            outcome.unchanged += 1
        else:
            outcome.stale += 1
    logger.info(
        "%d %s of shop %s were written by another transaction meanwhile; kept their versions",
        len(lost),
        spec.name,
        ctx.shop_id,
    )
