"""Marking stored products deleted when TikTok says they are gone but sends no payload.

A product whose status is ``DELETED`` gets ``deleted_at`` through its mapping
(:func:`~tiktok_pipeline.warehouse.mapping.product_rows`). When Get Product instead answers
that the product does not exist, there is nothing to map: :func:`mark_products_deleted` keeps
the stored rows (orders still refer to them) and dates their deletion.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from tiktok_pipeline.warehouse import schema

#: Ids per statement: well under SQLite's and Postgres' bound-parameter limits.
IDS_PER_STATEMENT = 500


def mark_products_deleted(
    connection: sa.Connection, shop_id: str, product_ids: Iterable[str], at: datetime
) -> dict[str, int]:
    """Set ``deleted_at`` = ``at`` on the shop's products ``product_ids`` and on their SKUs,
    where it is not set yet (a deletion already recorded keeps its first date).

    Products not stored are ignored. Returns the rows marked per table
    (``tiktok_products``, ``tiktok_product_skus``).
    """
    if at.tzinfo is None:
        raise ValueError(f"at must be an aware UTC datetime, got {at!r}")
    ids = sorted(set(product_ids))
    counts = {schema.products.name: 0, schema.product_skus.name: 0}
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        chunk = ids[start : start + IDS_PER_STATEMENT]
        for table, id_column in (
            (schema.products, schema.products.c.id),
            (schema.product_skus, schema.product_skus.c.product_id),
        ):
            result = connection.execute(
                sa.update(table)
                .where(
                    table.c.shop_id == shop_id,
                    id_column.in_(chunk),
                    table.c.deleted_at.is_(None),
                )
                .values(deleted_at=at)
            )
            counts[table.name] += result.rowcount
    return counts
