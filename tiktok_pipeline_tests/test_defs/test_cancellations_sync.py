"""Cancellations: a CANCELLATION_STATUS_CHANGE push refreshes the cancellation and its order,
end to end from the sandbox's delivery to the warehouse row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.defs.webhooks.routing import plan
from tiktok_pipeline.defs.webhooks.sensor import build_webhook_sensor
from tiktok_pipeline.web import run_web_service
from tiktok_pipeline_tests.test_defs.conftest import authorize_seller, day_key
from tiktok_pipeline_tests.test_defs.test_webhook_sensor import _row, _run, _tick

CANCELLATION_STATUS_CHANGE = 11


@pytest.fixture(autouse=True)
def _clock_back(sandbox):
    """The test moves the sandbox's clock; put it back for the next one."""
    yield
    sandbox.control.reset()


def test_a_cancellation_push_refreshes_the_cancellation_and_its_order():
    work = plan(
        [
            _row(1, CANCELLATION_STATUS_CHANGE, {"cancel_id": "C1", "order_id": "O1"}),
            _row(2, CANCELLATION_STATUS_CHANGE, {"cancel_id": "C2", "order_id": "O2"}),
            _row(3, CANCELLATION_STATUS_CHANGE, {"cancel_status": "X"}),
        ]
    )
    shop = work.refresh["S1"]
    assert (shop.cancellations, shop.orders, shop.row_ids) == ({"C1", "C2"}, {"O1", "O2"}, [1, 2])
    assert shop.returns == set() and shop.products == set()
    assert [row_id for row_id, _ in work.ignored] == [3]


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_cancellation_pushed_by_the_sandbox_reaches_the_warehouse(
    sandbox, store, warehouse, defs, instance, database
):
    shop_id = authorize_seller(sandbox, store)[0]
    job = defs.resolve_job_def("tiktok_sync_job")
    assert job.execute_in_process(partition_key=day_key(1), instance=instance).success
    sensor = build_webhook_sensor()
    cursor = _tick(sensor, instance, database).cursor
    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        credentials=store.tokens,
    )
    api = client.shop(shop_id)
    with run_web_service(store=store) as service:
        api.event.update_webhook(
            body={
                "address": service.url("/tiktok/webhooks/all"),
                "event_type": "CANCELLATION_STATUS_CHANGE",
            }
        )
        try:
            changes = sandbox.control.advance(2 * 86400)
            assert changes["pushed"] > 0
            sandbox.control.deliveries(wait=30)
        finally:
            api.event.delete_webhook(body={"event_type": "CANCELLATION_STATUS_CHANGE"})
    pushes = store.webhooks.ready(after_id=0, dispatched_before=datetime.now(UTC), limit=10_000)
    assert pushes and {p.type for p in pushes} == {CANCELLATION_STATUS_CHANGE}
    result = _tick(sensor, instance, database, cursor)
    (request,) = result.run_requests
    assert _run(defs, instance, request).success

    cancel_ids = sorted({p.data["cancel_id"] for p in pushes})
    served = {
        c["cancel_id"]: c
        for c in api.returns.pages(
            "cancellations", query={"page_size": 50}, body={"cancel_ids": cancel_ids[:50]}
        ).items()
    }
    assert len(served) == len(cancel_ids[:50])
    with warehouse.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT id, order_id, cancel_status, update_time, _source "
                "FROM tiktok_cancellations WHERE shop_id = :s"
            ),
            {"s": shop_id},
        ).all()
        orders = set(
            connection.execute(
                sa.text("SELECT id FROM tiktok_orders WHERE shop_id = :s AND _source = 'webhook'"),
                {"s": shop_id},
            ).scalars()
        )
    landed = {r.id: (r.order_id, r.cancel_status, r.update_time, r._source) for r in rows}
    assert {i: landed.get(i) for i in served} == {
        i: (c["order_id"], c["cancel_status"], c["update_time"], "webhook")
        for i, c in served.items()
    }
    # The cancelled orders were fetched again too: their status changed with the cancellation.
    assert {c["order_id"] for c in served.values()} <= orders
    assert {store.webhooks.get(p.id).status for p in pushes} == {"processed"}
