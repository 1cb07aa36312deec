"""Webhook events that happen in a window of virtual time (t0, t1] of one shop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from tiktok_pipeline.sandbox.orders import CANCELLED, MAX_LIFECYCLE, ON_HOLD, STATUS_NAMES
from tiktok_pipeline.sandbox.returns import MAX_RETURN_SPAN
from tiktok_pipeline.sandbox.search import MAX_CANCELLATION_SPAN
from tiktok_pipeline.sandbox.world import ShopWorld


@dataclass(order=True)
class Event:
    """A change to push: when it happened, its push ``type`` and ``data``."""

    time: int
    seq: int
    type: int
    data: dict


class EventCollector:
    """Collects events up to a cap (the cap protects the server on huge advances)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.events: list[Event] = []
        self.dropped = 0

    def add(self, time: int, type_number: int, data: dict) -> None:
        """Record one event."""
        if len(self.events) >= self.cap:
            self.dropped += 1
            return
        self.events.append(Event(time, len(self.events), type_number, data))


def collect(
    world: ShopWorld, t0: int, t1: int, wanted: set[str], cancel_word: str, out: EventCollector
) -> None:
    """Add the events of ``world`` in (t0, t1] whose event_type is in ``wanted``."""
    book = world.orders
    if "ORDER_STATUS_CHANGE" in wanted:
        lo = book.first_at_or_after(t0 - MAX_LIFECYCLE)
        hi = book.created_by(t1)
        for i in range(lo, hi):
            lc = book.lifecycle(i)
            previous = None
            for time, status in zip(lc.times, lc.statuses, strict=True):
                if t0 < time <= t1 and status != previous:
                    word = cancel_word if status == CANCELLED else STATUS_NAMES[status]
                    out.add(
                        time,
                        1,
                        {
                            "order_id": book.codec.encode(i),
                            "order_status": word,
                            "is_on_hold_order": status == ON_HOLD,
                            "update_time": time,
                        },
                    )
                previous = status
    if "RETURN_STATUS_CHANGE" in wanted:
        returns = world.returns
        lo = book.first_at_or_after(t0 - MAX_RETURN_SPAN)
        hi = book.created_by(t1)
        for k in returns.block_range(lo, hi):
            i = book.return_order_index(k)
            if i >= hi or i < lo:
                continue
            rlc = returns.lifecycle(k)
            for time, return_status, role in zip(rlc.times, rlc.statuses, rlc.roles, strict=True):
                if t0 < time <= t1:
                    out.add(
                        time,
                        12,
                        {
                            "order_id": book.codec.encode(i),
                            "return_role": role,
                            "return_type": rlc.return_type,
                            "return_status": return_status,
                            "return_id": returns.codec.encode(k),
                            "create_time": rlc.create_time,
                            "update_time": time,
                        },
                    )
    if "CANCELLATION_STATUS_CHANGE" in wanted:
        cancels = world.cancellations
        lo = book.first_at_or_after(t0 - MAX_CANCELLATION_SPAN)
        hi = book.created_by(t1)
        for i in range(lo, hi):
            c = cancels.of_order(i)
            if c is None:
                continue
            for time, cancel_status in zip(c.times, c.statuses, strict=True):
                if t0 < time <= t1:
                    out.add(
                        time,
                        11,
                        {
                            "order_id": book.codec.encode(i),
                            "cancellations_role": c.role,
                            "cancel_status": cancel_status,
                            "cancel_id": cancels.codec.encode(i),
                            "create_time": c.times[0],
                        },
                    )
    product_status = "PRODUCT_STATUS_CHANGE" in wanted
    product_info = "PRODUCT_INFORMATION_CHANGE" in wanted
    if product_status or product_info:
        catalog = world.catalog
        for time, p, n in catalog.updates_between(t0, t1):
            if p.toggles and product_status:
                out.add(
                    time,
                    5,
                    {
                        "product_id": p.id,
                        "status": "PRODUCT_STATUS_CHANGED",
                        "suspended_reason": "",
                        "update_time": time,
                    },
                )
            elif not p.toggles and product_info:
                out.add(
                    time,
                    15,
                    {
                        "product_id": p.id,
                        "product_status": catalog.status(p, n),
                        "update_time": time,
                    },
                )
        if product_status:
            for p in catalog.deletions_between(t0, t1):
                out.add(
                    cast(int, p.deleted_at),
                    5,
                    {
                        "product_id": p.id,
                        "status": "DELETED",
                        "suspended_reason": "",
                        "update_time": p.deleted_at,
                    },
                )
