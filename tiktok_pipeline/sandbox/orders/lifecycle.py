"""How an order moves through its statuses: the status codes and the lifecycle of one order.

An order's lifecycle is a pure function of its create time and two 64-bit hashes: which path
it takes (normal, cancelled while unpaid, cancelled after payment, on hold) and the random
delays between its transitions (at most ``MAX_LIFECYCLE`` from creation to the last one).
:mod:`~tiktok_pipeline.sandbox.orders.arrays` computes the same for many orders at once.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86400

STATUS_NAMES = (
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
)
STATUS_CODES = {name: code for code, name in enumerate(STATUS_NAMES)}
(
    UNPAID,
    ON_HOLD,
    AWAITING_SHIPMENT,
    AWAITING_COLLECTION,
    IN_TRANSIT,
    DELIVERED,
    COMPLETED,
    CANCELLED,
) = range(8)
#: The line items' ``package_status`` and ``display_status`` by order status.
PACKAGE_STATUS = (
    "TO_FULFILL",
    "TO_FULFILL",
    "TO_FULFILL",
    "PROCESSING",
    "FULFILLING",
    "COMPLETED",
    "COMPLETED",
    "CANCELLED",
)
DISPLAY_STATUS = (
    "UNPAID",
    "AWAITING_SHIPMENT",
    "AWAITING_SHIPMENT",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
)

PATH_NORMAL, PATH_UNPAID_CANCEL, PATH_SHIP_CANCEL, PATH_ON_HOLD = range(4)

#: Longest time from an order's creation to its last transition.
MAX_LIFECYCLE = 14 * DAY


@dataclass(slots=True)
class Lifecycle:
    """An order's transitions: ``times[k]`` is when ``statuses[k]`` began.

    Consecutive entries may repeat a status (an update without a status change, e.g. the
    buyer asking to cancel).
    """

    times: tuple[int, ...]
    statuses: tuple[int, ...]
    path: int
    cancel_by: str
    request_cancel_time: int

    def index_at(self, t: int) -> int:
        """How many transitions happened at or before ``t`` (0: not created yet)."""
        times = self.times
        k = 0
        n = len(times)
        while k < n and times[k] <= t:
            k += 1
        return k


def lifecycle_of(c: int, h: int, h2: int, gets_return: bool) -> Lifecycle:
    """The lifecycle of an order created at ``c`` with lifecycle hashes ``h`` and ``h2``.

    ``gets_return``: the order is its block's return pick, which must be delivered (so it
    is never cancelled).
    """
    r = h & 1023
    if r < 61:
        path = PATH_UNPAID_CANCEL
    elif r < 102:
        path = PATH_SHIP_CANCEL
    elif r < 133:
        path = PATH_ON_HOLD
    else:
        path = PATH_NORMAL
    if path in (PATH_UNPAID_CANCEL, PATH_SHIP_CANCEL) and gets_return:
        path = PATH_NORMAL
    paid = c + 30 + ((h >> 10) & 0x7FF) % 1771
    if path == PATH_UNPAID_CANCEL:
        cancel = c + 1800 + ((h2 >> 38) & 0x1FFFF) % 84601
        by = "SYSTEM" if (h2 >> 60) & 1 else "BUYER"
        return Lifecycle((c, cancel), (UNPAID, CANCELLED), path, by, 0)
    if path == PATH_SHIP_CANCEL:
        request = paid + 600 + ((h2 >> 38) & 0x1FFFF) % 43201
        cancel = request + 3600 + ((h >> 39) & 0x1FFFF) % 39601
        by = "SELLER" if (h2 >> 60) & 3 == 0 else "BUYER"
        if by == "SELLER":
            return Lifecycle((c, paid, cancel), (UNPAID, AWAITING_SHIPMENT, CANCELLED), path, by, 0)
        return Lifecycle(
            (c, paid, request, cancel),
            (UNPAID, AWAITING_SHIPMENT, AWAITING_SHIPMENT, CANCELLED),
            path,
            by,
            request,
        )
    rts = paid + 7200 + ((h >> 21) & 0x3FFFF) % 165601
    if path == PATH_ON_HOLD:
        hold_end = paid + 3600 + ((h2 >> 55) & 0x1FF) * 7
        rts += hold_end - paid
    collect = rts + 7200 + ((h >> 39) & 0x1FFFF) % 79201
    deliver = collect + DAY + (h2 & 0x7FFFF) % 259201
    complete = deliver + 3 * DAY + ((h2 >> 19) & 0x7FFFF) % 259201
    if path == PATH_ON_HOLD:
        return Lifecycle(
            (c, paid, hold_end, rts, collect, deliver, complete),
            (
                UNPAID,
                ON_HOLD,
                AWAITING_SHIPMENT,
                AWAITING_COLLECTION,
                IN_TRANSIT,
                DELIVERED,
                COMPLETED,
            ),
            path,
            "",
            0,
        )
    return Lifecycle(
        (c, paid, rts, collect, deliver, complete),
        (UNPAID, AWAITING_SHIPMENT, AWAITING_COLLECTION, IN_TRANSIT, DELIVERED, COMPLETED),
        path,
        "",
        0,
    )
