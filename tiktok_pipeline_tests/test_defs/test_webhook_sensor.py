"""The webhook sensor and its refresh runs: pushes become refreshed warehouse rows, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from tiktok_pipeline.defs.resources import StoreResource
from tiktok_pipeline.defs.webhooks.routing import plan
from tiktok_pipeline.defs.webhooks.sensor import build_webhook_sensor
from tiktok_pipeline.store.models import InboxRow
from tiktok_pipeline.store.webhook_inbox import WebhookInbox
from tiktok_pipeline.web import run_web_service
from tiktok_pipeline_tests.test_defs.conftest import authorize_seller, day_key

ON_BOTH_DATABASES = pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture(autouse=True)
def _clock_back(sandbox):
    """Tests here move the sandbox's clock; put it back for the next one."""
    yield
    sandbox.control.reset()


def _row(row_id: int, type_: int, data: dict, shop_id: str | None = "S1") -> InboxRow:
    return InboxRow(
        id=row_id,
        dedupe_key=str(row_id),
        tts_notification_id=str(row_id),
        type=type_,
        event_type="",
        shop_id=shop_id,
        push_timestamp=0,
        data=data,
        route="all",
        received_at=datetime.now(UTC),
        status="pending",
        attempts=0,
        run_id=None,
        error=None,
    )


def test_rows_are_sorted_into_refreshes_status_changes_and_ignored():
    work = plan(
        [
            _row(1, 1, {"order_id": "O1", "order_status": "UNPAID"}),
            _row(2, 4, {"package_list": [{"package_id": "P", "order_id_list": ["O2", "O3"]}]}),
            _row(3, 12, {"return_id": "R1", "order_id": "O4"}),
            _row(4, 15, {"product_id": "P1"}),
            _row(5, 6, {"message": "deauthorized"}, shop_id="S2"),
            _row(6, 7, {"message": "...", "expiration_time": "1893456000"}),
            _row(7, 14, {"conversation_id": "C"}),
            _row(8, 99, {}),
            _row(9, 1, {"order_status": "UNPAID"}),
            _row(10, 21, {"x": 1}, shop_id=None),
        ]
    )
    shop = work.refresh["S1"]
    assert shop.orders == {"O1", "O2", "O3", "O4"}
    assert (shop.returns, shop.products, shop.row_ids) == ({"R1"}, {"P1"}, [1, 2, 3, 4])
    assert work.deauthorized == {"S2": [5]}
    assert work.expiring == [("S1", datetime(2030, 1, 1, tzinfo=UTC), 6)]
    reasons = dict(work.ignored)
    assert set(reasons) == {7, 8, 9, 10}
    assert "NEW_MESSAGE" in reasons[7] and "99" in reasons[8]


def _push(store, app_key: str, app_secret: str, payload: dict) -> int:
    raw = json.dumps(payload).encode()
    row_id, created = store.webhooks.add(raw_body=raw, payload=payload, route="all")
    assert created
    return row_id


def _tick(sensor, instance, database, cursor=None) -> dg.SensorResult:
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"store": StoreResource(url=database)}
    ) as context:
        return sensor(context)


#: Run config that makes the client give up after one attempt (failure tests stay fast).
ONE_ATTEMPT = {
    "tiktok": {
        "config": {
            "app_key": {"env": "TIKTOK_APP_KEY"},
            "app_secret": {"env": "TIKTOK_APP_SECRET"},
            "max_attempts": 1,
        }
    }
}


def _run(defs, instance, request: dg.RunRequest, resources=None) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def(request.job_name)
    run_config = {**request.run_config, **({"resources": resources} if resources else {})}
    return job.execute_in_process(
        run_config=run_config, instance=instance, tags=request.tags, raise_on_error=False
    )


def _status(store, row_id: int) -> tuple[str, int, str | None]:
    row = store.webhooks.get(row_id)
    return row.status, row.attempts, row.error


