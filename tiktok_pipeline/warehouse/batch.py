"""What a writer is given and gives back, and the upserts both backends run.

The loader plans a :class:`Batch` (the parents to write and their children, packed for the
driver) and a writer (:mod:`~tiktok_pipeline.warehouse.sqlite_writer` or
:mod:`~tiktok_pipeline.warehouse.postgres_writer`) reports what it really wrote in
:class:`Written`.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from tiktok_pipeline.warehouse.mapping import Prepared

Row = dict[str, Any]


@dataclass(frozen=True)
class Child:
    """A child table replaced with its parent; ``parent_column`` holds the parent's key."""

    table: sa.Table
    parent_column: str


@dataclass
class Batch:
    """Parents to write, in key order, packed, and the packed rows of all their children.

    ``new`` holds the keys of the parents that had no stored row when the load looked.
    """

    parents: list[Prepared]
    new: set[str]
    packed: Any
    children: dict[str, tuple[Any, int]]  # child table -> (packed rows, row count)


@dataclass
class Written:
    """What writing a batch did."""

    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    #: Parents another transaction wrote first (its version is newer or identical).
    lost: list[Prepared] = field(default_factory=list)
    children: dict[str, tuple[int, int]] = field(default_factory=dict)  # (inserted, deleted)


class Writer(Protocol):
    """Writes batches of one load on the caller's connection (never commits)."""

    def lock(self) -> None:
        """Makes the stored versions read next stay current until the transaction ends, if
        the backend needs that (SQLite); the writes themselves are guarded otherwise."""

    def stored_versions(
        self, table: sa.Table, key: str, keys: Sequence[str]
    ) -> dict[str, tuple[int | None, str]]:
        """``key -> (update_time, _row_hash)`` of the shop's stored rows among ``keys``."""

    def pack(self, table: sa.Table, rows: Sequence[Row]) -> Any:
        """``rows`` of ``table`` as the driver takes them (runs while the previous batch is
        being written)."""

    def write(self, table: sa.Table, key: str, children: Sequence[Child], batch: Batch) -> Written:
        """Writes the batch's parents, then replaces the children of those written."""


def child_rows(table: sa.Table, parents: Sequence[Prepared]) -> list[Row]:
    """The child rows of ``parents`` in ``table``, one per primary key (the last one)."""
    key_of = operator.itemgetter(*(c.name for c in table.primary_key.columns))
    unique: dict[Any, Row] = {}
    for parent in parents:
        for row in parent.children[table.name]:
            unique[key_of(row)] = row
    return list(unique.values())


InsertT = TypeVar("InsertT", bound=Any)


def guarded_upsert(insert: InsertT, table: sa.Table) -> InsertT:
    """``ON CONFLICT DO UPDATE`` only when the stored row is not newer and not identical.

    A table without ``update_time`` (the finance tables) has no "newer": any other content
    replaces the stored row.
    """
    excluded = insert.excluded
    changed = table.c._row_hash != excluded._row_hash
    if "update_time" in table.c:
        newer_or_equal = sa.or_(
            table.c.update_time.is_(None), table.c.update_time <= excluded.update_time
        )
        changed = sa.and_(newer_or_equal, changed)
    return insert.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={c.name: excluded[c.name] for c in table.columns if not c.primary_key},
        where=changed,
    )


def update_time_of(table: sa.Table) -> sa.ColumnElement[Any]:
    """The table's ``update_time`` column, or NULL for a table without one."""
    if "update_time" in table.c:
        return table.c.update_time
    return sa.null().label("update_time")


def replacing_upsert(insert: InsertT, table: sa.Table) -> InsertT:
    """``ON CONFLICT DO UPDATE`` always: for child rows.

    A child that moved to another parent (whose old parent did not change) would collide
    with its old row; it moves with its new parent instead.
    """
    excluded = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={c.name: excluded[c.name] for c in table.columns if not c.primary_key},
    )
