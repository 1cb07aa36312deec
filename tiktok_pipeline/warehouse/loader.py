"""The bulk loader: upsert parents where newer, replace their children, count what happened.

1. Check every entity has an id; keep one per id (the newest update_time); sort by id so
   that concurrent loads take row locks in the same order.
2. Read the stored update_time and hash of every id (one SELECT per 1,000 ids).
3. Per batch of 1,000: serialize each entity canonically and hash it (the text is also its
   ``raw``), then classify it: unchanged (same hash: nothing is written, not even
   ``_synced_at``), stale (older than the stored version: ignored), new or updated (same
   or newer update_time, other content). Only new and updated entities are mapped to rows.
4. Write them with a guarded upsert (``ON CONFLICT DO UPDATE ... WHERE stored.update_time
   <= excluded.update_time``, so even a concurrent writer cannot make a row go back in
   time), delete the children of the parents written and insert their new children.

Step 4 of one batch runs in a writer thread while step 3 of the next one runs. Everything
uses the caller's connection, inside the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.warehouse import schema
from tiktok_pipeline.warehouse.convert import BadValue
from tiktok_pipeline.warehouse.mapping import (
    Context,
    Fields,
    Prepared,
    Serialized,
    entity_id,
    order_rows,
    product_rows,
    return_rows,
    serialize,
)
from tiktok_pipeline.warehouse.result import LoadResult, TableCounts
from tiktok_pipeline.warehouse.writers import Writer, writer_for

logger = logging.getLogger(__name__)

#: Parents per SELECT / write round: large enough to amortise round trips, small enough to
#: keep memory flat and the key SELECT's bound parameters far below the backends' limits.
BATCH_SIZE = 1000


@dataclass(frozen=True)
class ChildSpec:
    """A child table replaced with its parent; ``parent_column`` holds the parent's key."""

    table: sa.Table
    parent_column: str


@dataclass(frozen=True)
class EntitySpec:
    """How one TikTok entity maps to its parent table and child tables."""

    entity: str
    label: str
    table: sa.Table
    key: str
    children_field: str
    rows: Callable[[dict[str, Any], Context, Serialized], Prepared]
    children: tuple[ChildSpec, ...]


ORDERS = EntitySpec(
    "orders",
    "order",
    schema.orders,
    "id",
    "line_items",
    order_rows,
    (ChildSpec(schema.order_line_items, "order_id"),),
)
PRODUCTS = EntitySpec(
    "products",
    "product",
    schema.products,
    "id",
    "skus",
    product_rows,
    (
        ChildSpec(schema.product_skus, "product_id"),
        ChildSpec(schema.product_sku_inventory, "product_id"),
    ),
)
RETURNS = EntitySpec(
    "returns",
    "return",
    schema.returns,
    "return_id",
    "return_line_items",
    return_rows,
    (ChildSpec(schema.return_line_items, "return_id"),),
)
SPECS = {spec.entity: spec for spec in (ORDERS, PRODUCTS, RETURNS)}


@dataclass(slots=True)
class Incoming:
    """One entity of the input: its id, update_time, position and JSON object."""

    key: str
    update_time: int | None
    index: int
    data: dict[str, Any]
    serialized: Serialized | None = None


def newer_or_equal(candidate: int | None, current: int | None) -> bool:
    """True when an entity with ``candidate`` update_time may replace one with ``current``.

    A missing update_time is older than any known one.
    """
    if current is None:
        return True
    return candidate is not None and candidate >= current


def _error(spec: EntitySpec, shop_id: str, index: int, data: Any, exc: Exception) -> ValueError:
    known_id = data.get(spec.key) if isinstance(data, dict) else None
    which = f"{spec.label} {known_id!r}" if known_id else f"{spec.label} at position {index}"
    return ValueError(
        f"cannot load {which} of shop {shop_id!r}: {exc}. load_{spec.entity} takes "
        f"{spec.entity} exactly as TikTok's API returns them, each with its {spec.key!r}."
    )


