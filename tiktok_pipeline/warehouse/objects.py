"""The kinds of TikTok objects the warehouse stores, each with its tables and its mapping.

Pass one to :meth:`~tiktok_pipeline.warehouse.Warehouse.load` or
:meth:`~tiktok_pipeline.warehouse.WarehouseTransaction.load`::

    with warehouse.begin() as tx:
        tx.load(ORDER_TABLES, shop_id, orders)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.warehouse import finance_mapping, schema
from tiktok_pipeline.warehouse.batch import Child
from tiktok_pipeline.warehouse.cancellation_mapping import cancellation_rows
from tiktok_pipeline.warehouse.mapping import (
    Context,
    Prepared,
    Serialized,
    order_rows,
    product_rows,
)
from tiktok_pipeline.warehouse.return_mapping import return_rows


@dataclass(frozen=True)
class ObjectTables:
    """How one kind of TikTok object is stored: its parent table (one row per object, keyed
    by ``shop_id`` and ``key``), the mapping to rows, and the child tables replaced with it.

    Attributes:
        name: the kind in the plural, as the sync ledger's ``entity`` names it (``orders``).
        label: one object, for messages (``order``).
        table: the parent table.
        key: the object's id field in TikTok's JSON (and the parent table's key column,
            unless ``column`` names another one).
        rows: maps one object (with its canonical JSON) to its parent row and child rows.
        children: the child tables.
        column: the parent table's key column when it is not named ``key`` (cancellations:
            JSON ``cancel_id``, column ``id``).
    """

    name: str
    label: str
    table: sa.Table
    key: str
    rows: Callable[[dict[str, Any], Context, Serialized], Prepared]
    children: tuple[Child, ...]
    column: str = ""

    @property
    def key_column(self) -> str:
        """The parent table's key column (besides ``shop_id``)."""
        return self.column or self.key

    @property
    def table_names(self) -> tuple[str, ...]:
        """The names of the tables a load writes, parent first."""
        return (self.table.name, *(child.table.name for child in self.children))


ORDER_TABLES = ObjectTables(
    name="orders",
    label="order",
    table=schema.orders,
    key="id",
    rows=order_rows,
    children=(Child(schema.order_line_items, "order_id"),),
)
PRODUCT_TABLES = ObjectTables(
    name="products",
    label="product",
    table=schema.products,
    key="id",
    rows=product_rows,
    children=(
        Child(schema.product_skus, "product_id"),
        Child(schema.product_sku_inventory, "product_id"),
    ),
)
RETURN_TABLES = ObjectTables(
    name="returns",
    label="return",
    table=schema.returns,
    key="return_id",
    rows=return_rows,
    children=(Child(schema.return_line_items, "return_id"),),
)
CANCELLATION_TABLES = ObjectTables(
    name="cancellations",
    label="cancellation",
    table=schema.cancellations,
    key="cancel_id",
    column="id",
    rows=cancellation_rows,
    children=(Child(schema.cancellation_line_items, "cancel_id"),),
)
STATEMENT_TABLES = ObjectTables(
    name="statements",
    label="statement",
    table=schema.statements,
    key="id",
    rows=finance_mapping.statement_rows,
    children=(),
)
STATEMENT_TRANSACTION_TABLES = ObjectTables(
    name="statement_transactions",
    label="statement transaction",
    table=schema.statement_transactions,
    key="id",
    rows=finance_mapping.statement_transaction_rows,
    children=(),
)
PAYMENT_TABLES = ObjectTables(
    name="payments",
    label="payment",
    table=schema.payments,
    key="id",
    rows=finance_mapping.payment_rows,
    children=(),
)
WITHDRAWAL_TABLES = ObjectTables(
    name="withdrawals",
    label="withdrawal",
    table=schema.withdrawals,
    key="id",
    rows=finance_mapping.withdrawal_rows,
    children=(),
)
#: A snapshot: load it with ``WarehouseTransaction.replace_snapshot``.
UNSETTLED_TABLES = ObjectTables(
    name="unsettled_transactions",
    label="unsettled transaction",
    table=schema.unsettled_transactions,
    key="id",
    rows=finance_mapping.unsettled_rows,
    children=(),
)

#: Every kind, by name (the sync ledger's ``entity`` values).
OBJECT_TABLES = {
    tables.name: tables
    for tables in (
        ORDER_TABLES,
        PRODUCT_TABLES,
        RETURN_TABLES,
        CANCELLATION_TABLES,
        STATEMENT_TABLES,
        STATEMENT_TRANSACTION_TABLES,
        PAYMENT_TABLES,
        WITHDRAWAL_TABLES,
        UNSETTLED_TABLES,
    )
}
