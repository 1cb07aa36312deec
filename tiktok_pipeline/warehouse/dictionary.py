"""The data dictionary (docs/data-dictionary.md), generated from the table definitions.

    python -m tiktok_pipeline.warehouse.dictionary > docs/data-dictionary.md

A test fails when the file and the code disagree. The example queries below run in the
tests on SQLite and Postgres.
"""

from __future__ import annotations

import sys

import sqlalchemy as sa

from tiktok_pipeline.warehouse import schema

#: (title, SQL) of example queries; each runs unchanged on SQLite and Postgres.
EXAMPLE_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "Daily sales of June 2024 (UTC days), with refunds netted out",
        """\
SELECT shop_id, day, currency, orders, units, net_sales, refunds,
       net_sales - refunds AS net_sales_after_refunds
FROM tiktok_daily_sales
WHERE day >= '2024-06-01' AND day < '2024-07-01'
ORDER BY shop_id, day, currency""",
    ),
    (
        "Best-selling SKUs of June 2024 (one line item = one unit)",
        """\
SELECT li.shop_id, li.sku_id, li.seller_sku, MAX(li.product_name) AS product_name,
       SUM(li.quantity) AS units, SUM(li.sale_price) AS revenue, li.currency
FROM tiktok_order_line_items AS li
JOIN tiktok_orders AS o ON o.shop_id = li.shop_id AND o.id = li.order_id
WHERE o.status NOT IN ('UNPAID', 'CANCELLED')
  AND o.create_time >= 1717200000 AND o.create_time < 1719792000  -- June 2024, UTC
GROUP BY li.shop_id, li.sku_id, li.seller_sku, li.currency
ORDER BY units DESC
LIMIT 10""",
    ),
    (
        "Return rate per product",
        """\
SELECT li.shop_id, li.product_id,
       COUNT(DISTINCT li.id) AS units_sold,
       COUNT(DISTINCT rli.order_line_item_id) AS units_returned
FROM tiktok_order_line_items AS li
LEFT JOIN tiktok_return_line_items AS rli
  ON rli.shop_id = li.shop_id AND rli.order_line_item_id = li.id
GROUP BY li.shop_id, li.product_id
ORDER BY units_returned DESC""",
    ),
    (
        "Stock per SKU and warehouse, with the product's status",
        """\
SELECT p.shop_id, p.title, p.status, s.seller_sku, i.warehouse_id, i.quantity
FROM tiktok_product_sku_inventory AS i
JOIN tiktok_product_skus AS s ON s.shop_id = i.shop_id AND s.id = i.sku_id
JOIN tiktok_products AS p ON p.shop_id = i.shop_id AND p.id = i.product_id
ORDER BY p.shop_id, p.title, s.seller_sku, i.warehouse_id""",
    ),
    (
        "Synced windows where TikTok's total_count and what arrived disagree",
        """\
SELECT shop_id, entity, window_start, window_end, api_total_count, items_received,
       finished_at
FROM tiktok_sync_ledger
WHERE status = 'success' AND api_total_count <> items_received
ORDER BY finished_at DESC""",
    ),
)

PANDAS_EXAMPLE = """\
import pandas as pd
import sqlalchemy as sa

engine = sa.create_engine(warehouse_url)  # e.g. the value of TIKTOK_WAREHOUSE_URL
daily = pd.read_sql(
    sa.text("SELECT * FROM tiktok_daily_sales WHERE shop_id = :shop ORDER BY day, currency"),
    engine,
    params={"shop": "7000714532876273420"},
)
daily["net_sales"] = daily["net_sales"].astype(float)  # Decimal on Postgres, float on SQLite
"""

