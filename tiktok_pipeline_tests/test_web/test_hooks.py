"""Webhook listeners: run after the commit, off the request path; failures never lose a push."""

from __future__ import annotations

import json
import logging
import threading

import pytest

from tiktok_pipeline.events import WebhookEvent
from tiktok_pipeline.web import ReceivedWebhook, WebhookHooks, WebService, run_web_service
from tiktok_pipeline_tests.test_web.helpers import inbox, post, push_body


def test_a_listener_runs_after_the_push_is_committed(
    service: WebService, hooks: WebhookHooks
) -> None:
    seen: list[tuple[ReceivedWebhook, str]] = []

    @hooks.on(WebhookEvent.ORDER_STATUS_CHANGE)
    def order_changed(event: ReceivedWebhook) -> None:
        # Another connection sees the row: the insert was committed before the listener ran.
        seen.append((event, service.store.webhooks.get(event.id).status))

    assert post(service, "all", push_body(notification_id="n-1", order_id="42")).status_code == 200
    assert hooks.wait_idle(10)

    [(event, status)] = seen
    assert status == "pending"
    assert (event.type, event.event_type, event.notification_id) == (
        1,
        "ORDER_STATUS_CHANGE",
        "n-1",
    )
    assert (event.shop_id, event.timestamp, event.route) == (
        "7495540735365777507",
        1718305585,
        "all",
    )
    assert event.data == {"order_id": "42"}
    assert event.payload["data"] == {"order_id": "42"}


def test_a_failing_listener_still_stores_the_push_and_is_logged(
    service: WebService, hooks: WebhookHooks, caplog: pytest.LogCaptureFixture
) -> None:
    after: list[int] = []

    @hooks.on()
    def broken(event: ReceivedWebhook) -> None:
        raise RuntimeError("listener bug")

    @hooks.on()
    def next_one(event: ReceivedWebhook) -> None:
        after.append(event.id)

    with caplog.at_level(logging.ERROR, logger="tiktok_pipeline.web.hooks"):
        response = post(service, "all", push_body(notification_id="n-2"))
        assert hooks.wait_idle(10)

    assert response.status_code == 200
    [row] = inbox(service.store)
    assert after == [row.id]
    assert hooks.failures == 1
    [record] = [r for r in caplog.records if "broken" in r.getMessage()]
    assert f"inbox row {row.id}" in record.getMessage()
    assert record.exc_info is not None and "listener bug" in str(record.exc_info[1])


def test_a_slow_listener_does_not_hold_up_the_answer(
    service: WebService, hooks: WebhookHooks
) -> None:
    release = threading.Event()
    started = threading.Event()

    @hooks.on()
    def slow(event: ReceivedWebhook) -> None:
        started.set()
        release.wait(30)

    try:
        # Both answers arrive while the listener is still blocked.
        assert post(service, "all", push_body(notification_id="a")).status_code == 200
        assert started.wait(10)
        assert post(service, "all", push_body(notification_id="b")).status_code == 200
        assert hooks.pending >= 1
    finally:
        release.set()
    assert hooks.wait_idle(10)
    assert len(inbox(service.store)) == 2


def test_listeners_see_each_push_once_and_only_their_events(
    service: WebService, hooks: WebhookHooks
) -> None:
    orders: list[str | None] = []
    returns: list[str | None] = []
    everything: list[int] = []
    hooks.on("order-status-change")(lambda e: orders.append(e.notification_id))
    hooks.on(12)(lambda e: returns.append(e.notification_id))
    hooks.on(None)(lambda e: everything.append(e.type))

    for body in (push_body(1, "o1"), push_body(1, "o1"), push_body(12, "r1"), push_body(64, "u1")):
        assert post(service, "all", body).status_code == 200
    assert hooks.wait_idle(10)

    assert orders == ["o1"]  # the replay is not announced again
    assert returns == ["r1"]
    assert sorted(everything) == [1, 12, 64]


def test_an_async_listener_is_awaited(service: WebService, hooks: WebhookHooks) -> None:
    seen: list[int] = []

    @hooks.on("ORDER_STATUS_CHANGE")
    async def record(event: ReceivedWebhook) -> None:
        seen.append(event.id)

    assert post(service, "all", push_body()).status_code == 200
    assert hooks.wait_idle(10)
    assert seen == [inbox(service.store)[0].id]


