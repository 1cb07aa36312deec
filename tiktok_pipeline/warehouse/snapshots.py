"""Tables that hold a snapshot (``tiktok_unsettled_transactions``): each sync replaces a
shop's rows with the complete list it fetched."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.warehouse import loader
from tiktok_pipeline.warehouse.mapping import entity_id
from tiktok_pipeline.warehouse.objects import ObjectTables
from tiktok_pipeline.warehouse.result import LoadResult

#: Ids per DELETE statement (far below the backends' limits on bound parameters).
_DELETE_BATCH = 1000


def replace_shop_rows(
    connection: sa.Connection,
    spec: ObjectTables,
    shop_id: str,
    objects: Iterable[Any],
    *,
    source: str,
    synced_at: datetime,
) -> LoadResult:
    """Makes ``objects`` the shop's complete set of rows in ``spec``'s tables, on the
    caller's connection and in its transaction (so atomically, no commit).

    Loads them as :func:`~tiktok_pipeline.warehouse.loader.load` does (unchanged rows are
    not written), then deletes the shop's stored rows whose id is not among them (with their
    children). The parent table's ``deleted`` count says how many left; an empty list
    empties the shop's rows.
    """
    objects = list(objects)
    result = loader.load(connection, spec, shop_id, objects, source=source, synced_at=synced_at)
    wanted = {entity_id(data, spec.key, spec.label) for data in objects}
    table = spec.table
    key_column = table.c[spec.key_column]
    stored = connection.execute(sa.select(key_column).where(table.c.shop_id == shop_id))
    gone = sorted(key for key in stored.scalars() if key not in wanted)
    deleted = dict.fromkeys(spec.table_names, 0)
    for start in range(0, len(gone), _DELETE_BATCH):
        chunk = gone[start : start + _DELETE_BATCH]
        for child in spec.children:
            deleted[child.table.name] += _delete(
                connection, child.table, child.table.c[child.parent_column], shop_id, chunk
            )
        deleted[table.name] += _delete(connection, table, key_column, shop_id, chunk)
    counts = {
        name: replace(result.counts(name), deleted=result.counts(name).deleted + deleted[name])
        for name in spec.table_names
    }
    return LoadResult(counts, result.changed_ids)


def _delete(
    connection: sa.Connection, table: sa.Table, column: sa.Column, shop_id: str, keys: list[str]
) -> int:
    result = connection.execute(
        sa.delete(table).where(table.c.shop_id == shop_id, column.in_(keys))
    )
    return max(result.rowcount or 0, 0)
