"""Alembic migrations of the warehouse (version table ``tiktok_warehouse_alembic_version``)."""
