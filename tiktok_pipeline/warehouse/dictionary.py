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
        "Payouts of the last month: payments paid in the 30 days up to the newest payout",
        """\
SELECT shop_id, currency, COUNT(*) AS payouts, SUM(amount) AS paid_out,
       SUM(reserve_amount) AS held_in_reserve
FROM tiktok_payments
WHERE status = 'PAID'
  AND paid_time > (SELECT MAX(paid_time) FROM tiktok_payments) - 30 * 86400
GROUP BY shop_id, currency
ORDER BY shop_id, currency""",
    ),
    (
        "Fees per order: the 20 settled orders that paid the most in fees and taxes",
        """\
SELECT shop_id, order_id, currency, revenue_amount, platform_commission_amount,
       transaction_fee_amount, affiliate_commission_amount, other_fees_amount, tax_amount,
       fee_tax_amount, settlement_amount, payment_id
FROM tiktok_order_settlements
ORDER BY fee_tax_amount, shop_id, order_id
LIMIT 20""",
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
- **Quantities** are integers. TikTok's 202309 order line item has no quantity field; in
  practice each line item is one unit sold, so `quantity` is 1 (a `quantity` TikTok sent
  would be used instead). `SUM(quantity)` counts units either way.
- **Text.** TikTok's empty string means "not set" and is stored as NULL.
- **`raw`** holds every field of the entity the API returned, values unchanged, including
  fields without a column, as canonical JSON text (sorted keys, no spaces: TikTok's key order
  and spacing are not kept), the text `_row_hash` is computed from.
  It is `json` on Postgres (kept as text; cast it to `jsonb` for containment operators or a
  GIN index) and JSON text on SQLite. Query it with `raw->'payment'->>'tax'` on Postgres or
  `json_extract(raw, '$.payment.tax')` on SQLite. Only the tables of whole TikTok objects
  (orders, products, returns, cancellations and the finance tables) have a `raw`: the JSON of
  a line item, SKU or return or cancellation line item is the matching element of its
  parent's array (`tiktok_orders.raw->'line_items'`, `tiktok_products.raw->'skus'`,
  `tiktok_returns.raw->'return_line_items'`,
  `tiktok_cancellations.raw->'cancel_line_items'`). For example, the JSON of every line item
  with the order's `update_time`, on Postgres:
  `SELECT o.shop_id, o.id AS order_id, o.update_time, li AS line_item FROM tiktok_orders o
  CROSS JOIN json_array_elements(o.raw->'line_items') AS li` (add `WHERE li->>'id' = ...`
  for one of them); on SQLite, `json_each(o.raw, '$.line_items')` gives them in `value`.
- **`_row_hash`** is the sha256 of the entity's canonical JSON. **`_synced_at`** is when the
  pipeline last wrote the row (UTC); it does not move when a sync finds identical data.
  **`_source`** says what wrote the row last: `poll` (a scheduled or backfill sync of a time
  window, the source of truth) or `webhook` (a refresh triggered by a TikTok push).
