"""The webhook receiver over real HTTP: signatures, validation, limits, dedupe, storage."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tiktok_pipeline.config import Settings
from tiktok_pipeline.events import WebhookEvent
from tiktok_pipeline.store import Store
from tiktok_pipeline.web import WebService, run_web_service
from tiktok_pipeline_tests.test_web.helpers import (
    APP_KEY,
    APP_SECRET,
    OFFICIAL,
    inbox,
    post,
    push_body,
    sign,
)

MiB = 1024 * 1024


def test_the_official_vector_is_accepted_and_stored_as_received(service: WebService) -> None:
    raw = OFFICIAL["raw_body"].encode()
    response = post(service, "all", raw, signature=OFFICIAL["expected_authorization"])

    assert response.status_code == 200
    assert response.content == b""
    [row] = inbox(service.store)
    assert row.tts_notification_id == "7380066284010030890"
    assert (row.type, row.event_type) == (1, "ORDER_STATUS_CHANGE")
    assert row.shop_id == "7495540735365777507"
    assert row.push_timestamp == 1718305585
    assert row.data["order_id"] == "576653688135258178"
    assert row.route == "all"
    assert row.status == "pending"


@pytest.mark.parametrize(
    ("case", "header"),
    [
        ("forged", "0" * 64),
        ("another app's secret", sign(OFFICIAL["raw_body"].encode(), APP_KEY, "other-secret")),
        ("another app's key", sign(OFFICIAL["raw_body"].encode(), "other-key", APP_SECRET)),
        ("Bearer prefix", "Bearer " + OFFICIAL["expected_authorization"]),
        ("truncated", OFFICIAL["expected_authorization"][:32]),
        ("missing", None),
        ("empty", ""),
    ],
)
def test_a_push_without_tiktoks_signature_is_refused_with_an_empty_401(
    service: WebService, case: str, header: str | None
) -> None:
    response = post(service, "all", OFFICIAL["raw_body"].encode(), signature=header)

    assert response.status_code == 401, case
    assert response.content == b""
    assert inbox(service.store) == []


def test_the_signature_covers_the_raw_bytes_not_the_parsed_json(service: WebService) -> None:
    # The original package verified json_encode($request->all()); a re-encoded body (other
    # spacing, key order or escaping) must not pass with the original body's signature.
    payload = json.loads(OFFICIAL["raw_body"])
    reencodings = [
        json.dumps(payload).encode(),
        json.dumps(payload, separators=(",", ":"), sort_keys=True).encode(),
        OFFICIAL["raw_body"].replace('"UNPAID"', '"UNPAID" ').encode(),
    ]
    for body in reencodings:
        assert json.loads(body) == payload
        response = post(service, "all", body, signature=OFFICIAL["expected_authorization"])
        assert response.status_code == 401
    assert inbox(service.store) == []


def test_a_replayed_push_is_answered_200_and_stored_once(service: WebService) -> None:
    body = push_body(notification_id="7327112393057371910")

    answers = [post(service, "all", body).status_code for _ in range(3)]
    # TikTok's retry of the same notification arrives on the per-event address too.
    answers.append(post(service, "order-status-change", body).status_code)

    assert answers == [200, 200, 200, 200]
    assert [row.tts_notification_id for row in inbox(service.store)] == ["7327112393057371910"]


def test_a_push_without_notification_id_is_deduplicated_by_its_body(
    service: WebService,
) -> None:
    body = push_body(type_number=3, notification_id=None, order_id="1", update_time=5)
    other = push_body(type_number=3, notification_id=None, order_id="2", update_time=5)

    for raw in (body, body, other):
        assert post(service, "all", raw).status_code == 200

    rows = inbox(service.store)
    assert sorted(row.data["order_id"] for row in rows) == ["1", "2"]
    assert all(row.tts_notification_id is None for row in rows)


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("not JSON", b'{"type": 1,'),
        ("not UTF-8", b'{"type": 1, "x": "\xff\xfe"}'),
        ("empty", b""),
        ("an array", b'[{"type": 1}]'),
        ("a string", b'"type"'),
        ("no type", b'{"shop_id": "1", "data": {}}'),
        ("type as a string", b'{"type": "1", "data": {}}'),
        ("type as a float", b'{"type": 1.5, "data": {}}'),
        ("type as a boolean", b'{"type": true, "data": {}}'),
        ("negative type", b'{"type": -1, "data": {}}'),
        ("type too large", b'{"type": 99999999999, "data": {}}'),
        ("deeply nested", b'{"type": 1, "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    ],
)
def test_a_signed_body_that_is_not_a_push_gets_400(
    service: WebService, case: str, body: bytes
) -> None:
    response = post(service, "all", body)

    assert response.status_code == 400, case
    assert response.json()["error"]
    assert inbox(service.store) == []


#: Signed bodies SQLite would store and Postgres would refuse: both backends refuse them alike.
UNSTORABLE = [
    ("NaN", b'{"type": 1, "shop_id": "1", "data": {"amount": NaN}}'),
    ("Infinity", b'{"type": 1, "shop_id": "1", "data": {"amount": -Infinity}}'),
    ("NUL in a value", b'{"type": 1, "shop_id": "1", "data": {"note": "a\\u0000b"}}'),
    ("NUL in a key", b'{"type": 1, "shop_id": "1", "data": {"a\\u0000": 1}}'),
    ("a 10,000-character shop id", b'{"type": 1, "shop_id": "' + b"7" * 10_000 + b'"}'),
    ("a 65-character notification id", b'{"type": 1, "tts_notification_id": "' + b"9" * 65 + b'"}'),
]


@pytest.mark.parametrize(("case", "body"), UNSTORABLE, ids=[case for case, _ in UNSTORABLE])
def test_a_push_no_backend_stores_alike_gets_400_on_sqlite(
    service: WebService, case: str, body: bytes
) -> None:
    response = post(service, "all", body)

    assert response.status_code == 400, case
    assert inbox(service.store) == []


@pytest.mark.postgres
def test_on_postgres_the_same_pushes_get_400_too(postgres_url: str) -> None:
    store = Store.from_url(postgres_url, upgrade=True)
    settings = Settings(app_key=APP_KEY, app_secret=APP_SECRET, database_url=postgres_url)
    try:
        with run_web_service(settings=settings, store=store) as running:
            statuses = {case: post(running, "all", body).status_code for case, body in UNSTORABLE}
        rows = store.webhooks.pending()
    finally:
        store.close()

    assert statuses == {case: 400 for case, _ in UNSTORABLE}
    assert rows == []


def test_an_unknown_type_number_is_stored_not_refused(service: WebService) -> None:
    body = push_body(type_number=64, notification_id="n-64", request_id="AR-1")

    response = post(service, "all", body)

    assert response.status_code == 200
    [row] = inbox(service.store)
    assert (row.type, row.event_type, row.data) == (64, "UNKNOWN_64", {"request_id": "AR-1"})


@pytest.mark.parametrize(
    "event",
    [
        WebhookEvent.ORDER_STATUS_CHANGE,
        WebhookEvent.RETURN_STATUS_CHANGE,
        WebhookEvent.VIDEO_PRECHECK_RESULT,
    ],
)
def test_a_per_event_route_stores_its_own_type(service: WebService, event: WebhookEvent) -> None:
    response = post(service, event.slug, push_body(type_number=int(event), notification_id="n1"))

    assert response.status_code == 200
    [row] = inbox(service.store)
    assert (row.type, row.event_type, row.route) == (int(event), event.name, event.slug)


def test_a_per_event_route_refuses_another_type(service: WebService) -> None:
    response = post(service, "order-status-change", push_body(type_number=12))

    assert response.status_code == 400
    assert "RETURN_STATUS_CHANGE" in response.json()["error"]
    assert inbox(service.store) == []


def test_the_original_packages_event_names_still_route(service: WebService) -> None:
    # laraditz/tiktok called type 7 AUTH_EXPIRE, so its users registered /auth-expire.
    response = post(service, "auth-expire", push_body(type_number=7, notification_id="n7"))

    assert response.status_code == 200
    [row] = inbox(service.store)
    assert (row.event_type, row.route) == (
        "UPCOMING_AUTHORIZATION_EXPIRATION",
        "upcoming-authorization-expiration",
    )


def test_an_unknown_event_route_is_404(service: WebService) -> None:
    # The original README's example; ORDER_STATUS is no event type.
    response = post(service, "order-status", push_body())

    assert response.status_code == 404
    assert "order-status-change" in response.json()["error"]


def test_a_body_over_the_limit_gets_413_and_is_not_stored(service: WebService) -> None:
    filler = "x" * (MiB + 10)
    body = push_body(note=filler)

    response = post(service, "all", body)

    assert response.status_code == 413
    assert inbox(service.store) == []


def test_a_chunked_body_over_the_limit_gets_413(service: WebService) -> None:
    def chunks():
        yield b'{"type": 1, "data": "'
        for _ in range(20):
            yield b"x" * (MiB // 16)
        yield b'"}'

    response = requests.post(
        service.url("/tiktok/webhooks/all"),
        data=chunks(),
        timeout=10,
        headers={"Authorization": "0" * 64, "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert inbox(service.store) == []


def test_a_push_just_under_the_limit_is_stored(service: WebService) -> None:
    body = push_body(notification_id="big", note="x" * (MiB - 300))
    assert len(body) <= MiB

    assert post(service, "all", body).status_code == 200
    assert len(inbox(service.store)[0].data["note"]) == MiB - 300


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8"])
def test_json_content_types_and_none_are_accepted(
    service: WebService, content_type: str | None
) -> None:
    body = push_body()
    headers = {"Authorization": sign(body)}
    if content_type:
        headers["Content-Type"] = content_type

    response = requests.post(
        service.url("/tiktok/webhooks/all"), data=body, headers=headers, timeout=10
    )

    assert response.status_code == 200


def test_another_content_type_gets_415(service: WebService) -> None:
    response = post(
        service, "all", push_body(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )

    assert response.status_code == 415
    assert inbox(service.store) == []


def test_webhook_routes_only_take_post(service: WebService) -> None:
    assert requests.get(service.url("/tiktok/webhooks/all"), timeout=10).status_code == 405


def test_health_reports_the_database(service: WebService) -> None:
    response = requests.get(service.url("/tiktok/health"), timeout=10)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_a_database_failure_answers_503_so_tiktok_retries(settings: Settings) -> None:
    store = Store.from_url(settings.database_url)
    with run_web_service(settings=settings, store=store) as running:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE tiktok_webhooks")
        response = post(running, "all", push_body())

    assert response.status_code == 503
    assert response.content == b""


@pytest.mark.postgres
def test_on_postgres_concurrent_deliveries_of_one_push_are_stored_once(
    postgres_url: str,
) -> None:
    store = Store.from_url(postgres_url, upgrade=True)
    settings = Settings(app_key=APP_KEY, app_secret=APP_SECRET, database_url=postgres_url)
    official = OFFICIAL["raw_body"].encode()
    bodies = [push_body(notification_id=f"pg-{n % 10}", order_id=str(n % 10)) for n in range(40)]
    try:
        with run_web_service(settings=settings, store=store) as running:
            assert (
                post(
                    running, "all", official, signature=OFFICIAL["expected_authorization"]
                ).status_code
                == 200
            )
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(lambda b: post(running, "all", b).status_code, bodies))
            assert post(running, "all", b"[]").status_code == 400
            assert post(running, "all", official, signature="0" * 64).status_code == 401
        rows = store.webhooks.pending()
    finally:
        store.close()

    assert statuses == [200] * 40
    assert sorted(row.tts_notification_id for row in rows) == sorted(
        ["7380066284010030890", *(f"pg-{n}" for n in range(10))]
    )
