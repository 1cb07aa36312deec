"""Warehouse migration scripts, applied in order by Alembic."""
