"""``tiktok_requests``: one row per API call, written in batches by a background thread.

Recording never blocks the API call and never raises into it: entries go onto a queue that a
daemon thread writes with one executemany INSERT per batch. Query and body are redacted again
here (defence in depth), so no token or secret reaches the table even if a caller forgot.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import re
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.redaction import REDACTED, SECRET_KEYS, redact
from tiktok_pipeline.store.schema import tiktok_requests

log = logging.getLogger(__name__)

MAX_BODY_CHARS = 4096
_TRUNCATED = "...[truncated]"

_SECRET_NAMES = "|".join(sorted((re.escape(k) for k in SECRET_KEYS), key=len, reverse=True))
#: ``key=value`` pairs (query strings, form bodies, "Authorization: x" style text).
_PAIR = re.compile(rf"(?i)(\b(?:{_SECRET_NAMES})\b\s*[=:]\s*)([^&\s,;\"']+)")
#: ``"key": "value"`` in JSON that could not be parsed (e.g. already truncated).
_JSON_PAIR = re.compile(rf'(?i)("(?:{_SECRET_NAMES})"\s*:\s*)"(?:[^"\\]|\\.)*"')


@dataclass
class RequestLogEntry:
    """What one API call did; the client fills it in, the writer stores it."""

    action: str
    method: str
    path: str
    shop_id: str | None = None
    query: dict | None = None
    body: str | None = None
    http_status: int | None = None
    code: int | None = None
    message: str | None = None
    request_id: str | None = None
    attempt: int = 1
    duration_ms: float | None = None
    error: str | None = None
    created_at: datetime = field(default_factory=utcnow)


def scrub_text(text: str | None) -> str | None:
    """``text`` with the values of secret keys (``access_token=...``, ``"sign": "..."``) hidden."""
    if not text:
        return text
    text = _JSON_PAIR.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    return _PAIR.sub(lambda m: f"{m.group(1)}{REDACTED}", text)


def redact_body(body: str | bytes | None) -> str | None:
    """A request body safe to store: secret JSON keys redacted, at most 4 KiB of text."""
    if body is None:
        return None
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(body)
    except ValueError:
        body = scrub_text(body) or ""
    else:
        if isinstance(parsed, dict | list):
            body = json.dumps(redact(parsed), ensure_ascii=False, separators=(",", ":"))
    if len(body) > MAX_BODY_CHARS:
        body = body[: MAX_BODY_CHARS - len(_TRUNCATED)] + _TRUNCATED
    return body


def _clip(value: str | None, length: int) -> str | None:
    return value if value is None or len(value) <= length else value[:length]


def _row(entry: Any) -> dict[str, Any]:
    # Duck-typed: the client's RequestRecord has the same fields as RequestLogEntry.
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
        "path": scrub_text(entry.path) or "",
        "query": query,
        "body": redact_body(entry.body),
        "http_status": entry.http_status,
        "code": code,
        "message": scrub_text(entry.message),
        "request_id": _clip(entry.request_id, 128),
        "attempt": entry.attempt,
        "duration_ms": entry.duration_ms,
        "error": scrub_text(entry.error),
    }


class _Flush:
    """A marker on the queue: everything before it has been written once ``done`` is set."""

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


class RequestLogWriter:
    """Writes :class:`RequestLogEntry` rows to ``tiktok_requests`` from a background thread."""

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
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._atexit: Any = None
        #: Entries written and entries lost (queue full or a failed INSERT), for monitoring.
        self.written = 0
        self.dropped = 0

    def record(self, entry: RequestLogEntry) -> None:
        """Queue ``entry`` for writing; returns at once and never raises.

        Any object with :class:`RequestLogEntry`'s attributes is accepted (the client's
        ``RequestRecord`` is one).
        """
        try:
            with self._lock:
                self._ensure_thread()
                self._queue.put_nowait(entry)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("request log queue is full; %d entries dropped so far", self.dropped)
        except Exception:  # the API call must not fail because its log line did
            self.dropped += 1
            log.exception("could not queue a request log entry")

    def flush(self, timeout: float | None = None) -> None:
        """Block until every entry recorded before this call is written (or ``timeout``)."""
        marker = _Flush()
        with self._lock:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return
            self._queue.put(marker)
        if not marker.done.wait(timeout):
            log.warning("request log flush timed out after %ss", timeout)

    def close(self) -> None:
        """Write everything still queued and stop the thread (a later record restarts it)."""
        with self._lock:
            thread, self._thread = self._thread, None
            # A record() after this point starts a new thread on a new queue.
            old_queue, self._queue = self._queue, queue.Queue(maxsize=self._queue.maxsize)
            if self._atexit is not None:
                atexit.unregister(self._atexit)
                self._atexit = None
        if thread is None or not thread.is_alive():
            return
        old_queue.put(_STOP)
        thread.join()

    def purge(self, older_than: datetime, batch_size: int = 1000) -> int:
        """Delete rows created before ``older_than`` in batches; returns how many went."""
        total = 0
        while True:
            ids = (
                sa.select(tiktok_requests.c.id)
                .where(tiktok_requests.c.created_at < older_than)
                .order_by(tiktok_requests.c.id)
                .limit(batch_size)
            )
            with self.engine.begin() as conn:
                batch = conn.execute(ids).scalars().all()
                if not batch:
                    return total
                conn.execute(sa.delete(tiktok_requests).where(tiktok_requests.c.id.in_(batch)))
            total += len(batch)

    # ---- the writer thread ---------------------------------------------------------------

    def _ensure_thread(self) -> None:
        # Called with self._lock held.
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(
            target=self._run, args=(self._queue,), name="tiktok-request-log", daemon=True
        )
        self._thread.start()
        if self._atexit is None:
            self._atexit = _close_at_exit(self)
            atexit.register(self._atexit)

    def _run(self, entries: queue.Queue[Any]) -> None:
        pending: list[dict[str, Any]] = []
        deadline: float | None = None
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = entries.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is not None and item is not _STOP and not isinstance(item, _Flush):
                try:
                    pending.append(_row(item))
                except Exception:
                    self.dropped += 1
                    log.exception("could not prepare a request log entry")
                if deadline is None:
                    deadline = time.monotonic() + self.flush_interval
                if len(pending) < self.batch_size and time.monotonic() < deadline:
                    continue
            self._write(pending)
            pending = []
            deadline = None
            if isinstance(item, _Flush):
                item.done.set()
            elif item is _STOP:
                return

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
