"""Migrations match the metadata; servers must be upgraded explicitly, SQLite upgrades itself."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from tiktok_pipeline import db
from tiktok_pipeline.config import ConfigurationError
from tiktok_pipeline.store import Store
from tiktok_pipeline.store.schema import VERSION_TABLE, metadata
from tiktok_pipeline.store.store import MIGRATIONS, head_revision

STORE_TABLES = {
    "tiktok_authorizations",
    "tiktok_shops",
    "tiktok_requests",
    "tiktok_webhooks",
    "tiktok_event_webhooks",
    "tiktok_consent_states",
    "tiktok_rate_limits",
}


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_migrations_match_the_metadata(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "version_table": VERSION_TABLE,
                "include_name": lambda name, type_, parents: (
                    type_ != "table" or name != VERSION_TABLE
                ),
            },
        )
        diff = compare_metadata(context, metadata)

    assert diff == []
    assert _tables(store.engine) == STORE_TABLES | {VERSION_TABLE}


def test_downgrade_removes_the_tables(store: Store) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["version_table"] = VERSION_TABLE
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")

    assert _tables(store.engine) == {VERSION_TABLE}
    store.upgrade()
    assert _tables(store.engine) == STORE_TABLES | {VERSION_TABLE}


def test_unmigrated_postgres_asks_for_db_upgrade(postgres_url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"run `tiktok-pipeline db upgrade`"):
        Store.from_url(postgres_url)

    before, after = Store(db.shared_engine(postgres_url)).upgrade()

    assert (before, after) == (None, head_revision())
    assert Store.from_url(postgres_url).tokens.list_shops() == []


def test_unknown_newer_revision_says_to_upgrade_the_package(postgres_url: str) -> None:
    store = Store(db.shared_engine(postgres_url))
    store.upgrade()
    with store.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))

    with pytest.raises(ConfigurationError, match="upgrade tiktok-pipeline"):
        Store.from_url(postgres_url)


def test_sqlite_upgrades_itself_on_first_use(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'tiktok.db'}"

    with pytest.raises(ConfigurationError, match="db upgrade"):
        Store.from_url(url, upgrade=False)
    store = Store.from_url(url)

    assert _tables(store.engine) == STORE_TABLES | {VERSION_TABLE}
    assert Store.from_url(url, upgrade=False).tokens.list_authorizations() == []


def test_upgrade_with_an_explicit_url_ignores_unrelated_bad_settings(tmp_path, monkeypatch) -> None:
    # The migrations get their connection: the settings (here invalid) are never read.
    monkeypatch.setenv("TIKTOK_PUBLIC_URL", "notaurl")
    store = Store.from_url(f"sqlite:///{tmp_path / 'x.db'}")
    assert _tables(store.engine) == STORE_TABLES | {VERSION_TABLE}


def test_default_url_comes_from_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TIKTOK_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    store = Store.from_url()
    assert store.engine.url.database == str(tmp_path / "env.db")
    assert (tmp_path / "env.db").exists()


def test_concurrent_first_use_of_a_sqlite_file(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            barrier.wait(timeout=10)
            Store.from_url(url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert _tables(db.shared_engine(url)) == STORE_TABLES | {VERSION_TABLE}
