"""Shops that come back get the days they missed: the new-shop history sensor's memory of who left.

The sensor syncs only active shops; a shop it has handled may later stop being active
(``departed``: the seller removed it from the app; ``deauthorized``; ``needs_reauth``) and is not
synced while away. The sensor's cursor therefore remembers, per handled shop that is away, the
first day it may have missed; when the shop is active again the sensor asks for those days (at
most its history window) and forgets the entry. The day is taken from the store: the shop's
``deauthorized_at`` (set when it departed or was deauthorized), else its ``updated_at``, seen on
the first tick after it left, minus one day, whose late updates the daily re-sync of yesterday
would have fetched. A shop that leaves and comes back between two ticks is not noticed; it
missed at most those minutes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from tiktok_pipeline.store import Shop, ShopStatus

#: Besides the day a shop left: the day before, whose late updates it may have missed too.
MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class HistoryCursor:
    """The sensor's cursor: the shops it gave their history, and those away since a day."""

    handled: frozenset[str] = frozenset()
    #: Handled shops not active now, with the first day they may have missed.
    away: dict[str, date] = field(default_factory=dict)

    @classmethod
    def parse(cls, cursor: str | None) -> HistoryCursor:
        """The cursor a tick saved (``{"shops": [...]}`` of older versions reads as none away)."""
        if not cursor:
            return cls()
        data = json.loads(cursor)
        away = {shop: date.fromisoformat(day) for shop, day in data.get("away", {}).items()}
        return cls(frozenset(data["shops"]), away)

    def to_json(self) -> str:
        """The cursor text (``away`` only when a shop is away)."""
        data: dict[str, object] = {"shops": sorted(self.handled)}
        if self.away:
            data["away"] = {shop: day.isoformat() for shop, day in sorted(self.away.items())}
        return json.dumps(data)


def follow_shops(
    cursor: HistoryCursor, shops: Iterable[Shop]
) -> tuple[list[str], dict[str, date], HistoryCursor]:
    """What the store's ``shops`` mean for the sensor: (new shops, returned shops with their
    first missed day, the next cursor).

    New: active and never handled. Returned: handled, remembered as away, active again.
    """
    new: list[str] = []
    returned: dict[str, date] = {}
    away: dict[str, date] = {}
    for shop in shops:
        active = shop.status is ShopStatus.ACTIVE
        if shop.id not in cursor.handled:
            if active:
                new.append(shop.id)
        elif shop.id in cursor.away:
            if active:
                returned[shop.id] = cursor.away[shop.id]
            else:
                away[shop.id] = cursor.away[shop.id]
        elif not active:
            left = shop.deauthorized_at or shop.updated_at
            away[shop.id] = left.date() - MARGIN
    return new, returned, HistoryCursor(cursor.handled | set(new), away)
