"""The fault suite's fixtures: one real sandbox, fresh databases of the test's backend, and
the clean backfill every case compares with."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import dagster as dg
import pytest

from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline.warehouse import Warehouse
from tiktok_pipeline_tests.conftest import TEST_TOKEN_KEY
from tiktok_pipeline_tests.test_defs.conftest import ANCHOR
from tiktok_pipeline_tests.test_faults.helpers import (
    FIRST_DAY,
    LAST_DAY,
    Databases,
    Reference,
    prepare,
    received,
    run_sync,
    sandbox_environment,
    table_contents,
)


@pytest.fixture(scope="package")
def sandbox():
    """Three shops of two sellers, ten days of history (two order pages a day), a frozen clock."""
    config = SandboxConfig(
        seed=11,
        sellers=2,
        shops=3,
        orders_per_shop=1500,
        products_per_shop=120,
        days=10,
        anchor=ANCHOR,
        frozen_clock=True,
        return_every=4,
    )
    with run_sandbox(config) as running:
        yield running


@pytest.fixture(autouse=True)
def _sandbox_as_found(request) -> Iterator[None]:
    """Faults and the clock go back to how they were for the next test."""
    yield
    if "sandbox" in request.fixturenames:
        running = request.getfixturevalue("sandbox")
        running.control.clear_faults()
        running.control.reset()


@pytest.fixture
def new_database(backend, tmp_path, monkeypatch) -> Iterator[Callable[[], str]]:
    """Makes empty databases of the test's ``backend``; TIKTOK_TOKEN_KEY is set for Postgres."""
    if backend == "postgres" and not os.environ.get("TIKTOK_TOKEN_KEY"):
        monkeypatch.setenv("TIKTOK_TOKEN_KEY", TEST_TOKEN_KEY)
    databases = Databases(backend, tmp_path)
    yield databases.new
    databases.drop_all()


@pytest.fixture
def use_database(sandbox, monkeypatch) -> Iterator[Callable[[str], tuple[Store, Warehouse]]]:
    """Points the definitions at a database (as TIKTOK_DATABASE_URL does) and prepares it."""
    opened: list[Store] = []

    def use(url: str) -> tuple[Store, Warehouse]:
        for key, value in sandbox_environment(sandbox, url).items():
            monkeypatch.setenv(key, value)
        store, warehouse = prepare(sandbox, url)
        opened.append(store)
        return store, warehouse

    yield use
    for store in opened:
        store.close()


@pytest.fixture(scope="package")
def clean_backfill(sandbox, tmp_path_factory) -> Iterator[Callable[[str], Reference]]:
    """The clean backfill of each backend, run once (no faults) and shared by the cases."""
    references: dict[str, Reference] = {}
    cleanup: list[Databases] = []

    def get(backend: str) -> Reference:
        if backend not in references:
            databases = Databases(backend, tmp_path_factory.mktemp(f"clean-{backend}"))
            cleanup.append(databases)
            url = databases.new()
            with pytest.MonkeyPatch.context() as patch, dg.instance_for_test() as instance:
                if backend == "postgres" and not os.environ.get("TIKTOK_TOKEN_KEY"):
                    patch.setenv("TIKTOK_TOKEN_KEY", TEST_TOKEN_KEY)
                for key, value in sandbox_environment(sandbox, url).items():
                    patch.setenv(key, value)
                store, warehouse = prepare(sandbox, url)
                try:
                    result = run_sync(instance, FIRST_DAY, LAST_DAY)
                    assert result.success
                    references[backend] = Reference(
                        table_contents(warehouse.engine), received(warehouse.engine)
                    )
                finally:
                    store.close()
        return references[backend]

    yield get
    for databases in cleanup:
        databases.drop_all()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A real, temporary Dagster instance."""
    with dg.instance_for_test() as made:
        yield made
