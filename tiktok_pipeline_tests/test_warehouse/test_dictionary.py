"""The data dictionary, Dagster's column schema and the database agree.

The dictionary's example queries are run and checked in test_documented_queries.py.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tiktok_pipeline.warehouse import Warehouse, schema
from tiktok_pipeline.warehouse.dictionary import render_data_dictionary

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def test_docs_file_is_up_to_date():
    assert DOCS.read_text(encoding="utf-8") == render_data_dictionary(), (
        "docs/data-dictionary.md is out of date: run "
        "`python -m tiktok_pipeline.warehouse.dictionary > docs/data-dictionary.md`"
    )


def test_every_column_is_described():
    names = [*schema.TABLES, *schema.VIEWS]
    assert "tiktok_daily_sales" in names and "tiktok_order_settlements" in names
    assert len(names) == 17
    for name in names:
        described = Warehouse.table_schema(name)
        assert [c for c, _, _ in described] == [c.name for c in schema.relation(name).columns]
        assert all(description and type_name for _, type_name, description in described), name


def test_view_description_matches_the_database_view(warehouse: Warehouse):
    with warehouse.engine.connect() as connection:
        columns = sa.inspect(connection).get_columns("tiktok_daily_sales")
    assert [c["name"] for c in columns] == [c.name for c in schema.daily_sales.columns]
