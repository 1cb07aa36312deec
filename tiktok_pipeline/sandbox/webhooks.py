"""Webhook subscriptions (the event API) and push delivery with TikTok's retry schedule."""

from __future__ import annotations

import builtins
import heapq
import itertools
import json
import logging
import random
import threading
import time
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from tiktok_pipeline.sandbox.config import WEBHOOK_RETRY_DELAYS, SandboxConfig
from tiktok_pipeline.sandbox.signing import webhook_signature

log = logging.getLogger(__name__)

#: event_type names accepted by PUT /event/202309/webhooks, with their push ``type`` number.
EVENT_TYPES: dict[str, int] = {
    "ORDER_STATUS_CHANGE": 1,
    "REVERSE_STATUS_UPDATE": 2,
    "RECIPIENT_ADDRESS_UPDATE": 3,
    "PACKAGE_UPDATE": 4,
    "PRODUCT_STATUS_CHANGE": 5,
    "SELLER_DEAUTHORIZATION": 6,
    "UPCOMING_AUTHORIZATION_EXPIRATION": 7,
    "CANCELLATION_STATUS_CHANGE": 11,
    "RETURN_STATUS_CHANGE": 12,
    "NEW_CONVERSATION": 13,
    "NEW_MESSAGE": 14,
    "PRODUCT_INFORMATION_CHANGE": 15,
    "PRODUCT_CREATION": 16,
    "PRODUCT_CATEGORY_CHANGE": 18,
    "NEW_MESSAGE_LISTENER": 33,
    "INVOICE_STATUS_CHANGE": 36,
    "PRODUCT_AUDIT_STATUS_CHANGE": 37,
}
EVENT_NAMES = {number: name for name, number in EVENT_TYPES.items()}
MAX_ADDRESS_LENGTH = 255


@dataclass
class Subscription:
    """An address registered for one event type of one shop."""

    address: str
    create_time: int
    update_time: int


class WebhookRegistry:
    """Addresses per (shop, event type)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, dict[str, Subscription]] = defaultdict(dict)

    def put(self, shop_id: str, event_type: str, address: str, now: int) -> None:
        """Create or replace the address of an event type."""
        with self._lock:
            existing = self._subs[shop_id].get(event_type)
            created = existing.create_time if existing else now
            self._subs[shop_id][event_type] = Subscription(address, created, now)

    def delete(self, shop_id: str, event_type: str) -> None:
        """Remove an event type's address (no error when there is none)."""
        with self._lock:
            self._subs[shop_id].pop(event_type, None)

    def list(self, shop_id: str) -> list[dict]:
        """Get Shop Webhooks' ``webhooks``."""
        with self._lock:
            subs = sorted(self._subs.get(shop_id, {}).items())
        return [
            {
                "event_type": et,
                "address": s.address,
                "create_time": s.create_time,
                "update_time": s.update_time,
            }
            for et, s in subs
        ]

    def address(self, shop_id: str, event_type: str) -> str | None:
        """The address for (shop, event type), or None."""
        sub = self._subs.get(shop_id, {}).get(event_type)
        return sub.address if sub else None

    def event_types(self, shop_id: str) -> set[str]:
        """Event types with an address for this shop."""
        return set(self._subs.get(shop_id, {}))

    def all(self) -> dict[str, builtins.list[dict]]:
        """Every subscription, by shop id."""
        with self._lock:
            shop_ids = list(self._subs)
        return {shop_id: self.list(shop_id) for shop_id in shop_ids if self._subs[shop_id]}

    def clear(self) -> None:
        """Forget every subscription."""
        with self._lock:
            self._subs.clear()


@dataclass
class Push:
    """One push to one address (the same body on every attempt)."""

    notification_id: str
    shop_id: str
    type: int
    address: str
    body: bytes
    attempt: int = 1
    duplicate: bool = False


