"""The sandbox's whole state: clock, sellers and shops, tokens, faults, webhooks, caches."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from typing import cast

import numpy as np

from tiktok_pipeline.sandbox.auth import AuthStore
from tiktok_pipeline.sandbox.cache import BodyCache, EntryLRU
from tiktok_pipeline.sandbox.clock import VirtualClock
from tiktok_pipeline.sandbox.config import RUNTIME_SETTINGS, SandboxConfig
from tiktok_pipeline.sandbox.events import EventCollector, collect
from tiktok_pipeline.sandbox.faults import FaultInjector
from tiktok_pipeline.sandbox.orders.arrays import lifecycles
from tiktok_pipeline.sandbox.paging import PageTokens, Selection
from tiktok_pipeline.sandbox.shops import SellerInfo, ShopInfo, make_open_id, make_shop, seller_name
from tiktok_pipeline.sandbox.webhooks import EVENT_TYPES, Push, WebhookDispatcher, WebhookRegistry
from tiktok_pipeline.sandbox.world import ShopWorld

log = logging.getLogger(__name__)
MIB = 1024 * 1024
#: Order cache keys: (shop slot << ORDER_KEY_BITS | order index, the lifecycle step).
ORDER_KEY_BITS = 40


def dumps(value: object) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class Stats:
    """Request counters for /sandbox/stats."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.rejections: Counter[int] = Counter()
            self.faults: Counter[str] = Counter()
            self.token_get_calls = 0
            self.token_refresh_calls = 0
            self.consents = 0

    def request(self, key: str) -> None:
        """Count one request (``"VERB /path/template"``)."""
        with self._lock:
            self.requests[key] += 1

    def rejection(self, code: int) -> None:
        """Count one non-zero code answer."""
        with self._lock:
            self.rejections[code] += 1

    def fault(self, kind: str) -> None:
        """Count one injected fault."""
        with self._lock:
            self.faults[kind] += 1

    def token_call(self, kind: str) -> None:
        """Count a token endpoint call (``get`` or ``refresh``)."""
        with self._lock:
            if kind == "get":
                self.token_get_calls += 1
            else:
                self.token_refresh_calls += 1

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        with self._lock:
            return {
                "requests": dict(self.requests),
                "total_requests": sum(self.requests.values()),
                "rejections": {str(k): v for k, v in self.rejections.items()},
                "faults": dict(self.faults),
                "token_get_calls": self.token_get_calls,
                "token_refresh_calls": self.token_refresh_calls,
                "consents": self.consents,
            }


@dataclass
class SellerRecord:
    """A seller and its shops."""

    info: SellerInfo
    slot: int


