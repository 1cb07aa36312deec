"""An authorization's shop list applied to ``tiktok_shops``: who joined, who left, who changed.

TikTok's GET /authorization/202309/shops says which shops a seller's authorization covers now.
Both the consent (``TokenStore.save_authorization``) and the periodic shop-list refresh
(``TokenStore.update_shop_list``) apply that answer here, in the caller's transaction, so both
paths behave the same. Tokens are never read or written.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.store._sql import fitting, upsert_insert
from tiktok_pipeline.store.authorization_rows import (
    UnknownAuthorizationError,
    unknown_authorization,
)
from tiktok_pipeline.store.models import ShopStatus
from tiktok_pipeline.store.schema import tiktok_authorizations as auth_t
from tiktok_pipeline.store.schema import tiktok_shops as shop_t

log = logging.getLogger(__name__)

#: The columns TikTok's shop list describes; a change in any of them is an update.
LISTED_COLUMNS = ("name", "code", "region", "seller_type", "cipher")


@dataclass(frozen=True)
class ShopListChange:
    """What applying one authorization's shop list changed in the store (shop ids, sorted).

    ``added``: shops the store did not know. ``returned``: known shops that are now active
    under this authorization again (they had left it, were marked, or belonged to another
    seller's authorization). ``departed``: shops of this authorization no longer listed, now
    ``departed``. ``updated``: listed, active shops whose name, code, region, seller type
    or cipher changed. ``unchanged``: the other listed shops.
    """

    authorization_id: int
    open_id: str
    added: tuple[str, ...] = ()
    returned: tuple[str, ...] = ()
    departed: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    #: Set when nothing was written: why (e.g. the authorization is no longer active).
    skipped: str | None = field(default=None)

    @property
    def listed(self) -> tuple[str, ...]:
        """Every shop the list named."""
        return tuple(sorted((*self.added, *self.returned, *self.updated, *self.unchanged)))

    @property
    def changed(self) -> bool:
        """True when a shop joined, came back, left or changed."""
        return bool(self.added or self.returned or self.departed or self.updated)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (ids only; never a token)."""
        return {
            "authorization_id": self.authorization_id,
            "open_id": self.open_id,
            "added": list(self.added),
            "returned": list(self.returned),
            "departed": list(self.departed),
            "updated": list(self.updated),
            "unchanged": list(self.unchanged),
            "skipped": self.skipped,
        }


def departed_reason(open_id: str, now: datetime) -> str:
    """The ``status_reason`` of a shop that left its authorization's shop list."""
    return (
        f"no longer in the shop list of its authorization (open_id {open_id}) since "
        f"{now:%Y-%m-%d %H:%M} UTC: the seller removed the shop from the app's authorization; "
        "it becomes active again when the seller adds it back (the next shop-list refresh or "
        "consent sees it)"
    )


def listed_shop_values(shops: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The listed shops' columns by shop id; ValueError for a shop without an id or a value
    too long for its column (checked before anything is written)."""
    values: dict[str, dict[str, Any]] = {}
    for shop in shops:
        if not shop.get("id"):
            raise ValueError(
                "a shop without an id: pass `data.shops` of GET /authorization/202309/shops"
            )
        shop_id = str(shop["id"])
        fitting(shop_t.c.id, shop_id)
        row = {column: shop.get(column) for column in LISTED_COLUMNS}
        for column, value in row.items():
            fitting(shop_t.c[column], value)
        values[shop_id] = row
    return values


def apply_shop_list(
    conn: sa.Connection,
    authorization_id: int,
    open_id: str,
    listed: dict[str, dict[str, Any]],
    now: datetime,
) -> ShopListChange:
    """Make ``tiktok_shops`` match an authorization's shop list, inside ``conn``'s transaction.

    Listed shops are inserted or updated (their listed columns refreshed) and active, pointing
    at ``authorization_id``; this authorization's shops that are not listed are marked
    ``departed`` with :func:`departed_reason` (``deauthorized_at``: when they left), except
    shops already ``deauthorized`` (SELLER_DEAUTHORIZATION), which stay so. Rows that do not
    change are not written. ``listed``: the shop list checked by :func:`listed_shop_values`.
    """
    ids = sorted(listed)
    mine = shop_t.c.authorization_id == authorization_id
    query = sa.select(shop_t).where(sa.or_(mine, shop_t.c.id.in_(ids)) if ids else mine)
    # Locked, in id order, so that a concurrent consent or refresh of the same shops waits
    # (Postgres) rather than deadlocks.
    known = {row.id: row for row in conn.execute(query.order_by(shop_t.c.id).with_for_update())}
    added: list[str] = []
    returned: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    for shop_id in ids:
        values = listed[shop_id]
        row = known.get(shop_id)
        if row is None:
            added.append(shop_id)
            insert = upsert_insert(conn, shop_t)
            conn.execute(
                insert.values(
                    id=shop_id,
                    authorization_id=authorization_id,
                    status=ShopStatus.ACTIVE.value,
                    created_at=now,
                    updated_at=now,
                    **values,
                ).on_conflict_do_update(
                    index_elements=[shop_t.c.id],
                    set_={**values, "authorization_id": authorization_id, "updated_at": now},
                )
            )
            continue
        active_here = (
            row.authorization_id == authorization_id and row.status == ShopStatus.ACTIVE.value
        )
        differs = any(getattr(row, column) != value for column, value in values.items())
        if active_here and not differs:
            unchanged.append(shop_id)
            continue
        (updated if active_here else returned).append(shop_id)
        conn.execute(
            sa.update(shop_t)
            .where(shop_t.c.id == shop_id)
            .values(
                **values,
                authorization_id=authorization_id,
                status=ShopStatus.ACTIVE.value,
                status_reason=None,
                deauthorized_at=None,
                updated_at=now,
            )
        )
    departed = sorted(
        shop_id
        for shop_id, row in known.items()
        if shop_id not in listed
        and row.authorization_id == authorization_id
        and row.status not in (ShopStatus.DEAUTHORIZED.value, ShopStatus.DEPARTED.value)
    )
    if departed:
        conn.execute(
            sa.update(shop_t)
            .where(shop_t.c.id.in_(departed))
            .values(
                status=ShopStatus.DEPARTED.value,
                status_reason=departed_reason(open_id, now),
                deauthorized_at=now,
                updated_at=now,
            )
        )
    change = ShopListChange(
        authorization_id=authorization_id,
        open_id=open_id,
        added=tuple(added),
        returned=tuple(returned),
        departed=tuple(departed),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
    )
    if change.changed:
        log.info(
            "authorization %s (open_id %s) shop list: added %s; returned %s; departed %s; "
            "updated %s",
            authorization_id,
            open_id,
            ", ".join(change.added) or "none",
            ", ".join(change.returned) or "none",
            ", ".join(change.departed) or "none",
            ", ".join(change.updated) or "none",
        )
    return change


def update_shop_list(
    engine: sa.Engine,
    authorization: int | str,
    shops: Sequence[Mapping[str, Any]],
    *,
    consented_at: datetime | None = None,
) -> ShopListChange:
    """Apply an authorization's current shop list in one transaction (see
    ``TokenStore.update_shop_list``); nothing is written unless the authorization is active and,
    with ``consented_at``, was not authorized again since."""
    listed = listed_shop_values(shops)  # refuse a bad list before anything is locked
    if isinstance(authorization, str):
        which = auth_t.c.open_id == authorization
    else:
        which = auth_t.c.id == int(authorization)
    query = sa.select(auth_t.c.id, auth_t.c.open_id, auth_t.c.status, auth_t.c.authorized_at).where(
        which
    )
    with engine.begin() as conn:
        # Locked: a consent or status change of this seller waits for the list (Postgres).
        row = conn.execute(query.with_for_update()).first()
        if row is None:
            if isinstance(authorization, str):
                raise UnknownAuthorizationError(
                    f"no authorization with open_id {authorization} in the token store; "
                    "`tiktok-pipeline shops list` shows the stored ones"
                )
            raise unknown_authorization(int(authorization))
        skipped = None
        if row.status != ShopStatus.ACTIVE.value:
            skipped = f"the authorization is {row.status}; its shop list was not applied"
        elif consented_at is not None and row.authorized_at != consented_at:
            skipped = "the seller authorized again meanwhile; that consent's shop list is newer"
        if skipped is not None:
            log.info("authorization %s: %s", row.id, skipped)
            return ShopListChange(row.id, row.open_id, skipped=skipped)
        return apply_shop_list(conn, row.id, row.open_id, listed, utcnow())
