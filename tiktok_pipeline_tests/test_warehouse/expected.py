"""What the documented queries must answer, computed with Decimal from TikTok's JSON.

Independent of the warehouse's SQL: the sandbox's objects in, plain Python figures out. Also
the helpers that bring SQLite's and Postgres's answers to one comparable form.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from tiktok_pipeline import db
from tiktok_pipeline_tests.conftest import POSTGRES_ADMIN_URL

#: Return statuses whose refund counts in tiktok_daily_sales (as the data dictionary says).
REFUND_SUCCESS = (
    "RETURN_OR_REFUND_REQUEST_SUCCESS",
    "RETURN_OR_REFUND_REQUEST_COMPLETE",
    "REPLACEMENT_REQUEST_REFUND_SUCCESS",
)
NOT_COUNTED = ("UNPAID", "CANCELLED")
_MONEY = {
    "gross_merchandise_value": "original_total_product_price",
    "seller_discounts": "seller_discount",
    "platform_discounts": "platform_discount",
    "net_sales": "sub_total",
    "shipping_fees": "shipping_fee",
    "taxes": "tax",
}
_TIMES = ("window_start", "window_end", "finished_at", "created_at")


def today() -> date:
    """Today, UTC."""
    return datetime.now(UTC).date()


def _utc_day(seconds: int) -> date:
    return datetime.fromtimestamp(seconds, UTC).date()


def _amount(value: Any) -> Decimal:
    return Decimal(value) if value not in (None, "") else Decimal(0)


def daily_facts(orders: Iterable[dict], returns: Iterable[dict]) -> dict[tuple, dict]:
    """(UTC day, shop, currency) -> the figures tiktok_daily_sales documents."""
    facts: dict[tuple, dict] = defaultdict(
        lambda: (
            {"orders": 0, "cancelled_orders": 0, "units": 0, "refunds": Decimal(0)}
            | {name: Decimal(0) for name in _MONEY}
        )
    )
    for order in orders:
        payment = order["payment"]
        row = facts[_utc_day(order["create_time"]), order["_shop_id"], payment["currency"]]
        row["cancelled_orders"] += order["status"] == "CANCELLED"
        if order["status"] in NOT_COUNTED:
            continue
        row["orders"] += 1
        row["units"] += len(order["line_items"])
        for name, field in _MONEY.items():
            row[name] += _amount(payment.get(field))
    for ret in returns:
        if ret["return_status"] in REFUND_SUCCESS:
            refund = ret["refund_amount"]
            key = (_utc_day(ret["create_time"]), ret["_shop_id"], refund["currency"])
            facts[key]["refunds"] += _amount(refund.get("refund_total"))
    return dict(facts)


def _counted_items(orders: Iterable[dict]) -> Iterator[dict]:
    for order in orders:
        if order["status"] not in NOT_COUNTED:
            for item in order["line_items"]:
                yield {**item, "_shop_id": order["_shop_id"]}


def sku_sales(orders: Iterable[dict], key: tuple[str, ...]) -> list[tuple[tuple, tuple]]:
    """(key, (units, revenue)) of counted orders' line items, best-selling first."""
    groups: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    for item in _counted_items(orders):
        group = groups[tuple(item.get(k) or None for k in key)]
        group[0] += item.get("quantity", 1)
        group[1] += _amount(item["sale_price"])
    ranked = sorted(groups.items(), key=lambda g: (-g[1][0], -g[1][1], g[0]))
    return [(k, (units, revenue)) for k, (units, revenue) in ranked]


def max_product_names(orders: Iterable[dict]) -> dict[tuple[str, str], str]:
    """(shop, sku id) -> the greatest product name on counted orders' line items."""
    names: dict[tuple[str, str], str] = {}
    for item in _counted_items(orders):
        key = (item["_shop_id"], item["sku_id"])
        names[key] = max(names.get(key, ""), item["product_name"])
    return names


def units_sold_and_returned(orders: Iterable[dict], returns: Iterable[dict]) -> list[dict]:
    """Per (shop, product): line items sold and those with a return line, most returned first."""
    returned = {
        (ret["_shop_id"], line["order_line_item_id"])
        for ret in returns
        for line in ret["return_line_items"]
    }
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for order in orders:
        for item in order["line_items"]:
            group = counts[order["_shop_id"], item["product_id"]]
            group[0] += 1
            group[1] += (order["_shop_id"], item["id"]) in returned
    ranked = sorted(counts.items(), key=lambda c: (-c[1][1], -c[1][0], c[0]))
    return [
        {"shop_id": s, "product_id": p, "units_sold": sold, "units_returned": back}
        for (s, p), (sold, back) in ranked
    ]


def exact(value: Any) -> Any:
    """A number as the exact decimal it stands for (a float as the decimal it prints as)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def exact_sum(values: Iterable[Any]) -> Decimal:
    """The exact sum of amounts as pandas holds them (Decimal or float)."""
    return sum((Decimal(exact(v)) for v in values), Decimal(0))


def day(value: date | str) -> date:
    """A view's day: a date on Postgres, `YYYY-MM-DD` text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _time(value: datetime | str) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def normalized(rows: list[dict]) -> list[dict]:
    """Rows with days as dates, times as aware UTC datetimes and floats as exact decimals."""
    out = []
    for row in rows:
        clean = {}
        for name, value in row.items():
            if value is not None and name == "day":
                value = day(value)
            elif value is not None and name in _TIMES:
                value = _time(value)
            clean[name] = exact(value)
        out.append(clean)
    return out


def comparable(answer: Any) -> Any:
    """An example's answer in a form equal on both backends when the answers agree."""
    if isinstance(answer, list):
        return normalized(answer)
    frames = {k: v for k, v in answer.items() if isinstance(v, pd.DataFrame)}
    return {
        name: (
            [_dtype(t) for t in frame.dtypes],
            normalized([{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]),
        )
        for name, frame in frames.items()
    }


def _dtype(dtype: Any) -> str:
    """A column's type without the datetime resolution (seconds or microseconds)."""
    return re.sub(r"datetime64\[\w+", "datetime64[", str(dtype))


def _plain(value: Any) -> Any:
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new Postgres database for a whole module (skips when no server answers)."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(
            f"PostgreSQL is not reachable ({type(exc.orig).__name__}); set TIKTOK_TEST_POSTGRES_URL"
        )
    name = f"tiktok_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        engine = db._engines.pop(url, None)
        if engine is not None:
            engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