INTRODUCTION = """\
# Data dictionary: the TikTok Shop warehouse

Generated from `tiktok_pipeline/warehouse/schema.py` by
`python -m tiktok_pipeline.warehouse.dictionary > docs/data-dictionary.md`; do not edit it by
hand (a test compares the two). The same descriptions are the columns' comments in Postgres
(`\\d+ tiktok_orders`) and the column schema Dagster shows for each asset.

The tables live in the warehouse database: `TIKTOK_WAREHOUSE_URL`, by default the operational
database (`TIKTOK_DATABASE_URL`, a SQLite file unless set). Create or update them with
`tiktok-pipeline db upgrade` (SQLite databases are migrated automatically).

## Conventions

- **Keys.** Every TikTok id is a string. Every table is keyed by `shop_id` plus the entity's
  id, so several shops share the tables without collisions; always join on `shop_id` too.
- **`*_time` and `*_at`.** TikTok sends times as Unix epoch seconds. Each one is kept twice:
  under TikTok's own name ending in `_time` (BIGINT seconds, exactly as sent) and as a UTC
  timestamp ending in `_at` (`create_time` -> `created_at`, `update_time` -> `updated_at`,
  `paid_time` -> `paid_at`, ...). `_at` columns are `timestamp with time zone` on Postgres and
  UTC text (`YYYY-MM-DD HH:MM:SS.ffffff`) on SQLite. TikTok's `0` ("not happened yet") is
  stored as NULL in both. Days in `tiktok_daily_sales` are UTC days; convert `created_at`
  yourself for a shop's local day.
- **Money.** Amounts are TikTok's decimal strings stored as `NUMERIC` without precision:
  exact on Postgres (Python gets `Decimal`). SQLite has no decimal type and keeps a binary
  float (about 15 significant digits), so use Postgres for accounting. Every amount is in the
  `currency` of its row (ISO 4217); never add amounts of different currencies. A missing or
  empty amount is NULL, not 0.
- **Quantities** are integers. TikTok sends one order line item per unit sold (there is no
  quantity field), so `quantity` is 1 and counting line items counts units.
- **Text.** TikTok's empty string means "not set" and is stored as NULL.
- **`raw`** is the entity exactly as the API returned it, including fields without a column:
  its canonical JSON text (sorted keys, no spaces), the text `_row_hash` is computed from.
  It is `json` on Postgres (kept as text; cast it to `jsonb` for containment operators or a
  GIN index) and JSON text on SQLite. Query it with `raw->'payment'->>'tax'` on Postgres or
  `json_extract(raw, '$.payment.tax')` on SQLite. Only orders, products and returns have a
  `raw`: the JSON of a line item, SKU or return line item is the matching element of its
  parent's array (`tiktok_orders.raw->'line_items'`, `tiktok_products.raw->'skus'`,
  `tiktok_returns.raw->'return_line_items'`). For example, the JSON of every line item
  with the order's `update_time`, on Postgres:
  `SELECT o.shop_id, o.id AS order_id, o.update_time, li AS line_item FROM tiktok_orders o
  CROSS JOIN json_array_elements(o.raw->'line_items') AS li` (add `WHERE li->>'id' = ...`
  for one of them); on SQLite, `json_each(o.raw, '$.line_items')` gives them in `value`.
- **`_row_hash`** is the sha256 of the entity's canonical JSON. **`_synced_at`** is when the
  pipeline last wrote the row (UTC); it does not move when a sync finds identical data.
  **`_source`** says what wrote the row last: `poll` (a scheduled or backfill sync of a time
  window, the source of truth) or `webhook` (a refresh triggered by a TikTok push).
- **Newest wins.** A stored order, product or return is replaced only by a version with the
  same or a newer `update_time`; a late or replayed older payload is ignored. Child rows
  (line items, SKUs, inventory, return line items) are replaced together with their parent,
  in the same transaction: an order that loses a line item loses that row.
- **Nothing is deleted** but child rows being replaced: TikTok does not delete orders or
  returns, and a product deleted on TikTok keeps its row, with `status = 'DELETED'` once a
  sync sees that version.
"""


def markdown_cell(value: object) -> str:
    """``value`` as the text of one Markdown table cell (``|`` escaped, newlines as spaces).

    Also used by the Markdown tables of the Dagster metadata.
    """
    return str(value).replace("|", "\\|").replace("\n", " ")


def _key_text(table: sa.Table) -> str:
    return ", ".join(f"`{c.name}`" for c in table.primary_key.columns)


def _table_section(table: sa.Table, *, is_view: bool = False) -> list[str]:
    kind = "View" if is_view else "Table"
    lines = [f"### `{table.name}`", "", f"{kind}. {table.comment or ''}".rstrip(), ""]
    if not is_view:
        lines.append(f"Primary key: ({_key_text(table)}).")
        indexes = sorted(
            "(" + ", ".join(c.name for c in index.columns) + ")" for index in table.indexes
        )
        if indexes:
            lines.append(f"Indexes: {', '.join(indexes)}.")
        lines.append("")
    lines += ["| Column | Type | Description |", "| --- | --- | --- |"]
    for name, type_name, description in schema.describe(table.name):
        lines.append(f"| `{name}` | {type_name} | {markdown_cell(description)} |")
    lines.append("")
    return lines


def render_data_dictionary() -> str:
    """The whole data dictionary as Markdown."""
    lines = [INTRODUCTION, "## Tables", ""]
    for name in (
        "tiktok_orders",
        "tiktok_order_line_items",
        "tiktok_products",
        "tiktok_product_skus",
        "tiktok_product_sku_inventory",
        "tiktok_returns",
        "tiktok_return_line_items",
        "tiktok_sync_ledger",
    ):
        lines += _table_section(schema.TABLES[name])
    lines += ["## Views", ""]
    lines += _table_section(schema.daily_sales, is_view=True)
    lines += [
        "`refunds` counts a return on the UTC day it was requested (`tiktok_returns.created_at`),"
        " once its `return_status` is one of "
        + ", ".join(f"`{s}`" for s in schema.REFUND_SUCCESS_STATUSES)
        + ". Orders count on the UTC day they were placed; UNPAID and CANCELLED orders are"
        " left out of every figure except `cancelled_orders`.",
        "",
        "## Example queries",
        "",
        "They run unchanged on SQLite and Postgres.",
        "",
    ]
    for title, sql in EXAMPLE_QUERIES:
        lines += [f"### {title}", "", "```sql", sql + ";", "```", ""]
    lines += ["### In pandas", "", "```python", PANDAS_EXAMPLE.rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render_data_dictionary())