class SandboxState:
    """Everything one sandbox instance knows."""

    def __init__(self, config: SandboxConfig) -> None:
        config.validate()
        self.config = config
        self.anchor = config.resolved_anchor()
        if config.start_time is not None:
            start = config.start_time
        elif config.anchor is not None:
            start = config.anchor
        else:
            start = int(time.time())
        self.clock = VirtualClock(start, config.frozen_clock)
        self.auth = AuthStore(config)
        self.faults = FaultInjector(config.seed)
        self.stats = Stats()
        self.webhooks = WebhookRegistry()
        self.dispatcher = WebhookDispatcher(config)
        self.render_cache = BodyCache(config.render_cache_mb * MIB)
        self.query_cache = EntryLRU(config.query_cache_entries)
        self.page_tokens = PageTokens(secrets.token_bytes(32))
        self.lock = threading.RLock()
        self.data_version = 0
        # Small units of work (render a few objects of a next page) done between requests.
        self.read_ahead: deque[Callable[[], object]] = deque(maxlen=64)
        self.worlds: list[ShopWorld] = []
        self.sellers: dict[str, SellerRecord] = {}
        #: Shops removed from their seller's authorization, kept so that they can come back.
        self.removed: dict[str, ShopWorld] = {}
        self._build()

    # -- sellers and shops --------------------------------------------------------------------

    def _build(self) -> None:
        cfg = self.config
        self.worlds = []
        self.sellers = {}
        self.by_shop_id: dict[str, ShopWorld] = {}
        self.by_cipher: dict[str, ShopWorld] = {}
        slots: list[list[int]] = [[] for _ in range(cfg.sellers)]
        for slot in range(cfg.shops):
            slots[slot % cfg.sellers].append(slot)
        for seller_slot, shop_slots in enumerate(slots):
            self._add(seller_slot, shop_slots, None, cfg.orders_per_shop)

    def _add(
        self, seller_slot: int, shop_slots: list[int], region: str | None, orders: int
    ) -> SellerInfo:
        cfg = self.config
        open_id = make_open_id(cfg.seed, seller_slot)
        shop_ids = []
        regions = []
        for slot in shop_slots:
            world = self.new_world(open_id, slot, region, orders)
            shop_ids.append(world.info.id)
            regions.append(world.info.region)
        info = SellerInfo(
            open_id=open_id,
            seller_name=seller_name(cfg.seed, seller_slot),
            region=regions[0],
            shop_ids=tuple(shop_ids),
        )
        self.sellers[open_id] = SellerRecord(info, seller_slot)
        return info

    def add_seller(
        self, shops: int = 1, region: str | None = None, orders_per_shop: int | None = None
    ) -> SellerInfo:
        """A new seller with ``shops`` new shops (for "newly authorized shop" scenarios)."""
        if not 1 <= shops <= 20:
            raise ValueError("shops must be between 1 and 20")
        orders = orders_per_shop or self.config.orders_per_shop
        if orders < 1:
            raise ValueError("orders_per_shop must be at least 1")
        with self.lock:
            seller_slot = max(r.slot for r in self.sellers.values()) + 1
            first = max(w.slot for w in [*self.worlds, *self.removed.values()]) + 1
            if first + shops > 900:
                raise ValueError("the sandbox supports at most 900 shops")
            return self._add(seller_slot, list(range(first, first + shops)), region, orders)

    def new_world(self, open_id: str, slot: int, region: str | None, orders: int) -> ShopWorld:
        """Generate shop number ``slot`` of seller ``open_id`` and serve it."""
        cfg = self.config
        code = region or cfg.regions[slot % len(cfg.regions)]
        ctx = make_shop(cfg.seed, slot, code, open_id, self.anchor, cfg.days)
        world = ShopWorld(ctx, orders, cfg.products_per_shop, cfg.days, cfg.return_every)
        self.serve(world)
        return world

    def serve(self, world: ShopWorld) -> None:
        """Answer for ``world`` (its seller's shop list is the caller's business)."""
        # Lookups first, the seller's list after: a reader never meets an id it cannot find.
        self.worlds = [*self.worlds, world]
        self.by_shop_id[world.info.id] = world
        self.by_cipher[world.info.cipher] = world

    def set_shop_ids(self, open_id: str, shop_ids: Sequence[str]) -> SellerInfo:
        """Replace a seller's shop list (what GET /authorization/202309/shops answers)."""
        record = self.sellers[open_id]
        record.info = replace(record.info, shop_ids=tuple(shop_ids))
        return record.info

    @property
    def shops(self) -> list[ShopInfo]:
        """Every shop."""
        return [w.info for w in self.worlds]

    def seller_list(self) -> list[SellerInfo]:
        """Every seller."""
        return [r.info for r in self.sellers.values()]

    def seller(self, open_id: str | None) -> SellerInfo:
        """A seller by open_id (None: the first); raises KeyError."""
        if open_id is None:
            return next(iter(self.sellers.values())).info
        return self.sellers[open_id].info

    def worlds_of(self, open_id: str) -> list[ShopWorld]:
        """The shops of a seller."""
        record = self.sellers.get(open_id)
        if record is None:
            return []
        return [self.by_shop_id[s] for s in record.info.shop_ids]

    # -- rendering with caches ----------------------------------------------------------------

    def orders_bytes(self, world: ShopWorld, ids: Sequence[int], t: int) -> list[bytes]:
        """Orders ``ids`` at ``t`` as JSON bytes: cached ones, the others rendered now."""
        cache = self.render_cache
        keys = _order_keys(world, ids, t)
        out = cache.get_many(keys)
        missing = [n for n, body in enumerate(out) if body is None]
        if not missing:
            return cast(list[bytes], out)
        bodies = world.order_renderer.render([ids[n] for n in missing], t)
        cache.put_many([keys[n] for n in missing], bodies)
        for n, body in zip(missing, bodies, strict=True):
            out[n] = body
        return cast(list[bytes], out)

    def return_bytes(self, world: ShopWorld, k: int, t: int) -> bytes:
        """Return ``k`` at ``t`` as JSON bytes (cached per step of its lifecycle)."""
        lc = world.returns.lifecycle(k)
        step = lc.index_at(t)
        return self.render_cache.get_or_make(
            ("r", world.slot, k, step), lambda: dumps(world.returns.render(k, t, lc))
        )

    def read_ahead_orders(
        self, world: ShopWorld, selection: Selection, offset: int, page_size: int, t: int
    ) -> None:
        """Queue rendering the next page of a search (from ``offset``) if it is not ready.

        It runs after the answer is sent, while the client reads it.
        """
        following = selection.slice(offset, page_size)
        if not following:
            return
        first, last = _order_keys(world, [following[0], following[-1]], t)
        if self.render_cache.has(first) and self.render_cache.has(last):
            return
        self.read_ahead.append(lambda: self.orders_bytes(world, following, t))

    def product_bytes(self, world: ShopWorld, j: int, t: int, shape: str) -> bytes:
        """Product ``j`` at ``t`` in a given shape as JSON bytes."""
        catalog = world.catalog
        p = catalog.products[j]
        return self.render_cache.get_or_make(
            ("p", world.slot, j, catalog.render_key(p, t), shape, catalog.version),
            lambda: dumps(catalog.render(p, t, shape)),
        )

    def selection(
        self, kind: str, world: ShopWorld, fp: int, t: int, make: Callable[[], Selection]
    ) -> Selection:
        """A search's selection, cached per (query, snapshot, data version)."""
        key: Hashable = (kind, world.slot, fp, t, self.data_version, world.catalog.version)
        cached = self.query_cache.get(key)
        if cached is None:
            cached = make()
            self.query_cache.put(key, cached)
        return cached

    # -- time and events ----------------------------------------------------------------------

    def now(self) -> int:
        """The virtual clock."""
        return self.clock.now()

    def advance(self, seconds: int) -> dict:
        """Move the virtual clock and push the webhooks of what changed meanwhile."""
        with self.lock:
            t0, t1 = self.clock.advance(seconds)
            events, pushed, dropped = self._push_changes(t0, t1)
        return {
            "before": t0,
            "now": t1,
            "events": events,
            "pushed": pushed,
            "events_dropped": dropped,
        }

    def _push_changes(self, t0: int, t1: int) -> tuple[int, int, int]:
        pushes: list[Push] = []
        n_events = 0
        dropped = 0
        for world in self.worlds:
            wanted = self.webhooks.event_types(world.info.id) & set(EVENT_TYPES)
            if not wanted:
                continue
            collector = EventCollector(self.config.max_events_per_advance)
            collect(world, t0, t1, wanted, self.config.cancel_status_word, collector)
            dropped += collector.dropped
            if collector.dropped:
                log.warning(
                    "clock advance produced more than %d events for shop %s; %d not pushed",
                    collector.cap,
                    world.info.id,
                    collector.dropped,
                )
            collector.events.sort()
            names = {number: name for name, number in EVENT_TYPES.items()}
            for event in collector.events:
                address = self.webhooks.address(world.info.id, names[event.type])
                if address:
                    n_events += 1
                    pushes.append(
                        self.dispatcher.build(
                            world.info.id, event.type, event.time, event.data, address
                        )
                    )
        return n_events, self.dispatcher.submit(pushes), dropped

    def push_shop_event(self, world: ShopWorld, event_type: str, data: dict) -> int:
        """Push one event of a shop now, if it has an address; returns pushes queued."""
        address = self.webhooks.address(world.info.id, event_type)
        if not address:
            return 0
        push = self.dispatcher.build(
            world.info.id, EVENT_TYPES[event_type], self.now(), data, address
        )
        return self.dispatcher.submit([push])

    def deauthorize(self, open_id: str) -> dict:
        """Revoke a seller's tokens and push SELLER_DEAUTHORIZATION (6) for its shops."""
        if open_id not in self.sellers:
            raise KeyError(open_id)
        revoked = self.auth.revoke(open_id)
        pushed = 0
        for world in self.worlds_of(open_id):
            message = f"Shop_id {world.info.id} is deauthorized from your APP by merchant."
            pushed += self.push_shop_event(world, "SELLER_DEAUTHORIZATION", {"message": message})
        return {"open_id": open_id, "revoked_tokens": revoked, "pushed": pushed}

    def authorization_expiring(self, open_id: str, days: int) -> dict:
        """Push UPCOMING_AUTHORIZATION_EXPIRATION (7) for a seller's shops."""
        if open_id not in self.sellers:
            raise KeyError(open_id)
        expiration = self.now() + days * 86400
        pushed = 0
        for world in self.worlds_of(open_id):
            data = {
                "message": f"The authorization of shop {world.info.id} for your app is expiring "
                f"in {days} days. Please ask the seller to re-authorize.",
                "expiration_time": str(expiration),
            }
            pushed += self.push_shop_event(world, "UPCOMING_AUTHORIZATION_EXPIRATION", data)
        return {"open_id": open_id, "expiration_time": expiration, "pushed": pushed}

    # -- control ------------------------------------------------------------------------------

    def update_config(self, values: dict) -> dict:
        """Change run-time settings; raises ValueError naming a bad or unknown setting."""
        unknown = sorted(set(values) - set(RUNTIME_SETTINGS))
        if unknown:
            raise ValueError(
                f"unknown or read-only setting(s) {unknown}; settable: {sorted(RUNTIME_SETTINGS)}"
            )
        for name, value in values.items():
            kind = RUNTIME_SETTINGS[name]
            if kind is bool:
                ok = isinstance(value, bool)
            elif kind is float:
                ok = isinstance(value, int | float) and not isinstance(value, bool)
            else:
                ok = isinstance(value, kind) and not isinstance(value, bool)
            if not ok:
                raise ValueError(f"{name} must be a {kind.__name__}")
            if name == "cancel_status_word" and value not in ("CANCELLED", "CANCEL"):
                raise ValueError("cancel_status_word must be CANCELLED or CANCEL")
            if name == "redirect_url" and not value.startswith(("http://", "https://")):
                raise ValueError("redirect_url must be an http(s) URL")
        for name, value in values.items():
            setattr(self.config, name, value)
        return self.config.public_dict()

    def reset(self, auth: bool = False) -> None:
        """Back to the start: clock, writes, subscriptions, deliveries, stats, faults, caches.

        Sellers added at run time are removed. Tokens survive unless ``auth`` is True.
        """
        with self.lock:
            self.clock.reset()
            initial = self.config.shops
            every = [*self.worlds, *self.removed.values()]
            self.worlds = sorted((w for w in every if w.slot < initial), key=lambda w: w.slot)
            self.removed = {}
            for world in self.worlds:
                world.reset()
            self.by_shop_id = {w.info.id: w for w in self.worlds}
            self.by_cipher = {w.info.cipher: w for w in self.worlds}
            self.sellers = {
                open_id: r for open_id, r in self.sellers.items() if r.slot < self.config.sellers
            }
            for open_id in self.sellers:  # shops added to or removed from a seller are undone
                self.set_shop_ids(
                    open_id, [w.info.id for w in self.worlds if w.info.open_id == open_id]
                )
            self.webhooks.clear()
            self.dispatcher.clear()
            self.stats.reset()
            self.faults.clear()
            self.render_cache.clear()
            self.query_cache.clear()
            self.data_version += 1
            if auth:
                self.auth.reset()

    def state_dict(self) -> dict:
        """Clock, shops, sellers, faults, config and token counts (never a secret)."""
        return {
            "clock": {
                "now": self.now(),
                "frozen": self.clock.frozen,
                "anchor": self.anchor,
                "orders_start": self.anchor - self.config.days * 86400,
            },
            "shops": [w.info.as_dict() for w in self.worlds],
            "removed_shops": [w.info.as_dict() for w in self.removed.values()],
            "sellers": [
                {**r.info.as_dict(), "authorized": r.info.open_id not in self.auth.deauthorized}
                for r in self.sellers.values()
            ],
            "faults": self.faults.settings.as_dict(),
            "config": self.config.public_dict(),
            "tokens": self.auth.token_counts(),
            "webhooks": self.webhooks.all(),
            "webhook_pending": self.dispatcher.pending,
            "cache": self.render_cache.stats(),
        }

    def close(self) -> None:
        """Stop background threads."""
        self.dispatcher.close()


def _order_keys(world: ShopWorld, ids: Sequence[int], t: int) -> list[tuple[int, ...]]:
    """Cache keys of orders ``ids`` at ``t``: an order's JSON changes only at the steps of its
    lifecycle (status transitions, the buyer's cancel request, shipping milestones), so a key
    names the step and a body is reused at every later time of that step."""
    lc = lifecycles(world.orders, np.asarray(ids, dtype=np.int64))
    steps = np.stack(
        [
            lc.count_at(t),
            lc.requested_by(t),
            lc.rts <= t,
            lc.collect <= t,
            lc.deliver <= t,
        ],
        axis=1,
    ).tolist()
    base = world.slot << ORDER_KEY_BITS
    return [(base + i, *step) for i, step in zip(ids, steps, strict=True)]