class WebhookDispatcher:
    """Delivers pushes on a thread pool and retries failures on TikTok's schedule."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._executor = ThreadPoolExecutor(
            max_workers=max(1, config.webhook_workers), thread_name_prefix="sandbox-webhook"
        )
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, Push]] = []
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)
        self._pending = 0
        self._stopped = False
        self._rng = random.Random(config.seed)
        self.deliveries: deque[dict] = deque(maxlen=50_000)
        self._scheduler = threading.Thread(
            target=self._run_scheduler, name="sandbox-webhook-retries", daemon=True
        )
        self._scheduler.start()

    # -- building -----------------------------------------------------------------------------

    def notification_id(self) -> str:
        """A new unique ``tts_notification_id`` (19 digits)."""
        n = next(self._ids)
        return f"73{int(time.time() * 1000) % 10**11:011d}{n % 10**6:06d}"

    def build(
        self, shop_id: str, type_number: int, timestamp: int, data: dict, address: str
    ) -> Push:
        """A push of one event to one address."""
        nid = self.notification_id()
        payload = {
            "type": type_number,
            "tts_notification_id": nid,
            "shop_id": shop_id,
            "timestamp": timestamp,
            "data": data,
        }
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return Push(nid, shop_id, type_number, address, body)

    # -- sending ------------------------------------------------------------------------------

    def submit(self, pushes: list[Push]) -> int:
        """Deliver a batch (in order per address unless shuffling); returns pushes queued."""
        if not pushes:
            return 0
        batch: list[Push] = []
        with self._lock:
            if self._stopped:
                return 0
            for push in pushes:
                batch.append(push)
                share = self.config.webhook_duplicate_share
                if share and self._rng.random() < share:
                    batch.append(
                        Push(
                            push.notification_id,
                            push.shop_id,
                            push.type,
                            push.address,
                            push.body,
                            duplicate=True,
                        )
                    )
            if self.config.webhook_shuffle:
                self._rng.shuffle(batch)
            self._pending += len(batch)
        by_address: dict[str, list[Push]] = defaultdict(list)
        for push in batch:
            by_address[push.address].append(push)
        for group in by_address.values():
            self._executor.submit(self._deliver_group, group)
        return len(batch)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def _deliver_group(self, group: list[Push]) -> None:
        for push in group:
            self._deliver(push)

    def _deliver(self, push: Push) -> None:
        signature = webhook_signature(self.config.app_key, self.config.app_secret, push.body)
        status: int | None = None
        error = ""
        try:
            response = self._session().post(
                push.address,
                data=push.body,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": signature,
                    "User-Agent": "TikTokShop-Sandbox-Webhook/1.0",
                },
                timeout=self.config.webhook_timeout,
                allow_redirects=False,
            )
            status = response.status_code
            response.close()
        except requests.RequestException as exc:
            error = type(exc).__name__
        # TikTok treats 200 as delivered and 401 (signature rejected) as a valid answer too.
        ok = status in (200, 401)
        gave_up = not ok and push.attempt > len(WEBHOOK_RETRY_DELAYS)
        self.deliveries.append(
            {
                "notification_id": push.notification_id,
                "type": push.type,
                "event_type": EVENT_NAMES.get(push.type, f"UNKNOWN_{push.type}"),
                "shop_id": push.shop_id,
                "address": push.address,
                "attempt": push.attempt,
                "duplicate": push.duplicate,
                "http_status": status,
                "error": error,
                "ok": ok,
                "gave_up": gave_up,
                "time": round(time.time(), 3),
            }
        )
        with self._cond:
            if not ok and not gave_up and not self._stopped:
                delay = WEBHOOK_RETRY_DELAYS[push.attempt - 1] * self.config.webhook_retry_scale
                retry = Push(
                    push.notification_id,
                    push.shop_id,
                    push.type,
                    push.address,
                    push.body,
                    attempt=push.attempt + 1,
                    duplicate=push.duplicate,
                )
                heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), retry))
                self._cond.notify()
            else:
                self._pending -= 1
                self._cond.notify_all()

    def _run_scheduler(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, push = heapq.heappop(self._heap)
            try:
                self._executor.submit(self._deliver, push)
            except RuntimeError:  # executor shut down
                return

    # -- control ------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Pushes not yet delivered or given up (including scheduled retries)."""
        return self._pending

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is pending; True when idle."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def clear(self) -> None:
        """Drop scheduled retries and the delivery log."""
        with self._cond:
            dropped = len(self._heap)
            self._heap.clear()
            self._pending -= dropped
            self.deliveries.clear()
            self._rng = random.Random(self.config.seed)

    def close(self) -> None:
        """Stop the retry scheduler and the delivery threads."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._scheduler.join(timeout=5)
