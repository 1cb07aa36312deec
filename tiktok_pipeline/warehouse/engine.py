"""The warehouse for analysts: one SQLAlchemy engine for SQL, pandas and notebooks."""

from __future__ import annotations

import sqlalchemy as sa

from tiktok_pipeline.config import load_settings
from tiktok_pipeline.db import shared_engine


def warehouse_engine(url: str | None = None) -> sa.Engine:
    """An SQLAlchemy engine on the warehouse, for ``pd.read_sql`` and your own queries.

    ``url`` defaults to ``TIKTOK_WAREHOUSE_URL`` (else the operational database: the SQLite
    file ``./data/tiktok.db`` unless configured). It is the engine the pipeline itself uses, so
    on SQLite every connection sums money exactly (``sum``, ``total`` and ``avg`` give the
    float nearest to the exact decimal total: ``15710.71``, not ``15710.7099999999``) and
    waits for the pipeline's writes instead of failing with "database is locked". One engine
    per URL per process; nothing is created or migrated.

        from tiktok_pipeline.warehouse import warehouse_engine
        sales = pd.read_sql("SELECT * FROM tiktok_daily_sales", warehouse_engine(),
                            parse_dates=["day"])
    """
    return shared_engine(url if url is not None else load_settings().warehouse_url)
