"""``tiktok_requests``: one row per API call, written in batches by a background thread.

Recording never blocks the API call and never raises into it: entries go into a buffer that a
daemon thread writes with one executemany INSERT per batch. Query, body and texts go through
:mod:`tiktok_pipeline.redaction` again here (the client's records already did; other callers may
not have), so no token or secret reaches the table.
"""

from __future__ import annotations

import atexit
import collections
import logging
import threading
import weakref
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.redaction import redact, redact_body, scrub_secret_pairs
from tiktok_pipeline.request_records import RequestRecord
from tiktok_pipeline.store._sql import delete_in_batches
from tiktok_pipeline.store.schema import tiktok_requests

log = logging.getLogger(__name__)

#: One API call as the client records it (the store writes exactly what the client reports).
RequestLogEntry = RequestRecord


def _scrub(text: str | None) -> str | None:
    return scrub_secret_pairs(text) if text else text


def _clip(value: str | None, length: int) -> str | None:
    return value if value is None or len(value) <= length else value[:length]


def _row(entry: Any) -> dict[str, Any]:
    query = redact(dict(entry.query)) if entry.query else None
    code = entry.code
    if code is not None:
        try:
            code = int(code)
        except (TypeError, ValueError):
            code = None
    return {
        "created_at": entry.created_at or utcnow(),
        "shop_id": _clip(None if entry.shop_id is None else str(entry.shop_id), 64),
        "action": _clip(entry.action, 100) or "",
        "method": (_clip(entry.method, 16) or "").upper(),
        "path": _scrub(entry.path) or "",
        "query": query,
        "body": redact_body(entry.body),
        "http_status": entry.http_status,
        "code": code,
        "message": _scrub(entry.message),
        "request_id": _clip(entry.request_id, 128),
        "attempt": entry.attempt,
        "duration_ms": entry.duration_ms,
        "error": _scrub(entry.error),
    }


class _Flush:
    """A marker in the buffer: everything before it has been written once ``done`` is set."""

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


class RequestLogWriter:
    """Writes :class:`RequestLogEntry` rows to ``tiktok_requests`` from a background thread.

    Recording appends to a buffer and returns: the writer thread wakes every
    ``flush_interval`` (or as soon as a batch is full) and writes what has gathered, so an API
    call never waits for the database nor wakes a thread.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        flush_interval: float = 0.5,
        batch_size: int = 200,
        max_queue: int = 100_000,
    ) -> None:
        """Batch up to ``batch_size`` entries or ``flush_interval`` seconds per INSERT.

        At most ``max_queue`` entries wait in memory; beyond that new entries are dropped
        (with a warning) rather than slowing the API calls down.
        """
        self.engine = engine
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.max_queue = max_queue
        # deque.append and popleft are atomic: no lock on the caller's path.
        self._buffer: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._atexit: Any = None
        #: Entries written and entries lost (buffer full or a failed INSERT), for monitoring.
        self.written = 0
        self.dropped = 0

    def record(self, entry: RequestLogEntry) -> None:
        """Buffer ``entry`` for writing; returns at once and never raises.

        Any object with :class:`RequestLogEntry`'s attributes is accepted.
        """
        try:
            if len(self._buffer) >= self.max_queue:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.warning(
                        "request log buffer is full; %d entries dropped so far", self.dropped
                    )
                return
            self._buffer.append(entry)
            thread = self._thread
            if thread is None or not thread.is_alive():
                with self._lock:
                    self._ensure_thread()
            if len(self._buffer) >= self.batch_size:
                self._wake.set()
        except Exception:  # the API call must not fail because its log line did
            self.dropped += 1
            log.exception("could not buffer a request log entry")

    def flush(self, timeout: float | None = None) -> None:
        """Block until every entry recorded before this call is written (or ``timeout``)."""
        marker = _Flush()
        with self._lock:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return
            self._buffer.append(marker)
        self._wake.set()
        if not marker.done.wait(timeout):
            log.warning("request log flush timed out after %ss", timeout)

    def close(self) -> None:
        """Write everything still buffered and stop the thread (a later record restarts it)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if self._atexit is not None:
                atexit.unregister(self._atexit)
                self._atexit = None
            if thread is None or not thread.is_alive():
                return
            self._buffer.append(_STOP)
        self._wake.set()
        thread.join()

    def purge(self, older_than: datetime, batch_size: int = 1000, *, dry_run: bool = False) -> int:
        """Delete rows created before ``older_than`` in batches; returns how many went.

        ``dry_run``: count the rows that would go; delete nothing.
        """

        old = tiktok_requests.c.created_at < older_than
        return delete_in_batches(
            self.engine, tiktok_requests, old, batch_size=batch_size, dry_run=dry_run
        )

    # ---- the writer thread ---------------------------------------------------------------

    def _ensure_thread(self) -> None:
        # Called with self._lock held.
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run, name="tiktok-request-log", daemon=True)
        self._thread.start()
        if self._atexit is None:
            self._atexit = _close_at_exit(self)
            atexit.register(self._atexit)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            pending: list[dict[str, Any]] = []
            while self._buffer:
                item = self._buffer.popleft()
                if item is _STOP:
                    self._write(pending)
                    return
                if isinstance(item, _Flush):
                    self._write(pending)
                    pending = []
                    item.done.set()
                    continue
                try:
                    pending.append(_row(item))
                except Exception:
                    self.dropped += 1
                    log.exception("could not prepare a request log entry")
                if len(pending) >= self.batch_size:
                    self._write(pending)
                    pending = []
            self._write(pending)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(tiktok_requests.insert(), rows)
            self.written += len(rows)
        except Exception as exc:
            self.dropped += len(rows)
            # The exception type only: driver messages may quote the parameters.
            log.error(
                "could not write %d request log rows to tiktok_requests (%s); they are lost",
                len(rows),
                type(exc).__name__,
            )


def _close_at_exit(writer: RequestLogWriter) -> Any:
    ref = weakref.ref(writer)

    def close() -> None:
        target = ref()
        if target is not None:
            target.close()

    return close
