"""The data dictionary, Dagster's column schema and the database agree."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from tiktok_pipeline.warehouse import (
    ORDER_TABLES,
    PRODUCT_TABLES,
    RETURN_TABLES,
    Warehouse,
    schema,
)
from tiktok_pipeline.warehouse.dictionary import (
    EXAMPLE_QUERIES,
    PANDAS_EXAMPLE,
    render_data_dictionary,
)
from tiktok_pipeline_tests.test_warehouse import factories as f
from tiktok_pipeline_tests.test_warehouse.conftest import SHOP

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def test_docs_file_is_up_to_date():
    assert DOCS.read_text(encoding="utf-8") == render_data_dictionary(), (
        "docs/data-dictionary.md is out of date: run "
        "`python -m tiktok_pipeline.warehouse.dictionary > docs/data-dictionary.md`"
    )


def test_every_column_is_described():
    names = [*schema.TABLES, *schema.VIEWS]
    assert "tiktok_daily_sales" in names and len(names) == 9
    for name in names:
        described = Warehouse.table_schema(name)
        assert [c for c, _, _ in described] == [c.name for c in schema.relation(name).columns]
        assert all(description and type_name for _, type_name, description in described), name


def test_view_description_matches_the_database_view(warehouse: Warehouse):
    with warehouse.engine.connect() as connection:
        columns = sa.inspect(connection).get_columns("tiktok_daily_sales")
    assert [c["name"] for c in columns] == [c.name for c in schema.daily_sales.columns]


def test_example_queries_run(warehouse: Warehouse):
    warehouse.load(ORDER_TABLES, SHOP, [f.order("1", create_time=1717243200), f.order("2")])
    warehouse.load(PRODUCT_TABLES, SHOP, [f.product("p")])
    warehouse.load(
        RETURN_TABLES,
        SHOP,
        [f.return_("r", order_id="1", lines=[f.return_line("r1", order_line_item_id="11")])],
    )
    results = {}
    with warehouse.engine.connect() as connection:
        for title, sql in EXAMPLE_QUERIES:
            results[title] = connection.execute(sa.text(sql)).mappings().all()
    assert results["Daily sales of June 2024 (UTC days), with refunds netted out"]
    best = results["Best-selling SKUs of June 2024 (one line item = one unit)"]
    assert best[0]["units"] == 4
    (per_product,) = results["Return rate per product"]
    assert (per_product["units_sold"], per_product["units_returned"]) == (4, 1)
    assert len(results["Stock per SKU and warehouse, with the product's status"]) == 3

    namespace = {"warehouse_url": warehouse.engine.url}
    exec(PANDAS_EXAMPLE, namespace)
    daily = namespace["daily"]
    assert isinstance(daily, pd.DataFrame)
    assert list(daily.columns) == [c.name for c in schema.daily_sales.columns]
    assert daily["net_sales"].sum() > 0
