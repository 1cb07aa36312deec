"""A sandbox, an authorized store and the environment the Dagster definitions read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.config import sqlite_url
from tiktok_pipeline.lifecycle import connect_seller
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline.warehouse import Warehouse

#: The sandbox's data ends here (00:00 UTC); its clock stands still at this moment.
ANCHOR = int(datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def day_key(days_before_anchor: int) -> str:
    """The partition key of a day before the anchor."""
    return (
        (datetime.fromtimestamp(ANCHOR, UTC) - timedelta(days=days_before_anchor))
        .date()
        .isoformat()
    )


@pytest.fixture(scope="module")
def sandbox():
    """Two sellers with one shop each, 20 days of history, a frozen clock."""
    config = SandboxConfig(
        seed=3,
        sellers=2,
        shops=2,
        orders_per_shop=600,
        products_per_shop=40,
        days=20,
        anchor=ANCHOR,
        frozen_clock=True,
        return_every=5,
    )
    with run_sandbox(config) as running:
        yield running


@pytest.fixture
def database(request, tmp_path) -> str:
    """One database for the store and the warehouse: SQLite, or Postgres when parametrized."""
    if getattr(request, "param", "sqlite") == "postgres":
        return request.getfixturevalue("postgres_url")
    return sqlite_url(tmp_path / "tiktok.db")


@pytest.fixture
def environment(sandbox, database, monkeypatch) -> dict[str, str]:
    """The variables the definitions' resources read at launch."""
    env = {
        "TIKTOK_APP_KEY": sandbox.config.app_key,
        "TIKTOK_APP_SECRET": sandbox.config.app_secret,
        "TIKTOK_API_BASE_URL": sandbox.base_url,
        "TIKTOK_AUTH_BASE_URL": sandbox.base_url,
        "TIKTOK_DATABASE_URL": database,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def authorize_seller(sandbox, store: Store, open_id: str | None = None) -> list[str]:
    """Connect a sandbox seller as the seller callback does; returns its shop ids."""
    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
    )
    _, shops = connect_seller(client, store, sandbox.authorize(open_id))
    return [shop.id for shop in shops]


@pytest.fixture
def store(environment, database) -> Store:
    """The operational store with the first seller authorized."""
    made = Store.from_url(database, upgrade=True)
    yield made
    made.close()


@pytest.fixture
def warehouse(environment, database) -> Warehouse:
    """The warehouse in the same database."""
    return Warehouse.from_url(database, upgrade=True)


@pytest.fixture
def instance():
    """A real, temporary Dagster instance."""
    with dg.instance_for_test() as made:
        yield made


@pytest.fixture
def defs(environment) -> dg.Definitions:
    """The project's Definitions, resolved as `dagster dev` would."""
    from tiktok_pipeline.definitions import defs as load

    return load()