- **Newest wins.** A stored order, product, return or cancellation is replaced only by a
  version with the same or a newer `update_time`; a late or replayed older payload is
  ignored. Child rows (line items, SKUs, inventory, return and cancellation line items) are
  replaced together with their parent, in the same transaction: an order that loses a line
  item loses that row. Finance objects have no `update_time`: the newest sync's version
  replaces a row whose content changed (a statement's `payment_status`, for instance).
- **Nothing is deleted** but child rows being replaced, and the rows of
  `tiktok_unsettled_transactions`, a snapshot each sync replaces (a settled order leaves it):
  TikTok does not delete orders or returns, and a product deleted on TikTok keeps its row,
  with `deleted_at` set (and `status = 'DELETED'` once a sync sees that version).
- **Buyer data retention.** An order keeps its buyer's personal data (`recipient_address`
  name, phone, street lines, postal code; `buyer_email`, `buyer_message`, `buyer_nickname`,
  `buyer_avatar`, `cpf`, `cpf_name`) in `raw` until `TIKTOK_BUYER_DATA_RETENTION_DAYS`
  (default 90; `off` keeps it) after it is COMPLETED or CANCELLED (its last `update_time`):
  then the weekly `tiktok_buyer_data_retention_job` removes those keys from `raw`, maps the
  typed columns again from what is left and sets `_buyer_data_purged_at`. `tiktok-pipeline
  buyers purge --buyer-user-id ID` does the same at once for every order of one buyer
  (deletion requests). Ids (`buyer_user_id` too: TikTok's pseudonymous buyer id), amounts, statuses,
  times, line items, `region_code` and `district_info` down to the city stay, so every count
  and total is unchanged; later syncs of a purged order store it purged.
"""


FINANCE = """\
TikTok settles an order some days after it is delivered. Every day at 00:00 UTC it issues one
**statement** per shop (`tiktok_statements`) holding the **transactions** settled the day
before (`tiktok_statement_transactions`, linked by `statement_id`): one `ORDER` transaction
per settled order and the adjustments (reimbursements, chargebacks, ...; an adjustment's
`associated_order_id` names the order it concerns). TikTok pays statements out to the
seller's bank account in **payments** (`tiktok_payments`, linked by
`tiktok_statements.payment_id`), keeping `reserve_amount` back. **Withdrawals**
(`tiktok_withdrawals`) are the movements of the seller's TikTok balance (withdrawals,
settlements, transfers, reversals). Orders delivered but not settled yet are in
`tiktok_unsettled_transactions` with estimated amounts; each sync replaces that snapshot.

Amounts are signed, in the row's `currency`: what TikTok keeps (fees, taxes, shipping costs)
is negative. They add up exactly, and the warehouse's asset checks watch the last two:

- a transaction: `settlement_amount = revenue_amount + fee_tax_amount + shipping_cost_amount
  + adjustment_amount`, where `fee_tax_amount` is the seven fee columns (`platform_commission`
  ... `fee_per_item_sold`) + `other_fees_amount` (fees TikTok adds that have no column) +
  `tax_amount` (every tax; `vat`, `gst` and `sst_amount` are parts of it). `revenue_amount`
  and `shipping_cost_amount` are likewise their breakdown columns plus
  `other_revenue_amount` / `other_shipping_cost_amount`;
- a statement: its `settlement_amount` is the sum of its transactions' `settlement_amount`;
- a payment: `amount + reserve_amount` is the sum of the `settlement_amount` of the
  statements it pays out.

**Reconciling an order to its payout.** `tiktok_order_settlements` has one row per settled
order: what it paid the seller (its ORDER transactions plus the adjustments tied to it), fee
by fee, the statement of its ORDER transaction and the payment of that statement
(`payment_id`, `payment_status`, `paid_at`). Join it to `tiktok_orders` on
`(shop_id, order_id)` to set the buyer's payment beside the seller's settlement; follow
`payment_id` to `tiktok_payments` for the bank payout. An order without a row is not settled
yet: its estimate is in `tiktok_unsettled_transactions`.
"""

TABLE_ORDER = (
    "tiktok_orders",
    "tiktok_order_line_items",
    "tiktok_products",
    "tiktok_product_skus",
    "tiktok_product_sku_inventory",
    "tiktok_returns",
    "tiktok_return_line_items",
    "tiktok_cancellations",
    "tiktok_cancellation_line_items",
    "tiktok_sync_ledger",
)
FINANCE_TABLES = (
    "tiktok_statements",
    "tiktok_statement_transactions",
    "tiktok_payments",
    "tiktok_withdrawals",
    "tiktok_unsettled_transactions",
)


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
    for name in TABLE_ORDER:
        lines += _table_section(schema.TABLES[name])
    lines += ["## Finance", "", FINANCE]
    for name in FINANCE_TABLES:
        lines += _table_section(schema.TABLES[name])
    lines += ["## Views", ""]
    lines += _table_section(schema.order_settlements, is_view=True)
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
