"""Store migration 0005: shops may be ``departed``; the downgrade makes them ``deauthorized``.

On SQLite the migration copies ``tiktok_shops`` to change its CHECK; the shops' event-webhook
rows (ON DELETE CASCADE) must survive that in both directions.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from tiktok_pipeline import db
from tiktok_pipeline.store import ShopStatus, Store
from tiktok_pipeline.store.schema import VERSION_TABLE, tiktok_authorizations, tiktok_shops
from tiktok_pipeline.store.store import MIGRATIONS
from tiktok_pipeline_tests.test_store.fakes import shop, token_data

SHOP_A = "7494049642642441621"
SHOP_B = "7494049642642441622"
ADDRESS = "https://shops.example.com/tiktok/webhooks"


def _migrate(store: Store, direction, revision: str) -> None:
    with store.engine.begin() as conn:
        direction(db.alembic_config(MIGRATIONS, VERSION_TABLE, conn), revision)


def _statuses(store: Store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(tiktok_shops.c.id, tiktok_shops.c.status)).all())


def _refuses(store: Store, table: sa.Table, status: str) -> bool:
    try:
        with store.engine.begin() as conn:
            conn.execute(sa.update(table).values(status=status))
    except sa.exc.IntegrityError:
        return True
    return False


def test_departed_shops_survive_a_downgrade_as_deauthorized_and_the_upgrade_allows_them_again(
    store: Store,
) -> None:
    authorization, _ = store.tokens.save_authorization(
        token_data(), [shop(SHOP_A, "Alpha"), shop(SHOP_B, "Beta")]
    )
    store.event_webhooks.record(SHOP_B, "ORDER_STATUS_CHANGE", ADDRESS)
    store.tokens.update_shop_list(authorization.id, [shop(SHOP_A, "Alpha")])
    assert _statuses(store) == {SHOP_A: "active", SHOP_B: "departed"}

    _migrate(store, command.downgrade, "0004")

    assert _statuses(store) == {SHOP_A: "active", SHOP_B: "deauthorized"}
    gone = store.tokens.get_shop(SHOP_B)
    assert gone.name == "Beta" and gone.authorization_id == authorization.id
    assert "no longer in the shop list" in (gone.status_reason or "")
    assert [w.address for w in store.event_webhooks.list(SHOP_B)] == [ADDRESS]
    assert _refuses(store, tiktok_shops, "departed")

    _migrate(store, command.upgrade, "head")

    assert [w.address for w in store.event_webhooks.list(SHOP_B)] == [ADDRESS]
    store.tokens.set_shop_status(SHOP_B, "departed", "no longer listed")
    assert store.tokens.get_shop(SHOP_B).status is ShopStatus.DEPARTED
    assert _refuses(store, tiktok_authorizations, "departed")
    assert _refuses(store, tiktok_shops, "gone")
    # The copied table keeps its foreign keys: removing a shop still removes its webhooks.
    with store.engine.begin() as conn:
        conn.execute(sa.delete(tiktok_shops).where(tiktok_shops.c.id == SHOP_B))
    assert store.event_webhooks.list(SHOP_B) == []


@pytest.mark.parametrize("revision", ["0004", "base"])
def test_the_migration_runs_on_an_empty_store_both_ways(store: Store, revision: str) -> None:
    _migrate(store, command.downgrade, revision)
    _migrate(store, command.upgrade, "head")

    store.tokens.save_authorization(token_data(), [shop(SHOP_A)])
    store.tokens.update_shop_list(store.tokens.list_authorizations()[0].id, [])
    assert _statuses(store) == {SHOP_A: "departed"}
