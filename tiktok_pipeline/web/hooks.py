"""Listeners for received webhooks: the original package's ``WebhookReceived`` event, done safely.

The receiver commits the push to ``tiktok_webhooks`` first and answers TikTok; only then are the
matching listeners run, on a small pool of background threads. A listener that raises, or is
slow, can therefore neither lose the push nor break TikTok's 3-second deadline. Listeners run
only for a push stored for the first time: a replay (same ``tts_notification_id``) is not
announced again.

>>> hooks = WebhookHooks()
>>> @hooks.on(WebhookEvent.ORDER_STATUS_CHANGE)
... def order_changed(event: ReceivedWebhook) -> None:
...     print(event.shop_id, event.data["order_id"])
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import anyio

from tiktok_pipeline.events import WebhookEvent, type_number

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2
#: Listener runs waiting at most; beyond this new ones are dropped (the pushes stay stored).
DEFAULT_MAX_PENDING = 10_000


@dataclass(frozen=True)
class ReceivedWebhook:
    """A verified push, as stored in the inbox (what listeners receive).

    Attributes:
        id: the row id in ``tiktok_webhooks``.
        type: TikTok's ``type`` number.
        event_type: its name (``ORDER_STATUS_CHANGE``; ``UNKNOWN_<n>`` for new numbers).
        shop_id: the shop the push is about (None for pushes without one).
        notification_id: ``tts_notification_id`` (None when TikTok sent none).
        timestamp: the push time, Unix seconds (None when the push has no usable one).
        data: the topic-specific ``data`` object.
        payload: the whole parsed body.
        route: ``all`` or the per-event slug the push arrived on.
        received_at: when the web service received it (aware UTC).
    """

    id: int
    type: int
    event_type: str
    shop_id: str | None
    notification_id: str | None
    timestamp: int | None
    data: Any
    payload: Mapping[str, Any] = field(repr=False)
    route: str
    received_at: datetime


Listener = Callable[[ReceivedWebhook], Any]
F = TypeVar("F", bound=Listener)


def _type_number(event_type: WebhookEvent | int | str | None) -> int | None:
    return None if event_type is None else type_number(event_type)


class WebhookHooks:
    """A registry of functions to call after a push is stored.

    Args:
        workers: threads that run listeners.
        max_pending: listener runs allowed to wait; more are dropped with an error log line.
    """

    def __init__(
        self, *, workers: int = DEFAULT_WORKERS, max_pending: int = DEFAULT_MAX_PENDING
    ) -> None:
        self.workers = max(1, workers)
        self.max_pending = max(1, max_pending)
        self._listeners: tuple[tuple[int | None, Listener], ...] = ()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._executor: ThreadPoolExecutor | None = None
        self.failures = 0
        self.dropped = 0

    def on(self, event_type: WebhookEvent | int | str | None = None) -> Callable[[F], F]:
        """Decorator: call the function for pushes of ``event_type`` (None: every push).

        ``event_type`` may be a :class:`WebhookEvent`, a type number (unknown numbers work),
        an event name (``ORDER_STATUS_CHANGE``), a slug (``order-status-change``) or a name
        the original package used (``auth-expire``), as :meth:`WebhookEvent.parse` reads
        them. The function gets a :class:`ReceivedWebhook`; it may also be an ``async def``.
        """
        number = _type_number(event_type)

        def register(fn: F) -> F:
            self.add(fn, number)
            return fn

        return register

    def add(self, fn: Listener, event_type: WebhookEvent | int | str | None = None) -> None:
        """Register ``fn`` for ``event_type`` (None: every push); see :meth:`on`."""
        if not callable(fn):
            raise TypeError(f"a webhook listener must be callable, got {fn!r}")
        number = _type_number(event_type)
        with self._lock:
            self._listeners = (*self._listeners, (number, fn))

    def listeners(self, type_number: int) -> list[Listener]:
        """The listeners a push of ``type_number`` goes to, in registration order."""
        return [fn for number, fn in self._listeners if number is None or number == type_number]

    def dispatch(self, event: ReceivedWebhook) -> int:
        """Schedule the matching listeners in the background; returns how many were scheduled."""
        listeners = self.listeners(event.type)
        if not listeners:
            return 0
        with self._lock:
            if self._pending + len(listeners) > self.max_pending:
                self.dropped += len(listeners)
                log.error(
                    "webhook listeners are %d runs behind; not running %d listener(s) for inbox "
                    "row %s (%s). The push is stored; make the listeners faster or raise "
                    "max_pending",
                    self._pending,
                    len(listeners),
                    event.id,
                    event.event_type,
                )
                return 0
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.workers, thread_name_prefix="webhook-hook"
                )
            self._pending += len(listeners)
            executor = self._executor
        for fn in listeners:
            executor.submit(self._run, fn, event).add_done_callback(self._finished)
        return len(listeners)

    def _finished(self, _future: Future) -> None:
        # Also called for runs cancelled by close(), so the count never gets stuck.
        with self._lock:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    def _run(self, fn: Listener, event: ReceivedWebhook) -> None:
        try:
            result = fn(event)
            if inspect.isawaitable(result):
                anyio.run(_await, result)
        except Exception:
            with self._lock:
                self.failures += 1
            name = getattr(fn, "__qualname__", repr(fn))
            log.exception(
                "webhook listener %s failed for inbox row %s (%s, shop %s); the push is stored "
                "and stays in the inbox",
                name,
                event.id,
                event.event_type,
                event.shop_id,
            )

    @property
    def pending(self) -> int:
        """Listener runs scheduled but not finished."""
        return self._pending

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every scheduled listener run has finished; False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float | None = 10.0) -> None:
        """Wait (up to ``timeout``) for scheduled listeners, then stop the threads.

        Runs still queued after ``timeout`` are cancelled (their pushes stay in the inbox).
        The registry stays usable: a later dispatch starts new threads.
        """
        if not self.wait_idle(timeout):
            log.warning(
                "stopping with %d webhook listener run(s) unfinished after %.0f s",
                self._pending,
                timeout or 0,
            )
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def __len__(self) -> int:
        return len(self._listeners)


async def _await(awaitable: Any) -> Any:
    return await awaitable