@ON_BOTH_DATABASES
def test_a_tick_launches_one_refresh_and_applies_the_rest(
    sandbox, store, warehouse, defs, instance, database
):
    shop_id = authorize_seller(sandbox, store)[0]
    other = authorize_seller(sandbox, store, sandbox.sellers[1].open_id)[0]
    window = {"update_time_ge": 0, "update_time_lt": 2**31}
    order = sandbox.control.truth("orders", shop_id, **window)[0]
    returned = sandbox.control.truth("returns", shop_id, **window)[0]
    product = sandbox.control.truth("products", shop_id, **window)[0]
    key, secret = sandbox.config.app_key, sandbox.config.app_secret
    base = {"shop_id": shop_id, "timestamp": 1}
    ids = {
        "order": _push(
            store,
            key,
            secret,
            {
                **base,
                "type": 1,
                "tts_notification_id": "n1",
                "data": {"order_id": order["id"], "order_status": order["status"]},
            },
        ),
        "return": _push(
            store,
            key,
            secret,
            {
                **base,
                "type": 12,
                "tts_notification_id": "n2",
                "data": {"return_id": returned["return_id"], "order_id": returned["order_id"]},
            },
        ),
        "product": _push(
            store,
            key,
            secret,
            {**base, "type": 5, "tts_notification_id": "n3", "data": {"product_id": product["id"]}},
        ),
        "deauthorized": _push(
            store,
            key,
            secret,
            {
                **base,
                "shop_id": other,
                "type": 6,
                "tts_notification_id": "n4",
                "data": {"message": "gone"},
            },
        ),
        "expiring": _push(
            store,
            key,
            secret,
            {
                **base,
                "type": 7,
                "tts_notification_id": "n5",
                "data": {"message": "soon", "expiration_time": "1893456000"},
            },
        ),
        "unknown": _push(
            store, key, secret, {**base, "type": 99, "tts_notification_id": "n6", "data": {}}
        ),
    }
    sensor = build_webhook_sensor()
    result = _tick(sensor, instance, database)
    by_job = {r.job_name: r for r in result.run_requests}
    assert set(by_job) == {"tiktok_webhook_refresh_job", "tiktok_tokens_check_job"}
    refresh = by_job["tiktok_webhook_refresh_job"]
    assert refresh.run_config["ops"]["apply_webhooks"]["config"]["inbox_ids"] == [
        ids["order"],
        ids["return"],
        ids["product"],
    ]
    assert result.cursor == str(ids["unknown"])
    assert {s.id: s.status for s in store.tokens.list_shops()}[other] == "deauthorized"
    assert store.tokens.get_authorization(
        store.tokens.get_shop(shop_id).authorization_id
    ).authorization_expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert _status(store, ids["unknown"])[0] == "ignored"
    assert _status(store, ids["deauthorized"])[0] == "processed"

    # Nothing new on the next tick: no second run for the same rows.
    assert _tick(sensor, instance, database, result.cursor).run_requests == []

    run = _run(defs, instance, refresh)
    assert run.success
    with warehouse.engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT status, update_time, _source FROM tiktok_orders WHERE id = :id"),
            {"id": order["id"]},
        ).one()
        assert tuple(row) == (order["status"], order["update_time"], "webhook")
        assert (
            connection.execute(
                sa.text("SELECT count(*) FROM tiktok_returns WHERE return_id = :r"),
                {"r": returned["return_id"]},
            ).scalar_one()
            == 1
        )
        assert connection.execute(
            sa.text("SELECT count(*) FROM tiktok_product_skus WHERE product_id = :p"),
            {"p": product["id"]},
        ).scalar_one() == len(product["skus"])
    for name in ("order", "return", "product"):
        status, attempts, _ = _status(store, ids[name])
        assert (status, attempts) == ("processed", 1)
        assert store.webhooks.get(ids[name]).run_id == run.run_id


def test_rows_applied_in_the_tick_are_marked_one_write_per_status_and_reason(
    sandbox, store, instance, database, monkeypatch
):
    shop_id = authorize_seller(sandbox, store)[0]
    expiring = {"message": "soon", "expiration_time": "1893456000"}
    pushes = [
        (99, shop_id, {}),
        (99, shop_id, {}),
        (98, shop_id, {}),
        (7, shop_id, expiring),
        (7, "no-such-shop", expiring),
        (6, shop_id, {"message": "gone"}),
    ]
    ids = [
        _push(
            store,
            "k",
            "s",
            {"type": t, "shop_id": s, "tts_notification_id": f"g{i}", "timestamp": 1, "data": d},
        )
        for i, (t, s, d) in enumerate(pushes)
    ]
    calls = []
    mark = WebhookInbox.mark

    def spy(self, row_ids, status, **options):
        calls.append((list(row_ids), status))
        return mark(self, row_ids, status, **options)

    monkeypatch.setattr(WebhookInbox, "mark", spy)

    _tick(build_webhook_sensor(), instance, database)

    assert sorted(calls) == sorted(
        [
            (ids[:2], "ignored"),  # type 99 is not a known TikTok event
            ([ids[2]], "ignored"),  # type 98 ...
            ([ids[4]], "ignored"),  # unknown shop
            ([ids[5], ids[3]], "processed"),  # the deauthorization, then the expiry
        ]
    )
    statuses = [_status(store, row_id) for row_id in ids]
    assert [s[0] for s in statuses] == [*["ignored"] * 3, "processed", "ignored", "processed"]
    assert "99" in statuses[0][2] and "98" in statuses[2][2] and "no-such-shop" in statuses[4][2]


