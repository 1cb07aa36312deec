"""``tiktok_event_webhooks``: the webhook addresses registered with TikTok, per shop."""

from __future__ import annotations

import sqlalchemy as sa

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.errors import UnknownShopError
from tiktok_pipeline.store._sql import upsert_insert
from tiktok_pipeline.store.models import EventWebhook
from tiktok_pipeline.store.schema import tiktok_event_webhooks as hooks_t
from tiktok_pipeline.store.schema import tiktok_shops as shop_t


class EventWebhookRegistry:
    """Mirror of what Update/Delete Shop Webhook told TikTok, one row per shop and event type."""

    def __init__(self, engine: sa.Engine) -> None:
        """Use ``engine`` (already migrated) for every query."""
        self.engine = engine

    def record(self, shop_id: str, event_type: str, address: str) -> None:
        """Remember that ``shop_id`` sends ``event_type`` to ``address`` (replaces the old one)."""
        now = utcnow()
        with self.engine.begin() as conn:
            known = sa.select(shop_t.c.id).where(shop_t.c.id == str(shop_id))
            if conn.execute(known).first() is None:
                raise UnknownShopError(
                    f"no shop {shop_id!r} in the token store, so no webhook can be recorded "
                    "for it; authorize the shop first (`tiktok-pipeline shops list` shows "
                    "the known ones)"
                )
            statement = (
                upsert_insert(conn, hooks_t)
                .values(
                    shop_id=str(shop_id),
                    event_type=event_type,
                    address=address,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_update(
                    index_elements=[hooks_t.c.shop_id, hooks_t.c.event_type],
                    set_={"address": address, "updated_at": now},
                )
            )
            conn.execute(statement)

    def remove(self, shop_id: str, event_type: str) -> None:
        """Forget ``event_type`` for this shop only (other shops keep theirs)."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.delete(hooks_t)
                .where(hooks_t.c.shop_id == str(shop_id))
                .where(hooks_t.c.event_type == event_type)
            )

    def list(self, shop_id: str | None = None) -> list[EventWebhook]:
        """The registered webhooks (of one shop, or all), ordered by shop and event type."""
        query = sa.select(hooks_t).order_by(hooks_t.c.shop_id, hooks_t.c.event_type)
        if shop_id is not None:
            query = query.where(hooks_t.c.shop_id == str(shop_id))
        with self.engine.connect() as conn:
            return [EventWebhook(**row._mapping) for row in conn.execute(query)]
