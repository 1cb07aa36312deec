"""The data dictionary (docs/data-dictionary.md), generated from the table definitions.

    python -m tiktok_pipeline.warehouse.dictionary > docs/data-dictionary.md

A test fails when the file and the code disagree. The example queries below run in the
tests on SQLite and Postgres.
"""

from __future__ import annotations

import sys

import sqlalchemy as sa

from tiktok_pipeline.warehouse import schema
from tiktok_pipeline.warehouse.columns import REFUND_SUCCESS_STATUSES

#: (title, SQL) of example queries; each runs unchanged on SQLite and Postgres. Each one is
#: checked by name against the sandbox's data on both backends
#: (tiktok_pipeline_tests/test_warehouse/test_documented_queries.py): a new one needs a check.
EXAMPLE_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "Daily sales of the last 30 days (UTC days), with refunds netted out",
        """\
SELECT shop_id, day, currency, orders, units, net_sales, refunds, net_sales_after_refunds
FROM tiktok_daily_sales
WHERE days_ago < 30
ORDER BY shop_id, day, currency""",
    ),
    (
        "Best-selling SKUs of the 30 days up to the newest order (one line item = one unit)",
        """\
SELECT li.shop_id, li.sku_id, li.seller_sku, MAX(li.product_name) AS product_name,
       SUM(li.quantity) AS units, SUM(li.sale_price) AS revenue, li.currency
FROM tiktok_order_line_items AS li
JOIN tiktok_orders AS o ON o.shop_id = li.shop_id AND o.id = li.order_id
WHERE o.status NOT IN ('UNPAID', 'CANCELLED')
  AND o.create_time >= (SELECT MAX(create_time) FROM tiktok_orders) - 30 * 86400
GROUP BY li.shop_id, li.sku_id, li.seller_sku, li.currency
ORDER BY units DESC, revenue DESC, li.shop_id, li.sku_id
LIMIT 10""",
    ),
    (
        "Return rate per product: units sold and units returned",
        """\
SELECT li.shop_id, li.product_id,
       COUNT(DISTINCT li.id) AS units_sold,
       COUNT(DISTINCT rli.order_line_item_id) AS units_returned
FROM tiktok_order_line_items AS li
LEFT JOIN tiktok_return_line_items AS rli
  ON rli.shop_id = li.shop_id AND rli.order_line_item_id = li.id
GROUP BY li.shop_id, li.product_id
ORDER BY units_returned DESC, units_sold DESC, li.shop_id, li.product_id""",
    ),
    (
        "Stock per SKU and warehouse, with the product's status",
        """\
SELECT p.shop_id, p.title, p.status, s.seller_sku, i.warehouse_id, i.quantity
FROM tiktok_product_sku_inventory AS i
JOIN tiktok_product_skus AS s ON s.shop_id = i.shop_id AND s.id = i.sku_id
JOIN tiktok_products AS p ON p.shop_id = i.shop_id AND p.id = i.product_id
ORDER BY p.shop_id, p.title, s.seller_sku, i.sku_id, i.warehouse_id""",
    ),
    (
        "Synced windows where TikTok's total_count and what arrived disagree",
        """\
SELECT shop_id, entity, window_start, window_end, api_total_count, items_received,
       finished_at
FROM tiktok_sync_ledger
WHERE status = 'success' AND api_total_count <> items_received
ORDER BY finished_at DESC, id DESC""",
    ),
)