def collect(spec: EntitySpec, shop_id: str, entities: Iterable[Any]) -> list[Incoming]:
    """Checks every entity has an id and keeps one per id: the newest (the last on a tie).

    Returns them sorted by id.
    """
    if isinstance(entities, dict | str | bytes):
        raise TypeError(
            f"load_{spec.entity} takes a list of {spec.entity} (JSON objects), "
            f"not a {type(entities).__name__}"
        )
    newest: dict[str, Incoming] = {}
    for index, data in enumerate(entities):
        try:
            key = entity_id(data, spec.key, spec.label)
            update_time = Fields(data).epoch("update_time")
        except BadValue as exc:
            raise _error(spec, shop_id, index, data, exc) from None
        current = newest.get(key)
        if current is None or newer_or_equal(update_time, current.update_time):
            newest[key] = Incoming(key, update_time, index, data)
    # Every writer takes its row locks in key order, so two concurrent loads of overlapping
    # entities wait for each other instead of deadlocking.
    return sorted(newest.values(), key=_by_key)


def _by_key(item: Incoming) -> str:
    return item.key


class _Counts:
    """What a load did so far; only the loading thread updates it."""

    def __init__(self, spec: EntitySpec) -> None:
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

    def result(self, spec: EntitySpec) -> LoadResult:
        tables = {
            spec.table.name: TableCounts(self.inserted, self.updated, self.unchanged, self.stale)
        }
        for name, (inserted, deleted) in self.children.items():
            tables[name] = TableCounts(inserted=inserted, deleted=deleted)
        return LoadResult(tables, self.changed)


@dataclass
class _Plan:
    """One batch, classified, mapped and packed: everything but the database work."""

    new: list[Prepared]
    changed: list[Prepared]
    parents: Any
    children: dict[str, tuple[Any, int]]  # table -> (packed rows, row count)


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
    spec: EntitySpec,
    shop_id: str,
    entities: Iterable[Any],
    *,
    source: str,
    synced_at: datetime,
) -> LoadResult:
    """Loads ``entities`` of one shop into the spec's tables on ``connection`` (no commit)."""
    ctx = Context(shop_id=shop_id, synced_at=synced_at, source=source)
    incoming = collect(spec, shop_id, entities)
    counts = _Counts(spec)
    if incoming:
        writer = writer_for(connection)
        writer.lock()
        batches = [incoming[s : s + BATCH_SIZE] for s in range(0, len(incoming), BATCH_SIZE)]
        stored: dict[str, tuple[int | None, str]] = {}
        for batch in batches:
            stored.update(_stored_versions(connection, spec, shop_id, [i.key for i in batch]))
        plans = (_plan(spec, ctx, writer, batch, stored, counts) for batch in batches)

        def write(plan: _Plan) -> _Outcome:
            return _write(connection, writer, spec, ctx, plan)

        if len(batches) == 1:
            for plan in plans:
                counts.add(write(plan))
        else:
            for outcome in _pipelined(plans, write):
                counts.add(outcome)
    result = counts.result(spec)
    logger.debug("loaded %s of shop %s: %s", spec.entity, shop_id, result)
    return result


def _pipelined(plans: Iterator[_Plan], write: Callable[[_Plan], _Outcome]) -> list[_Outcome]:
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


def _stored_versions(
    connection: sa.Connection, spec: EntitySpec, shop_id: str, keys: Sequence[str]
) -> dict[str, tuple[int | None, str]]:
    table = spec.table
    key_column = table.c[spec.key]
    query = sa.select(key_column, table.c.update_time, table.c._row_hash).where(
        table.c.shop_id == shop_id, key_column.in_(keys)
    )
    return {key: (update_time, digest) for key, update_time, digest in connection.execute(query)}


