"""Alembic environment of the warehouse (see ``db.run_alembic_environment``)."""

from tiktok_pipeline.config import load_settings
from tiktok_pipeline.db import run_alembic_environment
from tiktok_pipeline.warehouse.migrate import VERSION_TABLE
from tiktok_pipeline.warehouse.schema import metadata

run_alembic_environment(metadata, VERSION_TABLE, lambda: load_settings().warehouse_url)