def test_when_listeners_fall_behind_new_runs_are_dropped_but_pushes_stored(
    settings, caplog: pytest.LogCaptureFixture
) -> None:
    hooks = WebhookHooks(workers=1, max_pending=1)
    release = threading.Event()
    ran: list[str | None] = []

    @hooks.on()
    def slow(event: ReceivedWebhook) -> None:
        release.wait(30)
        ran.append(event.notification_id)

    with run_web_service(settings=settings, hooks=hooks) as running:
        try:
            with caplog.at_level(logging.ERROR, logger="tiktok_pipeline.web.hooks"):
                assert post(running, "all", push_body(notification_id="first")).status_code == 200
                assert post(running, "all", push_body(notification_id="second")).status_code == 200
        finally:
            release.set()
        assert hooks.wait_idle(10)
        stored = sorted(row.tts_notification_id for row in inbox(running.store))

    assert ran == ["first"]
    assert hooks.dropped == 1
    assert stored == ["first", "second"]
    assert any("behind" in r.getMessage() for r in caplog.records)


def test_event_types_are_named_by_enum_number_name_or_slug() -> None:
    hooks = WebhookHooks()
    fn = hooks.on(WebhookEvent.RETURN_STATUS_CHANGE)(lambda e: None)
    hooks.add(fn, 12)
    hooks.add(fn, "RETURN_STATUS_CHANGE")
    hooks.add(fn, "return-status-change")

    assert hooks.listeners(12) == [fn, fn, fn, fn]
    assert hooks.listeners(1) == []
    with pytest.raises(ValueError, match="unknown webhook event 'order-status'"):
        hooks.on("order-status")
    with pytest.raises(TypeError, match="callable"):
        hooks.add("not a function")  # type: ignore[arg-type]


def test_the_original_packages_names_work_for_listeners_too() -> None:
    hooks = WebhookHooks()
    fn = hooks.on("auth-expire")(lambda e: None)
    hooks.add(fn, "AUTH_EXPIRE")
    hooks.add(fn, "58")  # a type no event has yet

    assert hooks.listeners(int(WebhookEvent.UPCOMING_AUTHORIZATION_EXPIRATION)) == [fn, fn]
    assert hooks.listeners(58) == [fn]


@pytest.mark.parametrize(
    ("value", "event"),
    [
        (WebhookEvent.RETURN_STATUS_CHANGE, WebhookEvent.RETURN_STATUS_CHANGE),
        (12, WebhookEvent.RETURN_STATUS_CHANGE),
        (" 12 ", WebhookEvent.RETURN_STATUS_CHANGE),
        ("RETURN_STATUS_CHANGE", WebhookEvent.RETURN_STATUS_CHANGE),
        ("return-status-change", WebhookEvent.RETURN_STATUS_CHANGE),
        ("auth-expire", WebhookEvent.UPCOMING_AUTHORIZATION_EXPIRATION),
        ("invoicce-status-change", WebhookEvent.INVOICE_STATUS_CHANGE),
        ("fbt-seller-onboarding", WebhookEvent.FBT_MERCHANT_ONBOARDING),
    ],
)
def test_one_parser_reads_every_way_of_naming_an_event(value, event: WebhookEvent) -> None:
    assert WebhookEvent.parse(value) is event


@pytest.mark.parametrize("value", ["order-status", "58", True, ""])
def test_the_parser_refuses_what_names_no_event(value) -> None:
    with pytest.raises(ValueError, match="ORDER_STATUS_CHANGE"):
        WebhookEvent.parse(value)


@pytest.mark.parametrize(
    ("timestamp", "shop_id"),
    [(True, 7495540735365777507), ("-5", ""), (1.5, None), ("1718305585", "7495540735365777507")],
)
def test_listeners_see_the_values_the_inbox_stored(
    service: WebService, hooks: WebhookHooks, timestamp, shop_id
) -> None:
    seen: list[ReceivedWebhook] = []
    hooks.on()(seen.append)
    payload = json.loads(push_body()) | {"timestamp": timestamp, "shop_id": shop_id}

    assert post(service, "all", json.dumps(payload).encode()).status_code == 200
    assert hooks.wait_idle(10)

    [event] = seen
    row = service.store.webhooks.get(event.id)
    assert (event.type, event.event_type) == (row.type, row.event_type)
    assert (event.shop_id, event.notification_id) == (row.shop_id, row.tts_notification_id)
    assert event.timestamp == row.push_timestamp