def _plan(
    spec: EntitySpec,
    ctx: Context,
    writer: Writer,
    batch: list[Incoming],
    stored: dict[str, tuple[int | None, str]],
    counts: _Counts,
) -> _Plan:
    """Classifies a batch against the stored versions; maps and packs what must be written."""
    new: list[Prepared] = []
    changed: list[Prepared] = []
    for item in batch:
        item.serialized = serialized = serialize(item.data, spec.children_field)
        version = stored.get(item.key)
        if version is not None and version[1] == serialized.digest:
            counts.unchanged += 1
        elif version is not None and not newer_or_equal(item.update_time, version[0]):
            counts.stale += 1
        else:
            try:
                prepared = spec.rows(item.data, ctx, serialized)
            except BadValue as exc:
                raise _error(spec, ctx.shop_id, item.index, item.data, exc) from None
            (new if version is None else changed).append(prepared)
        item.data = item.serialized = None  # free memory as the load goes on
    candidates = new + changed
    if not candidates:
        return _Plan(new, changed, None, {})
    parents = writer.pack_parents(spec.table, [p.row for p in candidates])
    return _Plan(new, changed, parents, _pack_children(spec, writer, candidates))


def _pack_children(
    spec: EntitySpec, writer: Writer, parents: list[Prepared]
) -> dict[str, tuple[Any, int]]:
    packed = {}
    for child in spec.children:
        rows = _child_rows(child.table, parents)
        packed[child.table.name] = (writer.pack_children(child.table, rows), len(rows))
    return packed


def _child_rows(table: sa.Table, parents: list[Prepared]) -> list[dict[str, Any]]:
    """The child rows of ``parents`` in ``table``, one per primary key (the last one)."""
    key_names = [c.name for c in table.primary_key.columns]
    unique: dict[tuple, dict[str, Any]] = {}
    for parent in parents:
        for row in parent.children[table.name]:
            unique[tuple(row[name] for name in key_names)] = row
    return list(unique.values())


def _write(
    connection: sa.Connection, writer: Writer, spec: EntitySpec, ctx: Context, plan: _Plan
) -> _Outcome:
    """Writes one planned batch: parents, then the children of those actually written."""
    candidates = plan.new + plan.changed
    outcome = _Outcome()
    if not candidates:
        return outcome
    written_keys = writer.write_parents(spec.table, spec.key, plan.parents)
    children = plan.children
    if written_keys is None:
        written = candidates
        outcome.inserted, outcome.updated = len(plan.new), len(plan.changed)
    else:
        outcome.inserted = sum(written_keys.values())
        outcome.updated = len(written_keys) - outcome.inserted
        written = candidates
        if len(written_keys) != len(candidates):
            written = _recount_lost_races(connection, spec, ctx, candidates, written_keys, outcome)
            children = _pack_children(spec, writer, written)
    if not written:
        return outcome
    outcome.changed = [p.key for p in written]
    for child in spec.children:
        name = child.table.name
        packed, count = children[name]
        deleted = writer.write_children(
            child.table, child.parent_column, ctx.shop_id, outcome.changed, packed
        )
        outcome.children[name] = (count, deleted)
    return outcome


def _recount_lost_races(
    connection: sa.Connection,
    spec: EntitySpec,
    ctx: Context,
    candidates: list[Prepared],
    written_keys: dict[str, bool],
    outcome: _Outcome,
) -> list[Prepared]:
    """Counts rows another transaction wrote first (between our SELECT and our upsert).

    Its version won because it is newer or identical: ours counts as stale or unchanged.
    """
    lost = [p for p in candidates if p.key not in written_keys]
    now_stored = _stored_versions(connection, spec, ctx.shop_id, [p.key for p in lost])
    for prepared in lost:
        version = now_stored.get(prepared.key)
        if version is not None and version[1] == prepared.row["_row_hash"]:
            outcome.unchanged += 1
        else:
            outcome.stale += 1
    logger.info(
        "%d %s of shop %s were written by another transaction meanwhile; kept their versions",
        len(lost),
        spec.entity,
        ctx.shop_id,
    )
    return [p for p in candidates if p.key in written_keys]
