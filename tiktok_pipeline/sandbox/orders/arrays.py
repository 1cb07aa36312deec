"""Orders as arrays: the hashes, lifecycles and attributes of many orders at once.

The same arithmetic as :class:`~tiktok_pipeline.sandbox.orders.book.OrderBook` and
:func:`~tiktok_pipeline.sandbox.orders.lifecycle.lifecycle_of` (one order at a time), written
with numpy so that the hashes of a page of orders, or the states of a search window of a
hundred thousand, cost a few dozen array operations. uint64 arithmetic wraps
modulo 2**64 like the reference's masked Python integers; the float steps (create time,
first SKU pick) are the same IEEE operations in the same order. Operations are batched
across hashes (one array per kind of hash, stacked) because on small batches each numpy
call costs more than its arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiktok_pipeline.sandbox.orders.book import OrderBook, promotion_kind, shipping_class
from tiktok_pipeline.sandbox.orders.lifecycle import (
    AWAITING_COLLECTION,
    AWAITING_SHIPMENT,
    CANCELLED,
    COMPLETED,
    DAY,
    DELIVERED,
    IN_TRANSIT,
    ON_HOLD,
    PATH_NORMAL,
    PATH_ON_HOLD,
    PATH_SHIP_CANCEL,
    PATH_UNPAID_CANCEL,
    UNPAID,
)
from tiktok_pipeline.sandbox.rng import GOLDEN

#: "Never": the time of a transition that does not exist.
NEVER = np.iinfo(np.int64).max
#: Most units (line items) an order has.
MAX_UNITS = 5
#: Who cancels (``OrderLifecycles.by``).
BY_BUYER, BY_SYSTEM, BY_SELLER = range(3)

_U = np.uint64
_GOLDEN = _U(GOLDEN)
_M1 = _U(0xBF58476D1CE4E5B9)
_M2 = _U(0x94D049BB133111EB)
_TWO64 = 18446744073709551616.0
#: The attribute hash plus 1, 2, 3: the reference's second-level hashes.
_SECOND_OFFSETS = np.array([[0], [1], [2], [3]], np.uint64)

# -- lifecycle tables -------------------------------------------------------------------------

# Random offsets of a lifecycle: (hash: 0 h / 1 h2, shift, mask, modulus, factor, addend).
_OFFSETS = (
    (0, 10, 0x7FF, 1771, 1, 30),  # paid after creation
    (1, 38, 0x1FFFF, 84601, 1, 1800),  # unpaid order cancelled after creation
    (1, 38, 0x1FFFF, 43201, 1, 600),  # buyer asks to cancel after payment
    (0, 39, 0x1FFFF, 39601, 1, 3600),  # cancelled after the buyer asked / the seller decided
    (1, 55, 0x1FF, 1 << 20, 7, 3600),  # on hold until after payment
    (0, 21, 0x3FFFF, 165601, 1, 7200),  # ready to ship after payment (and the hold)
    (0, 39, 0x1FFFF, 79201, 1, 7200),  # collected after ready to ship
    (1, 0, 0x7FFFF, 259201, 1, DAY),  # delivered after collection
    (1, 19, 0x7FFFF, 259201, 1, 3 * DAY),  # completed after delivery
)
_O_HASH = np.array([o[0] for o in _OFFSETS], np.intp)
_O_SHIFT = np.array([o[1] for o in _OFFSETS], np.uint64)[:, None]
_O_MASK = np.array([o[2] for o in _OFFSETS], np.uint64)[:, None]
_O_MOD = np.array([o[3] for o in _OFFSETS], np.uint64)[:, None]
_O_FACTOR = np.array([o[4] for o in _OFFSETS], np.uint64)[:, None]
_O_ADD = np.array([o[5] for o in _OFFSETS], np.uint64)[:, None]
# Candidate transition times, by row of the ``events`` array of ``lifecycles``.
(
    _C,
    _PAID,
    _CANCEL_UNPAID,
    _REQUEST,
    _CANCEL_SHIP,
    _HOLD_END,
    _RTS,
    _COLLECT,
    _DELIVER,
    _COMPLETE,
    _NEVER,
) = range(11)
#: How each candidate follows another: (event, earlier event, offset row of _OFFSETS).
_EVENT_CHAIN = (
    (_PAID, _C, 0),
    (_CANCEL_UNPAID, _C, 1),
    (_REQUEST, _PAID, 2),
    (_CANCEL_SHIP, _REQUEST, 3),
    (_HOLD_END, _PAID, 4),
    (_RTS, _PAID, 5),
    (_COLLECT, _RTS, 6),
    (_DELIVER, _COLLECT, 7),
    (_COMPLETE, _DELIVER, 8),
)
#: Per variant (normal, unpaid cancel, seller cancel, buyer cancel, on hold): which
#: candidate is transition j, and the status it starts. Padded with "never".
_VARIANT_EVENTS = np.array(
    [
        [_C, _PAID, _RTS, _COLLECT, _DELIVER, _COMPLETE, _NEVER, _NEVER],
        [_C, _CANCEL_UNPAID, _NEVER, _NEVER, _NEVER, _NEVER, _NEVER, _NEVER],
        [_C, _PAID, _CANCEL_SHIP, _NEVER, _NEVER, _NEVER, _NEVER, _NEVER],
        [_C, _PAID, _REQUEST, _CANCEL_SHIP, _NEVER, _NEVER, _NEVER, _NEVER],
        [_C, _PAID, _HOLD_END, _RTS, _COLLECT, _DELIVER, _COMPLETE, _NEVER],
    ],
    np.intp,
)
_VARIANT_STATUSES = np.array(
    [
        [UNPAID, AWAITING_SHIPMENT, AWAITING_COLLECTION, IN_TRANSIT, DELIVERED, COMPLETED, 0, 0],
        [UNPAID, CANCELLED, 0, 0, 0, 0, 0, 0],
        [UNPAID, AWAITING_SHIPMENT, CANCELLED, 0, 0, 0, 0, 0],
        [UNPAID, AWAITING_SHIPMENT, AWAITING_SHIPMENT, CANCELLED, 0, 0, 0, 0],
        [
            UNPAID,
            ON_HOLD,
            AWAITING_SHIPMENT,
            AWAITING_COLLECTION,
            IN_TRANSIT,
            DELIVERED,
            COMPLETED,
            0,
        ],
    ],
    np.int64,
)
_V_NORMAL, _V_UNPAID_CANCEL, _V_SELLER_CANCEL, _V_BUYER_CANCEL, _V_ON_HOLD = range(5)
_VARIANT_PATH = np.array(
    [PATH_NORMAL, PATH_UNPAID_CANCEL, PATH_SHIP_CANCEL, PATH_SHIP_CANCEL, PATH_ON_HOLD], np.int64
)
#: Variant by the low 10 bits of the lifecycle hash (buyer cancel: seller cancel + 1).
_VARIANT_OF_ROLL = np.array(
    [
        _V_UNPAID_CANCEL
        if r < 61
        else _V_SELLER_CANCEL
        if r < 102
        else _V_ON_HOLD
        if r < 133
        else _V_NORMAL
        for r in range(1024)
    ],
    np.intp,
)

# -- attribute tables -------------------------------------------------------------------------

#: Units by (roll, extra): 60% one, 25% two, 10% three, 5% four or five.
_UNITS = np.array(
    [
        1 if r < 60 else 2 if r < 85 else 3 if r < 95 else 4 + e
        for r in range(100)
        for e in range(2)
    ],
    np.int64,
)
#: Promotion kind by roll (``book.promotion_kind``).
_PROMO_KIND = np.array([promotion_kind(p) for p in range(100)], np.int64)
#: Shipping discount class by roll (``book.shipping_class``).
_SHIP_CLASS = np.array([shipping_class(s) for s in range(100)], np.int64)


def mix64_array(x: np.ndarray) -> np.ndarray:
    """:func:`rng.mix64` of every element of a uint64 array."""
    x = x + _GOLDEN
    x ^= x >> _U(30)
    x *= _M1
    x ^= x >> _U(27)
    x *= _M2
    x ^= x >> _U(31)
    return x


def offset(base: int, idx: np.ndarray) -> np.ndarray:
    """``base + idx`` modulo 2**64 as uint64."""
    return idx.astype(np.uint64) + _U(base & 0xFFFFFFFFFFFFFFFF)


def bits(h: np.ndarray, shift: int, mask: int) -> np.ndarray:
    """``(h >> shift) & mask`` as int64."""
    return ((h >> _U(shift)) & _U(mask)).astype(np.int64)


def radix_digits(x: np.ndarray, radices: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The reference's chain of ``x, d = divmod(x, r)``: (digits (len(radices), n), rest)."""
    places = [1]
    for r in radices:
        places.append(places[-1] * r)
    if places[-1] >= 1 << 64:
        raise ValueError("radices too large for one 64-bit hash")
    place = np.array(places[:-1], np.uint64)[:, None]
    found = ((x // place) % np.array(radices, np.uint64)[:, None]).astype(np.int64)
    return found, x // _U(places[-1])


@dataclass
class OrderHashes:
    """The hashes every generated value of a batch of orders derives from."""

    idx: np.ndarray
    create_time: np.ndarray
    lifecycle: np.ndarray
    lifecycle2: np.ndarray
    attr: np.ndarray
    picks_hash: np.ndarray
    draws: np.ndarray
    return_pick: np.ndarray
    layout: np.ndarray


def hashes(book: OrderBook, idx: np.ndarray) -> OrderHashes:
    """The hashes of every index (see ``OrderBook.create_time/lifecycle/base``)."""
    n = len(idx)
    every = book.return_every
    first = np.empty((4, n), np.uint64)
    first[:3] = idx.astype(np.uint64)
    first[3] = (idx // every).astype(np.uint64)
    first += np.array(
        [[book.base_time], [book.base_lifecycle], [book.base_attr], [book.base_return]], np.uint64
    )
    first = mix64_array(first)
    second = np.empty((4, n), np.uint64)
    second[0] = first[1]
    second[1:] = first[2]
    second += _SECOND_OFFSETS
    second = mix64_array(second)
    u = first[0].astype(np.float64) / _TWO64
    return OrderHashes(
        idx=idx,
        create_time=book.start + ((idx.astype(np.float64) + u) * book.step).astype(np.int64),
        lifecycle=first[1],
        lifecycle2=second[0],
        attr=first[2],
        picks_hash=second[2],
        draws=second[3],
        return_pick=(first[3] % _U(every)).astype(np.int64) == idx % every,
        layout=second[1],
    )


@dataclass
class OrderLifecycles:
    """The lifecycles of a batch of orders.

    ``times[n, j]`` is when ``statuses[n, j]`` began (NEVER for missing transitions; the
    last column is always NEVER). ``by``: who cancels (BY_*); ``request``: when the buyer
    asks to cancel (0: never); ``rts``, ``collect``, ``deliver``: those transitions' times
    (meaningful on the normal and on-hold paths only, see ``going``).
    """

    create_time: np.ndarray
    times: np.ndarray
    statuses: np.ndarray
    path: np.ndarray
    by: np.ndarray
    request: np.ndarray
    going: np.ndarray
    rts: np.ndarray
    collect: np.ndarray
    deliver: np.ndarray

    def count_at(self, t: int) -> np.ndarray:
        """How many transitions of each order happened at or before ``t``."""
        return (self.times <= t).sum(axis=1)

    def requested_by(self, t: int) -> np.ndarray:
        """Whether the buyer has asked to cancel at or before ``t`` (cancelled since or not).

        ``request`` is 0 for orders without a request, but 0 is also a time: the path says.
        """
        return (self.path == PATH_SHIP_CANCEL) & (self.by == BY_BUYER) & (self.request <= t)

    def at(self, t: int) -> OrderStates:
        """Each order's state at ``t`` (orders must exist at ``t``)."""
        k = self.count_at(t)
        rows = np.arange(len(k))
        return OrderStates(
            k=k,
            status=self.statuses[rows, k - 1],
            update_time=self.times[rows, k - 1],
            valid_until=self.times[rows, k],
        )


@dataclass
class OrderStates:
    """Transition count, status, update time and next change of orders at one time."""

    k: np.ndarray
    status: np.ndarray
    update_time: np.ndarray
    valid_until: np.ndarray


def lifecycles(book: OrderBook, idx: np.ndarray, hs: OrderHashes | None = None) -> OrderLifecycles:
    """:meth:`OrderBook.lifecycle` of every index."""
    if hs is None:
        hs = hashes(book, idx)
    n = len(idx)
    h = hs.lifecycle
    h2 = hs.lifecycle2
    top = h2 >> _U(60)
    variant = _VARIANT_OF_ROLL[(h & _U(1023)).astype(np.intp)]
    # Ship cancels: the seller's when the top two bits are 0, else the buyer asks first.
    variant += (variant == _V_SELLER_CANCEL) & ((top & _U(3)) != 0)
    variant[(variant >= _V_UNPAID_CANCEL) & (variant <= _V_BUYER_CANCEL) & hs.return_pick] = (
        _V_NORMAL
    )
    hold = variant == _V_ON_HOLD

    pair = np.array((h, h2))[_O_HASH]
    offsets = (((pair >> _O_SHIFT) & _O_MASK) % _O_MOD * _O_FACTOR + _O_ADD).astype(np.int64)
    # On-hold orders get ready to ship (and so on) after the hold as well.
    offsets[5] += offsets[4] * hold
    events = np.empty((11, n), np.int64)
    events[_C] = hs.create_time
    for event, after, row in _EVENT_CHAIN:
        np.add(events[after], offsets[row], out=events[event])
    events[_NEVER] = NEVER
    times = events.ravel()[_VARIANT_EVENTS[variant] * n + np.arange(n)[:, None]]
    return OrderLifecycles(
        create_time=hs.create_time,
        times=times,
        statuses=_VARIANT_STATUSES[variant],
        path=_VARIANT_PATH[variant],
        by=np.where(
            variant == _V_UNPAID_CANCEL,
            (top & _U(1)).astype(np.int64),
            (variant == _V_SELLER_CANCEL) * BY_SELLER,
        ),
        request=np.where(variant == _V_BUYER_CANCEL, events[_REQUEST], 0),
        going=(variant == _V_NORMAL) | hold,
        rts=events[_RTS],
        collect=events[_COLLECT],
        deliver=events[_DELIVER],
    )


@dataclass
class OrderAttributes:
    """The time-independent draws of a batch of orders (see ``OrderBook.base``).

    Per order: ``buyer``, ``tiktok`` (TikTok shipping), ``warehouse``, ``place``,
    ``promo_kind`` (0 none, 1 seller discount, 2 platform discount), ``ship_class``
    (shipping discount class 0-3), ``units``; per unit slot (n, MAX_UNITS): ``picks`` (index
    into the sellable SKUs) and ``present``.
    """

    buyer: np.ndarray
    tiktok: np.ndarray
    warehouse: np.ndarray
    place: np.ndarray
    promo_kind: np.ndarray
    ship_class: np.ndarray
    units: np.ndarray
    picks: np.ndarray
    present: np.ndarray


def buyers_of(book: OrderBook, h_attr: np.ndarray) -> np.ndarray:
    """:meth:`OrderBook.buyer_index` of every attribute hash."""
    return ((h_attr & _U(0xFFFFFFFF)) % _U(book.n_buyers)).astype(np.int64)


def tiktok_shipping(h_attr: np.ndarray) -> np.ndarray:
    """True where :meth:`OrderBook.shipping_type` is TIKTOK."""
    return bits(h_attr, 32, 0xFF) < 205


def warehouses_of(book: OrderBook, h_attr: np.ndarray) -> np.ndarray:
    """The index into ``book.warehouses`` of every attribute hash."""
    return bits(h_attr, 40, 0xFF) % len(book.warehouses)


def attributes(book: OrderBook, idx: np.ndarray, hs: OrderHashes | None = None) -> OrderAttributes:
    """The static draws of every index, as ``OrderBook.base`` makes them."""
    if hs is None:
        hs = hashes(book, idx)
    n = len(idx)
    h_attr = hs.attr
    (roll, extra, same_roll, place, promo, ship_roll), x = radix_digits(
        hs.layout, (100, 2, 10, len(book.region.places), 100, 100)
    )
    n_sell = len(book.catalog.sellable)
    picks = np.empty((n, MAX_UNITS), np.int64)
    picks[:, 0] = (n_sell * ((x & _U(0xFFFFFFF)).astype(np.float64) / 268435456.0) ** 2).astype(
        np.int64
    )
    # Units after the first: successive base-n_sell digits of a second hash, unless all
    # units are the same SKU.
    if n_sell ** (MAX_UNITS - 1) < 1 << 64:
        later, _rest = radix_digits(hs.picks_hash, (n_sell,) * (MAX_UNITS - 1))
        picks[:, 1:] = later.T
    else:
        y = hs.picks_hash
        for u in range(1, MAX_UNITS):
            y, pick = np.divmod(y, _U(n_sell))
            picks[:, u] = pick.astype(np.int64)
    same = same_roll < 7
    picks[same, 1:] = picks[same, :1]
    units = _UNITS[roll * 2 + extra]
    return OrderAttributes(
        buyer=buyers_of(book, h_attr),
        tiktok=tiktok_shipping(h_attr),
        warehouse=warehouses_of(book, h_attr),
        place=place,
        promo_kind=_PROMO_KIND[promo],
        ship_class=_SHIP_CLASS[ship_roll],
        units=units,
        picks=picks,
        present=np.arange(MAX_UNITS) < units[:, None],
    )


def unit_counts(book: OrderBook, idx: np.ndarray) -> np.ndarray:
    """How many line items (units) every order has."""
    layout = mix64_array(mix64_array(offset(book.base_attr, idx)) + _U(1))
    (roll, extra), _rest = radix_digits(layout, (100, 2))
    return _UNITS[roll * 2 + extra]