@ON_BOTH_DATABASES
def test_failed_refreshes_are_retried_then_given_up(
    sandbox, store, warehouse, defs, instance, database
):
    shop_id = authorize_seller(sandbox, store)[0]
    order = sandbox.control.truth("orders", shop_id, update_time_ge=0, update_time_lt=2**31)[0]
    row_id = _push(
        store,
        "k",
        "s",
        {
            "type": 1,
            "shop_id": shop_id,
            "tts_notification_id": "f1",
            "timestamp": 1,
            "data": {"order_id": order["id"]},
        },
    )
    sensor = build_webhook_sensor()
    sandbox.control.set_faults(error_503_share=1.0, paths=["/order/202309/orders"])
    try:
        first = _tick(sensor, instance, database)
        assert not _run(defs, instance, first.run_requests[0], ONE_ATTEMPT).success
        status, attempts, error = _status(store, row_id)
        assert (status, attempts) == ("pending", 1) and "ServerError" in error
        # The next tick hands the row out again, under a new run key.
        second = _tick(sensor, instance, database, first.cursor)
        assert second.run_requests[0].run_key != first.run_requests[0].run_key
        request = second.run_requests[0]
        config = request.run_config["ops"]["apply_webhooks"]["config"]
        request = request.with_replaced_attrs(
            run_config={"ops": {"apply_webhooks": {"config": {**config, "max_attempts": 2}}}}
        )
        assert not _run(defs, instance, request, ONE_ATTEMPT).success
        assert _status(store, row_id)[:2] == ("failed", 2)
    finally:
        sandbox.control.clear_faults()


@ON_BOTH_DATABASES
def test_a_push_from_the_sandbox_reaches_the_warehouse(
    sandbox, store, warehouse, defs, instance, database, monkeypatch
):
    """End to end: the clock moves, TikTok (the sandbox) pushes, the web service stores the
    push, the sensor launches a run, the run updates the order row."""
    shop_id = authorize_seller(sandbox, store)[0]
    job = defs.resolve_job_def("tiktok_sync_job")
    assert job.execute_in_process(partition_key=day_key(1), instance=instance).success
    sensor = build_webhook_sensor()
    cursor = _tick(sensor, instance, database).cursor  # nothing yet
    with run_web_service(store=store) as service:
        from tiktok_pipeline.client import TikTokShopClient

        client = TikTokShopClient(
            sandbox.config.app_key,
            sandbox.config.app_secret,
            base_url=sandbox.base_url,
            credentials=store.tokens,
        )
        api = client.shop(shop_id)
        api.event.update_webhook(
            body={
                "address": service.url("/tiktok/webhooks/all"),
                "event_type": "ORDER_STATUS_CHANGE",
            }
        )
        try:
            changes = sandbox.control.advance(6 * 3600)
            assert changes["pushed"] > 0
            sandbox.control.deliveries(wait=30)
        finally:
            api.event.delete_webhook(body={"event_type": "ORDER_STATUS_CHANGE"})
    pushes = store.webhooks.ready(after_id=0, dispatched_before=datetime.now(UTC), limit=10_000)
    assert pushes and {p.type for p in pushes} == {1}
    result = _tick(sensor, instance, database, cursor)
    run = _run(defs, instance, result.run_requests[0])
    assert run.success
    order_ids = {p.data["order_id"] for p in pushes}
    truth = {
        o["id"]: o
        for o in sandbox.control.truth("orders", shop_id, update_time_ge=0, update_time_lt=2**31)
        if o["id"] in order_ids
    }
    with warehouse.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT id, status, update_time, _source FROM tiktok_orders WHERE shop_id = :s"
            ),
            {"s": shop_id},
        ).all()
    landed = {r.id: (r.status, r.update_time, r._source) for r in rows if r.id in order_ids}
    assert landed == {i: (o["status"], o["update_time"], "webhook") for i, o in truth.items()}
    assert {store.webhooks.get(p.id).status for p in pushes} == {"processed"}
