"""``tiktok-pipeline db upgrade``: create or migrate the database schemas."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import sqlalchemy as sa

from tiktok_pipeline.config import load_settings

if TYPE_CHECKING:
    from tiktok_pipeline.store import Store


class DatabaseUnavailable(Exception):
    """The database URL is malformed or the server does not answer (message says which)."""


def _safe(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


@contextmanager
def database_errors(url: str | None) -> Iterator[None]:
    """Turn "cannot parse the URL" and "cannot connect" into one clear DatabaseUnavailable."""
    try:
        yield
    except sa.exc.ArgumentError as exc:
        raise DatabaseUnavailable(
            f"{exc}; set --url or TIKTOK_DATABASE_URL to a URL such as "
            "sqlite:///data/tiktok.db or postgresql+psycopg2://user@host:5432/dbname"
        ) from None
    except sa.exc.OperationalError as exc:
        where = _safe(url) if url else "the database"
        from tiktok_pipeline.db import db_error_text

        raise DatabaseUnavailable(
            f"cannot use {where}: {db_error_text(exc)}; check that the server runs and the URL "
            "(--url or TIKTOK_DATABASE_URL) is right"
        ) from None


def report(error: DatabaseUnavailable) -> int:
    """Print ``error`` for the user; the exit code for it."""
    print(f"error: {error}", file=sys.stderr)
    return 1


@contextmanager
def open_store(url: str | None) -> Iterator[Store]:
    """The operational store at ``url`` (default TIKTOK_DATABASE_URL), closed afterwards.

    A bad URL or an unreachable server, also while the block runs, raises DatabaseUnavailable
    (``main`` reports it).
    """
    from tiktok_pipeline.store import Store

    url = url or load_settings().database_url
    with database_errors(url):
        store = Store.from_url(url)
        try:
            yield store
        finally:
            store.close()


def upgrade_store(url: str | None) -> str:
    """Migrate the operational store at ``url`` (default TIKTOK_DATABASE_URL); says what it did."""
    from tiktok_pipeline.db import shared_engine
    from tiktok_pipeline.store import Store

    url = url or load_settings().database_url
    with database_errors(url):
        before, after = Store(shared_engine(url)).upgrade()
    if before == after:
        return f"store: {_safe(url)} is already at revision {after}"
    return f"store: upgraded {_safe(url)} from {before or 'an empty database'} to revision {after}"


def upgrade_warehouse(url: str | None) -> str:
    """Migrate the warehouse at ``url`` (default TIKTOK_WAREHOUSE_URL); says what it did."""
    from tiktok_pipeline.warehouse import Warehouse

    url = url or load_settings().warehouse_url
    with database_errors(url):
        migrated = Warehouse.from_url(url, upgrade=False).upgrade()
    state = "upgraded to the latest revision" if migrated else "already at the latest revision"
    return f"warehouse: {_safe(url)} {state}"


#: Every schema `db upgrade` migrates, in order: (name, upgrade(url or None) -> message).
SCHEMAS: list[tuple[str, Callable[[str | None], str]]] = [
    ("store", upgrade_store),
    ("warehouse", upgrade_warehouse),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``db`` command group."""
    parser = subparsers.add_parser("db", help="manage the database schemas")
    commands = parser.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = commands.add_parser(
        "upgrade",
        help="create or migrate the tables (operational store and warehouse) to the newest version",
    )
    upgrade.add_argument(
        "--url",
        help="database URL for every schema (default: TIKTOK_DATABASE_URL, "
        "TIKTOK_WAREHOUSE_URL for the warehouse; else a SQLite file under ./data)",
    )
    upgrade.add_argument(
        "--only",
        choices=[name for name, _ in SCHEMAS],
        action="append",
        help="upgrade only this schema (repeatable)",
    )
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    """Upgrade each schema and print one line per schema."""
    for name, upgrade in SCHEMAS:
        if args.only and name not in args.only:
            continue
        print(upgrade(args.url))
    return 0
