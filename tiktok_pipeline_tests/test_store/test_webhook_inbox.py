"""The webhook inbox: dedupe (also under concurrency), pending reads, marks and purging."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.store import Store
from tiktok_pipeline.store.schema import tiktok_webhooks
from tiktok_pipeline.store.webhook_inbox import PushFields


def _push(notification_id: str | None = "7327112393057371910", type_: int = 1, **data) -> dict:
    payload = {
        "type": type_,
        "shop_id": "7494049642642441621",
        "timestamp": 1644412885,
        "data": {"order_id": "576486316948490001", "order_status": "UNPAID", **data},
    }
    if notification_id is not None:
        payload["tts_notification_id"] = notification_id
    return payload


def _add(store: Store, payload: dict, route: str = "all") -> tuple[int, bool]:
    raw = json.dumps(payload).encode()
    return store.webhooks.add(raw_body=raw, payload=payload, route=route)


def _count(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(tiktok_webhooks)).scalar_one()


def test_a_push_is_stored_with_its_fields(store: Store) -> None:
    row_id, created = _add(store, _push(), route="order-status-change")

    assert created
    row = store.webhooks.get(row_id)
    assert row.dedupe_key == row.tts_notification_id == "7327112393057371910"
    assert (row.type, row.event_type) == (1, "ORDER_STATUS_CHANGE")
    assert row.shop_id == "7494049642642441621"
    assert row.push_timestamp == 1644412885
    assert row.data["order_status"] == "UNPAID"
    assert row.route == "order-status-change"
    assert (row.status, row.attempts, row.run_id, row.error) == ("pending", 0, None, None)
    assert row.received_at.tzinfo is not None
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(tiktok_webhooks)).one()
    assert stored.push_time == datetime.fromtimestamp(1644412885, UTC)
    assert json.loads(stored.raw_body) == _push()


def test_same_notification_id_twice_is_one_row(store: Store) -> None:
    first = _add(store, _push())
    # A retry may be serialized differently; the notification id decides.
    replay = _add(store, _push(order_status="UNPAID", extra="x"))

    assert first[1] is True
    assert replay == (first[0], False)
    assert _count(store) == 1


def test_without_notification_id_the_body_hash_dedupes(store: Store) -> None:
    payload = _push(notification_id=None, type_=3)

    first = _add(store, payload)
    replay = _add(store, payload)
    other = _add(store, _push(notification_id=None, type_=3, update_time=2))

    assert replay == (first[0], False)
    assert other[1] is True and other[0] != first[0]
    row = store.webhooks.get(first[0])
    assert row.dedupe_key.startswith("sha256:") and len(row.dedupe_key) == 7 + 64
    assert row.tts_notification_id is None
    assert row.event_type == "RECIPIENT_ADDRESS_UPDATE"
    assert _count(store) == 2


def test_concurrent_deliveries_of_one_push_store_one_row(store: Store) -> None:
    workers = 8
    barrier = threading.Barrier(workers)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(_add(store, _push()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(created for _, created in results) == 1
    assert len({row_id for row_id, _ in results}) == 1
    assert _count(store) == 1


def test_unknown_type_is_stored_with_a_placeholder_name(store: Store) -> None:
    row_id, _ = _add(store, _push(type_=999))
    assert store.webhooks.get(row_id).event_type == "UNKNOWN_999"


def test_a_payload_without_type_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="type"):
        store.webhooks.add(raw_body=b"{}", payload={}, route="all")


def test_pending_mark_and_purge(store: Store) -> None:
    ids = [_add(store, _push(str(n)))[0] for n in range(4)]

    assert [r.id for r in store.webhooks.pending()] == ids
    assert [r.id for r in store.webhooks.pending(after_id=ids[0], limit=2)] == ids[1:3]

    store.webhooks.mark(ids[:3], "processing", run_id="run-1")
    store.webhooks.mark(ids[:1], "processed")
    store.webhooks.mark(ids[1:2], "failed", error="warehouse down")
    store.webhooks.mark(ids[2:3], "ignored")
    assert [r.id for r in store.webhooks.pending()] == [ids[3]]
    failed = store.webhooks.get(ids[1])
    assert (failed.status, failed.attempts, failed.run_id, failed.error) == (
        "failed",
        1,
        "run-1",
        "warehouse down",
    )
    store.webhooks.mark([ids[1]], "pending")  # retry later
    store.webhooks.mark([ids[1]], "processing", run_id="run-2")
    assert store.webhooks.get(ids[1]).attempts == 2
    assert store.webhooks.get(ids[1]).run_id == "run-2"
    with pytest.raises(ValueError, match="processed"):
        store.webhooks.mark(ids, "done")

    assert store.webhooks.purge_processed(utcnow() - timedelta(days=1)) == 0
    removed = store.webhooks.purge_processed(utcnow() + timedelta(seconds=1), batch_size=1)
    assert removed == 2  # the processed and the ignored one; never pending or in progress
    assert sorted(r.id for r in _all(store)) == [ids[1], ids[3]]
    with pytest.raises(LookupError):
        store.webhooks.get(ids[0])


def _all(store: Store):
    with store.engine.connect() as conn:
        return conn.execute(sa.select(tiktok_webhooks.c.id)).all()


def test_purge_processed_dry_run_counts_what_would_go(store: Store) -> None:
    ids = [_add(store, _push(str(n)))[0] for n in range(3)]
    store.webhooks.mark(ids[:1], "processed")
    store.webhooks.mark(ids[1:2], "ignored")
    cutoff = utcnow() + timedelta(seconds=1)

    assert store.webhooks.purge_processed(cutoff, dry_run=True) == 2
    assert _count(store) == 3
    assert store.webhooks.purge_processed(cutoff, batch_size=1) == 2
    assert [r.id for r in _all(store)] == [ids[2]]


@pytest.mark.parametrize(
    ("timestamp", "stored"),
    [
        (1644412885, 1644412885),
        ("1644412885", 1644412885),
        (" 1644412885 ", 1644412885),
        (1644412885.0, 1644412885),
        (0, 0),
        (True, None),
        (1.5, None),
        ("1.5", None),
        ("-5", None),
        (-5, None),
        ("1_000", None),
        ("soon", None),
        ("", None),
        (None, None),
        (10**20, None),  # beyond year 9999: no push time
    ],
)
def test_the_timestamp_is_normalised_once(store: Store, timestamp, stored) -> None:
    payload = _push() | {"timestamp": timestamp}

    row_id, _ = _add(store, payload)

    row = store.webhooks.get(row_id)
    assert row.push_timestamp == PushFields.of(payload).push_timestamp == stored


def test_push_fields_are_what_the_row_holds(store: Store) -> None:
    payload = _push() | {"shop_id": 7494049642642441621, "tts_notification_id": 42, "type": "12"}

    row_id, _ = _add(store, payload)

    row = store.webhooks.get(row_id)
    fields = PushFields.of(payload)
    assert (
        (fields.type, fields.event_type)
        == (row.type, row.event_type)
        == (
            12,
            "RETURN_STATUS_CHANGE",
        )
    )
    assert fields.shop_id == row.shop_id == "7494049642642441621"
    assert fields.tts_notification_id == row.tts_notification_id == row.dedupe_key == "42"
    for bad in (True, 1.5, "one", None):
        with pytest.raises(ValueError, match="integer `type`"):
            PushFields.of({"type": bad})
