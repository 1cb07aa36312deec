"""Materialize one day of ``tiktok_orders`` into a fresh SQLite warehouse, then query it.

Run it from the project's folder (nothing else to start, no TikTok account needed)::

    .venv/bin/python examples/materialize_one_day.py

It starts the local TikTok Shop sandbox in this process, connects its seller to a token store
in a new SQLite file as the consent callback does, runs the pipeline's own sync job for
yesterday's partition (the orders' asset checks run too, as after "Materialize" on the asset
page of ``dagster dev``) and prints what landed. The file stays in a temporary folder (its URL
is printed last); set ``TIKTOK_DATABASE_URL`` to use another database instead.
"""

import os
import tempfile
from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.definitions import defs
from tiktok_pipeline.lifecycle import connect_seller
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline.store import Store

if "TIKTOK_DATABASE_URL" not in os.environ:  # the store and the warehouse, in one database
    folder = tempfile.mkdtemp(prefix="tiktok-example-")
    os.environ["TIKTOK_DATABASE_URL"] = f"sqlite:///{folder}/tiktok.db"
url = os.environ["TIKTOK_DATABASE_URL"]

with run_sandbox(SandboxConfig(seed=7, shops=2, orders_per_shop=400, days=7)) as sandbox:
    key, secret, host = sandbox.config.app_key, sandbox.config.app_secret, sandbox.base_url
    os.environ.update(TIKTOK_APP_KEY=key, TIKTOK_APP_SECRET=secret)  # what the resources read
    os.environ.update(TIKTOK_API_BASE_URL=host, TIKTOK_AUTH_BASE_URL=host)
    with TikTokShopClient(key, secret, base_url=host, auth_base_url=host) as client:
        _, shops = connect_seller(client, Store.from_url(url, upgrade=True), sandbox.authorize())

    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    sync_job = defs().resolve_job_def("tiktok_sync_job")
    result = sync_job.execute_in_process(
        partition_key=day,  # one op writes the orders and their line items together
        asset_selection=[dg.AssetKey("tiktok_orders"), dg.AssetKey("tiktok_order_line_items")],
    )
    print(f"{day}: run {'succeeded' if result.success else 'failed'} for {len(shops)} shop(s)")

with sa.create_engine(url).connect() as connection:
    sql = "SELECT shop_id, COUNT(*) AS orders, SUM(total_amount) AS total, MIN(currency) AS cur"
    for row in connection.execute(sa.text(f"{sql} FROM tiktok_orders GROUP BY shop_id")):
        print(f"  shop {row.shop_id}: {row.orders} orders, {row.total:.2f} {row.cur} in total")
print(f"warehouse: {url}")
