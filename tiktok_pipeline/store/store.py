"""The operational store: one object that owns the engine and hands out the store's parts."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from tiktok_pipeline import db
from tiktok_pipeline.config import ConfigurationError, load_settings
from tiktok_pipeline.store.consent_states import ConsentStates
from tiktok_pipeline.store.encryption import TokenCipher
from tiktok_pipeline.store.event_webhooks import EventWebhookRegistry
from tiktok_pipeline.store.rate_limits import SharedRateLimits
from tiktok_pipeline.store.request_log import RequestLogWriter
from tiktok_pipeline.store.schema import VERSION_TABLE
from tiktok_pipeline.store.tokens import TokenStore
from tiktok_pipeline.store.webhook_inbox import WebhookInbox

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

try:  # POSIX only; elsewhere concurrent first-use upgrades of one SQLite file are not guarded.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


@functools.cache
def _script_directory() -> ScriptDirectory:
    # Alembic only when a revision is checked: it costs ~11 MB in every process that loads it.
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS))


def head_revision() -> str:
    """The newest migration of the operational store."""
    head = _script_directory().get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The migration the database is at (None when the store's tables were never created)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


@contextlib.contextmanager
def _migration_lock(engine: sa.Engine) -> Iterator[None]:
    """Serialize upgrades of one database across threads and processes."""
    if db.is_sqlite(engine):
        database = engine.url.database
        if fcntl is None or not database or database == ":memory:":
            yield
            return
        # A separate lock file: SQLite's own POSIX locks on the database file must not be
        # disturbed by another descriptor of it.
        with open(f"{database}-migrate.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    if engine.dialect.name == "postgresql":
        key = zlib.crc32(VERSION_TABLE.encode())
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
        return
    yield


class Store:
    """The operational database: tokens and shops, request log, webhook inbox, event webhooks.

    Make one with :meth:`from_url`. The parts share the engine, which is shared per URL in
    the process, so creating several stores for one URL is cheap.
    """

    def __init__(self, engine: sa.Engine, *, cipher: TokenCipher | None = None) -> None:
        """Wrap an engine whose schema is already at head (see :meth:`from_url`); tokens are
        encrypted with ``cipher`` (default: ``TIKTOK_TOKEN_KEY``, looked up on first use)."""
        self.engine = engine
        self.tokens = TokenStore(engine, cipher=cipher)
        self.webhooks = WebhookInbox(engine)
        self.event_webhooks = EventWebhookRegistry(engine)
        self.consent_states = ConsentStates(engine)
        self.rate_limits = SharedRateLimits(engine)
        self._request_log: RequestLogWriter | None = None
        self._request_log_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str | None = None, *, upgrade: bool | None = None) -> Store:
        """The store at ``url`` (default: ``TIKTOK_DATABASE_URL``, else ./data/tiktok.db).

        Args:
            url: a SQLAlchemy URL (``sqlite:///...`` or ``postgresql+psycopg2://...``).
            upgrade: migrate the schema to head first. None means yes for SQLite (the
                embedded default sets itself up) and no for servers, where a schema that is not
                at head raises ConfigurationError telling to run ``tiktok-pipeline db upgrade``.
        """
        if url is None:
            url = load_settings().database_url
        engine = db.shared_engine(url)
        store = cls(engine)
        if upgrade is None:
            upgrade = db.is_sqlite(engine)
        if upgrade:
            store.upgrade()
        else:
            store.check_schema()
        return store

    @property
    def request_log(self) -> RequestLogWriter:
        """The batched writer of ``tiktok_requests`` (started on first use)."""
        with self._request_log_lock:
            if self._request_log is None:
                self._request_log = RequestLogWriter(self.engine)
            return self._request_log

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate the schema to head; returns (revision before, revision after)."""
        head = head_revision()
        before = self._current_revision()
        if before == head:
            return before, head
        with _migration_lock(self.engine):
            before = self._current_revision()
            if before != head:
                log.info(
                    "upgrading the operational store at %s from %s to %s",
                    self.engine.url.render_as_string(hide_password=True),
                    before or "an empty database",
                    head,
                )
                db.upgrade_schema(self.engine, MIGRATIONS, VERSION_TABLE)
        return before, head

    def check_schema(self) -> None:
        """Raise ConfigurationError unless the schema is at head."""
        head = head_revision()
        current = self._current_revision()
        if current == head:
            return
        where = self.engine.url.render_as_string(hide_password=True)
        if current is None:
            state = "has no operational store tables yet"
        else:
            try:
                _script_directory().get_revision(current)
            except Exception:
                raise ConfigurationError(
                    f"the database {where} is at store revision {current}, which this version "
                    "of tiktok-pipeline does not know (it is newer); upgrade tiktok-pipeline"
                ) from None
            state = f"is at store revision {current}, not {head}"
        raise ConfigurationError(
            f"the database {where} {state}; run `tiktok-pipeline db upgrade` "
            "(with TIKTOK_DATABASE_URL set to it) first"
        )

    def _current_revision(self) -> str | None:
        return current_revision(self.engine)

    def close(self) -> None:
        """Flush and stop the request log writer. The shared engine stays open for others."""
        if self._request_log is not None:
            self._request_log.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
