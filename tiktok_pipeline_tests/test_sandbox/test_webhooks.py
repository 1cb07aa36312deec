"""Webhook subscriptions and pushes: signature, payloads, retries, duplicates, deauthorization."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tiktok_pipeline.sandbox import run_sandbox
from tiktok_pipeline_tests.test_sandbox.conftest import (
    APP_KEY,
    APP_SECRET,
    authorized_client,
    small_config,
)
from tiktok_pipeline_tests.test_sandbox.signer import push_signature

HOOKS = "/event/202309/webhooks"
DAY = 86400


class Receiver:
    """A tiny webhook receiver: records pushes and answers with scripted statuses."""

    def __init__(self) -> None:
        self.pushes: list[tuple[dict[str, str], bytes]] = []
        self.script: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.pushes.append((dict(self.headers.items()), raw))
                    status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/tiktok"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def bodies(self) -> list[dict]:
        with self.lock:
            return [json.loads(raw) for _, raw in self.pushes]

    def wait_for(self, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.pushes) >= count:
                    return
            time.sleep(0.02)
        raise AssertionError(f"expected {count} pushes, got {len(self.pushes)}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _subscribe(client, cipher: str, address: str, *event_types: str) -> None:
    for event_type in event_types:
        client.ok("PUT", HOOKS, body={"address": address, "event_type": event_type}, cipher=cipher)


def test_subscription_api(fresh, receiver):
    client = authorized_client(fresh)
    cipher = fresh.shops[0].cipher
    assert client.ok("GET", HOOKS, cipher=cipher) == {"webhooks": [], "total_count": 0}
    _subscribe(client, cipher, receiver.url, "ORDER_STATUS_CHANGE", "RETURN_STATUS_CHANGE")
    _subscribe(client, cipher, receiver.url + "/v2", "ORDER_STATUS_CHANGE")  # replaces
    hooks = client.ok("GET", HOOKS, cipher=cipher)
    assert hooks["total_count"] == 2
    addresses = {h["event_type"]: h["address"] for h in hooks["webhooks"]}
    assert addresses == {
        "ORDER_STATUS_CHANGE": receiver.url + "/v2",
        "RETURN_STATUS_CHANGE": receiver.url,
    }
    assert (
        client.ok("DELETE", HOOKS, body={"event_type": "RETURN_STATUS_CHANGE"}, cipher=cipher) == {}
    )
    assert client.ok("DELETE", HOOKS, body={"event_type": "PACKAGE_UPDATE"}, cipher=cipher) == {}
    assert client.ok("GET", HOOKS, cipher=fresh.shops[0].cipher)["total_count"] == 1
    assert client.ok("GET", HOOKS, cipher=fresh.shops[1].cipher)["total_count"] == 0
    bad = client.call(
        "PUT", HOOKS, body={"address": receiver.url, "event_type": "NOPE"}, cipher=cipher
    ).json()
    assert bad["code"] != 0 and "event_type" in bad["message"]


def test_pushes_are_signed_like_tiktok_and_match_the_api(fresh, receiver):
    client = authorized_client(fresh)
    shop = fresh.shops[0]
    _subscribe(client, shop.cipher, receiver.url, "ORDER_STATUS_CHANGE")
    result = fresh.control.advance(DAY)
    assert result["pushed"] > 0
    receiver.wait_for(result["pushed"])
    for headers, raw in receiver.pushes:
        expected = push_signature(APP_KEY, APP_SECRET, raw)
        assert hmac.compare_digest(headers["Authorization"], expected)
        assert headers["Content-Type"] == "application/json"
    bodies = receiver.bodies()
    assert len({b["tts_notification_id"] for b in bodies}) == len(bodies)
    for body in bodies:
        assert set(body) == {"type", "tts_notification_id", "shop_id", "timestamp", "data"}
        assert body["type"] == 1 and body["shop_id"] == shop.id
        assert set(body["data"]) == {"order_id", "order_status", "is_on_hold_order", "update_time"}
    # The last push of each order tells its current status and update_time.
    latest = {}
    for body in bodies:
        latest[body["data"]["order_id"]] = body["data"]
    ids = list(latest)[:50]
    orders = client.ok("GET", "/order/202309/orders", {"ids": ",".join(ids)}, cipher=shop.cipher)[
        "orders"
    ]
    for order in orders:
        assert order["status"] == latest[order["id"]]["order_status"]
        assert order["update_time"] == latest[order["id"]]["update_time"]
    # Only subscribed shops and event types are pushed.
    assert {b["shop_id"] for b in bodies} == {shop.id}


def test_new_orders_are_pushed_as_unpaid(fresh, receiver):
    client = authorized_client(fresh)
    _subscribe(client, fresh.shops[0].cipher, receiver.url, "ORDER_STATUS_CHANGE")
    result = fresh.control.advance(DAY)
    receiver.wait_for(result["pushed"])
    unpaid = [b for b in receiver.bodies() if b["data"]["order_status"] == "UNPAID"]
    assert unpaid
    assert all(b["data"]["update_time"] > fresh.control.now() - DAY for b in unpaid)


def test_failed_pushes_are_retried(fresh, receiver):
    client = authorized_client(fresh)
    _subscribe(client, fresh.shops[0].cipher, receiver.url, "ORDER_STATUS_CHANGE")
    receiver.script = [500, 500]  # the first two answers fail
    result = fresh.control.advance(3600)
    assert result["pushed"] >= 1
    deliveries = fresh.control.deliveries(wait=15)
    assert deliveries["idle"]
    first_id = receiver.bodies()[0]["tts_notification_id"]
    attempts = [d for d in deliveries["deliveries"] if d["notification_id"] == first_id]
    assert [(d["attempt"], d["http_status"], d["ok"]) for d in attempts][:1] == [(1, 500, False)]
    assert any(d["ok"] for d in attempts)
    # Every event is eventually delivered, each with one successful attempt.
    ok = [d for d in deliveries["deliveries"] if d["ok"]]
    assert len(ok) == result["pushed"]


def test_a_dead_receiver_gets_five_attempts_then_nothing(fresh, receiver):
    client = authorized_client(fresh)
    _subscribe(client, fresh.shops[0].cipher, receiver.url, "ORDER_STATUS_CHANGE")
    receiver.script = [503] * 1000
    fresh.control.config(webhook_retry_scale=0.00002)  # the whole schedule in ~1.1 s
    result = fresh.control.advance(3600)
    deliveries = fresh.control.deliveries(wait=20)
    assert deliveries["idle"]
    per_id: dict[str, list[int]] = {}
    for d in deliveries["deliveries"]:
        per_id.setdefault(d["notification_id"], []).append(d["attempt"])
    assert len(per_id) == result["pushed"]
    assert all(sorted(a) == [1, 2, 3, 4, 5] for a in per_id.values())
    assert all(d["gave_up"] for d in deliveries["deliveries"] if d["attempt"] == 5)


def test_duplicates_setting(receiver):
    with run_sandbox(small_config(webhook_duplicate_share=1.0)) as sb:
        client = authorized_client(sb)
        _subscribe(client, sb.shops[0].cipher, receiver.url, "ORDER_STATUS_CHANGE")
        result = sb.control.advance(6 * 3600)
        receiver.wait_for(result["pushed"])
        sb.control.deliveries(wait=10)
        ids = [b["tts_notification_id"] for b in receiver.bodies()]
        assert result["pushed"] == 2 * result["events"]
        assert all(ids.count(i) == 2 for i in ids)


def test_cancelled_status_word_is_configurable(fresh, receiver):
    client = authorized_client(fresh)
    _subscribe(client, fresh.shops[0].cipher, receiver.url, "ORDER_STATUS_CHANGE")
    fresh.control.config(cancel_status_word="CANCEL")
    result = fresh.control.advance(5 * DAY)
    receiver.wait_for(result["pushed"])
    statuses = {b["data"]["order_status"] for b in receiver.bodies()}
    assert "CANCEL" in statuses and "CANCELLED" not in statuses


def test_return_and_product_pushes(fresh, receiver):
    client = authorized_client(fresh)
    _subscribe(
        client,
        fresh.shops[0].cipher,
        receiver.url,
        "RETURN_STATUS_CHANGE",
        "PRODUCT_INFORMATION_CHANGE",
        "PRODUCT_STATUS_CHANGE",
    )
    result = fresh.control.advance(10 * DAY)
    receiver.wait_for(result["pushed"])
    by_type: dict[int, list[dict]] = {}
    for body in receiver.bodies():
        by_type.setdefault(body["type"], []).append(body["data"])
    assert set(by_type) >= {12, 15}
    for data in by_type[12]:
        assert set(data) == {
            "order_id",
            "return_role",
            "return_type",
            "return_status",
            "return_id",
            "create_time",
            "update_time",
        }
    assert all({"product_id", "update_time"} <= set(d) for d in by_type[15])


def test_deauthorization_push_and_revocation(fresh, receiver):
    client = authorized_client(fresh)
    for shop in fresh.shops:
        _subscribe(client, shop.cipher, receiver.url, "SELLER_DEAUTHORIZATION")
    answer = fresh.control.deauthorize(fresh.sellers[0].open_id)
    assert answer["pushed"] == 2
    receiver.wait_for(2)
    bodies = receiver.bodies()
    assert {b["type"] for b in bodies} == {6}
    assert {b["shop_id"] for b in bodies} == {s.id for s in fresh.shops}
    assert all("deauthorized" in b["data"]["message"] for b in bodies)
    assert client.call("GET", HOOKS, cipher=fresh.shops[0].cipher).json()["code"] == 105001


def test_authorization_expiry_warning(fresh, receiver):
    client = authorized_client(fresh)
    _subscribe(client, fresh.shops[0].cipher, receiver.url, "UPCOMING_AUTHORIZATION_EXPIRATION")
    fresh.control.authorization_expiring(fresh.sellers[0].open_id, days=5)
    receiver.wait_for(1)
    body = receiver.bodies()[0]
    assert body["type"] == 7
    assert isinstance(body["data"]["expiration_time"], str)
    assert int(body["data"]["expiration_time"]) == fresh.control.now() + 5 * DAY


def test_pushes_come_in_event_order_unless_shuffled(receiver):
    for shuffle in (False, True):
        receiver.pushes.clear()
        with run_sandbox(small_config(webhook_shuffle=shuffle)) as sb:
            client = authorized_client(sb)
            _subscribe(client, sb.shops[0].cipher, receiver.url, "ORDER_STATUS_CHANGE")
            result = sb.control.advance(2 * DAY)
            receiver.wait_for(result["pushed"])
            times = [b["data"]["update_time"] for b in receiver.bodies()]
            assert len(times) > 20
            assert (times == sorted(times)) is not shuffle
