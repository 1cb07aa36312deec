"""Shared fixtures: databases (a SQLite file and a fresh Postgres database per test).

Postgres tests skip with a visible reason when no server answers; CI sets
``TIKTOK_FAIL_ON_SKIP=1`` so that any skip fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tiktok_pipeline.config import sqlite_url
from tiktok_pipeline_tests.browser import chromium_session

#: Postgres stores encrypt tokens with TIKTOK_TOKEN_KEY (SQLite ones use a key file next to
#: the database, also in the processes a test starts with a cleaned environment).
TEST_TOKEN_KEY = "p6Kx5Z0n3lV8dVb9Rr1Hq0tG2wYc4uJmE7sN1aXoL2k="

POSTGRES_ADMIN_URL = os.environ.get(
    "TIKTOK_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (``TIKTOK_FAIL_ON_SKIP=1``) a skipped test is a failed test."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("TIKTOK_FAIL_ON_SKIP") == "1":
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, which counts as a failure: {reason}"


def _postgres_admin_engine() -> sa.Engine:
    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        pytest.skip(
            f"PostgreSQL is not reachable at {sa.make_url(POSTGRES_ADMIN_URL).render_as_string()} "
            f"({type(exc.orig).__name__}); start it or set TIKTOK_TEST_POSTGRES_URL"
        )
    return engine


@pytest.fixture
def postgres_url(monkeypatch) -> Iterator[str]:
    """The URL of a new, empty Postgres database, dropped after the test; TIKTOK_TOKEN_KEY is
    set for the test (and the processes it starts)."""
    if not os.environ.get("TIKTOK_TOKEN_KEY"):
        monkeypatch.setenv("TIKTOK_TOKEN_KEY", TEST_TOKEN_KEY)
    admin = _postgres_admin_engine()
    name = f"tiktok_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from tiktok_pipeline import db

        engine = db._engines.pop(url, None)
        if engine is not None:
            engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_db_url(tmp_path) -> str:
    """The URL of a new SQLite file in the test's temporary folder."""
    return sqlite_url(tmp_path / "tiktok.db")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """Run the test once on a SQLite file and once on a fresh Postgres database."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_db_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium (a selenium WebDriver), shared by the session; skips without it."""
    yield from chromium_session()
