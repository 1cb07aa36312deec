"""A shop's orders: derived from the seed and the clock, searched, and rendered as JSON.

- :mod:`.lifecycle`: the statuses and how one order moves through them over time.
- :mod:`.book`: :class:`OrderBook`, how order ``i`` of a shop is derived from (seed, shop,
  index): create time, hashes, buyer, address, line items and amounts.
- :mod:`.arrays`: the same derivation for many orders at once, with numpy.
- :mod:`.search`: Get Order List's filters over index ranges and arrays.
- :mod:`.text_rows`: writing the same JSON text for many objects at once (byte rows, numpy).
- :mod:`.conventions`: members that follow a rule of the region, payment or SKU (constants).
- :mod:`.member_texts`: the members that come from small tables, as text.
- :mod:`.shop_tables`: what rendering a shop's orders needs, made once: layouts of the
  fixed-width text, amounts and pre-encoded pieces.
- :mod:`.amounts`: a batch of orders' amounts in minor units, with arrays.
- :mod:`.render`: ``OrderRenderer``, the JSON an order is served as (the one renderer: a
  batch of orders at once, from arrays).
- :mod:`.price_detail`: Get Price Detail's answer.

Nothing is stored per order; every module below imports only modules above it.
"""

from tiktok_pipeline.sandbox.orders.book import LineItem, OrderBase, OrderBook
from tiktok_pipeline.sandbox.orders.lifecycle import (
    AWAITING_COLLECTION,
    AWAITING_SHIPMENT,
    CANCELLED,
    COMPLETED,
    DAY,
    DELIVERED,
    IN_TRANSIT,
    MAX_LIFECYCLE,
    ON_HOLD,
    PATH_NORMAL,
    PATH_ON_HOLD,
    PATH_SHIP_CANCEL,
    PATH_UNPAID_CANCEL,
    STATUS_CODES,
    STATUS_NAMES,
    UNPAID,
    Lifecycle,
)

__all__ = [
    "AWAITING_COLLECTION",
    "AWAITING_SHIPMENT",
    "CANCELLED",
    "COMPLETED",
    "DAY",
    "DELIVERED",
    "IN_TRANSIT",
    "MAX_LIFECYCLE",
    "ON_HOLD",
    "PATH_NORMAL",
    "PATH_ON_HOLD",
    "PATH_SHIP_CANCEL",
    "PATH_UNPAID_CANCEL",
    "STATUS_CODES",
    "STATUS_NAMES",
    "UNPAID",
    "Lifecycle",
    "LineItem",
    "OrderBase",
    "OrderBook",
]
