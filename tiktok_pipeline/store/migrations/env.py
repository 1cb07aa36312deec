"""Alembic environment of the operational store (see ``db.run_alembic_environment``)."""

from tiktok_pipeline.config import load_settings
from tiktok_pipeline.db import run_alembic_environment
from tiktok_pipeline.store.schema import VERSION_TABLE, metadata

run_alembic_environment(metadata, VERSION_TABLE, lambda: load_settings().database_url)