PANDAS_EXAMPLE = """\
import pandas as pd
import sqlalchemy as sa

from tiktok_pipeline.warehouse import warehouse_engine

engine = warehouse_engine()  # TIKTOK_WAREHOUSE_URL, or warehouse_engine("sqlite:///data/tiktok.db")
daily = pd.read_sql(
    sa.text("SELECT * FROM tiktok_daily_sales WHERE shop_id = :shop ORDER BY day, currency"),
    engine,
    params={"shop": "7494106055741312091"},
    parse_dates=["day"],  # a date on Postgres, text on SQLite: datetime64 on both
)
# Amounts arrive as floats on both backends (read_sql turns Decimal into float), each the
# float nearest to the exact amount; add them up in SQL, where the sums are exact.
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
  UTC text (`YYYY-MM-DD HH:MM:SS.ffffff`) on SQLite: in pandas, pass
  `parse_dates={"created_at": {"utc": True}}` to get UTC datetimes from both. TikTok's `0`
  ("not happened yet") is stored as NULL in both. Days in `tiktok_daily_sales` are UTC days;
  convert `created_at` yourself for a shop's local day.
- **Money.** Amounts are TikTok's decimal strings stored as `NUMERIC` without precision.
  Postgres keeps them exact (Python gets `Decimal`), and their sums too. SQLite has no decimal
  type: it keeps each amount as the binary float nearest to TikTok's decimal, which prints as
  that decimal (`24.99`; the package reads it back as `Decimal("24.99")`). Sums are exact on
  SQLite as well, in two ways. `tiktok_daily_sales` adds whole millionths, so its amounts are
  exact whatever client reads them (amounts of up to 6 decimal places). And every connection
  the package opens, `warehouse_engine()` and the pipeline's own, replaces SQLite's `sum`,
  `total` and `avg` with exact ones: each value counts as the decimal it prints as, and the
  result is the float nearest to the exact total (`SUM(sale_price)` gives `15710.71`, a
  `real`). Other SQLite clients (the `sqlite3` shell, Python's `sqlite3.connect`, BI tools)
  keep SQLite's float sums, off in the last digits (`15710.7099999999`): there, read the views,
  or write `ROUND(SUM(sale_price), 2)` (exact for TikTok's currencies, which have at most 2
  decimal places). Arithmetic between amounts is float arithmetic on SQLite in every client
  (`0.30 - 0.10` is `0.19999999999999998`): use the view's `net_sales_after_refunds`, or
  `ROUND(a - b, 2)`. pandas' `read_sql` turns amounts into floats on both backends (each the
  float nearest to the exact amount): sum them in SQL, not in pandas. Every amount is in the
  `currency` of its row (ISO 4217); never add amounts of different currencies. A missing or
  empty amount is NULL, not 0.
- **Opening the warehouse** from Python: `from tiktok_pipeline.warehouse import
  warehouse_engine; engine = warehouse_engine()` (`TIKTOK_WAREHOUSE_URL`, or a URL you pass)
  gives an SQLAlchemy engine for `pd.read_sql` and your own queries, with the exact sums on
  SQLite. A plain `sa.create_engine("sqlite:///...")` works but has SQLite's float sums.
- **Days.** `tiktok_daily_sales.days_ago` counts whole UTC days back from today (0 = today):
  `WHERE days_ago < 7` is the last 7 days on every backend. Do not write
  `day >= CURRENT_DATE - 7`: on SQLite `CURRENT_DATE - 7` is a number (`'2026-12-03' - 7` is
  2019), every day's text compares greater than it, and every day is kept.
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
- **Buyer data retention.** An order keeps its buyer's personal data (`recipient_address`
  name, phone, street lines, postal code; `buyer_email`, `buyer_message`, `buyer_nickname`,
  `cpf`, `cpf_name`) in `raw` until `TIKTOK_BUYER_DATA_RETENTION_DAYS` (default 90; `off`
  keeps it) after it is COMPLETED or CANCELLED (its last `update_time`): then the weekly
  `tiktok_buyer_data_retention_job` removes those keys from `raw`, maps the typed columns
  again from what is left and sets `_buyer_data_purged_at`. `tiktok-pipeline buyers purge
  --buyer-user-id ID` does the same at once for every order of one buyer (deletion
  requests). Ids (`buyer_user_id` too: TikTok's pseudonymous buyer id), amounts, statuses,
  times, line items, `region_code` and `district_info` down to the city stay, so every count
  and total is unchanged; later syncs of a purged order store it purged.
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
        + ", ".join(f"`{s}`" for s in REFUND_SUCCESS_STATUSES)
        + ". Orders count on the UTC day they were placed; UNPAID and CANCELLED orders are"
        " left out of every figure except `cancelled_orders`.",
        "",
        "## Example queries",
        "",
        "They run unchanged on SQLite and Postgres and give the same answers (a test runs each"
        " one on both against the sandbox's data).",
        "",
    ]
    for title, sql in EXAMPLE_QUERIES:
        lines += [f"### {title}", "", "```sql", sql + ";", "```", ""]
    lines += ["### In pandas", "", "```python", PANDAS_EXAMPLE.rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render_data_dictionary())
