"""The request log: batched, non-blocking, and never a secret in ``tiktok_requests``."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tiktok_pipeline.db import make_engine, utcnow
from tiktok_pipeline.request_records import RequestRecord
from tiktok_pipeline.store import RequestLogEntry, RequestLogWriter, Store
from tiktok_pipeline.store.schema import tiktok_requests

SECRETS = [f"SECRET{n}x" for n in range(10)]


def _rows(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(tiktok_requests))]


def _entry(n: int = 0, **kwargs: Any) -> RequestLogEntry:
    fields: dict[str, Any] = {
        "action": "order.list",
        "method": "POST",
        "path": "/order/202309/orders/search",
        "shop_id": "7494049642642441621",
        "query": {"page_size": "50"},
        "http_status": 200,
        "code": 0,
        "message": "Success",
        "request_id": f"req-{n}",
        "duration_ms": 12.5,
    }
    fields.update(kwargs)
    return RequestLogEntry(**fields)


def test_entries_are_written_in_batches(store: Store) -> None:
    writer = RequestLogWriter(store.engine, batch_size=5, flush_interval=30)
    inserts: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TIKTOK_REQUESTS"):
            inserts.append(1)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        for n in range(12):
            writer.record(_entry(n))
        writer.flush(timeout=30)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
        writer.close()

    rows = _rows(store)
    assert sorted(r["request_id"] for r in rows) == sorted(f"req-{n}" for n in range(12))
    assert len(inserts) == 3  # 5 + 5 + 2 rows, not one INSERT per call
    row = next(r for r in rows if r["request_id"] == "req-0")
    assert row["action"] == "order.list" and row["method"] == "POST"
    assert row["query"] == {"page_size": "50"}
    assert row["code"] == 0 and row["http_status"] == 200 and row["duration_ms"] == 12.5
    assert row["created_at"].tzinfo is not None


def test_entries_are_written_without_flush_after_the_interval(store: Store) -> None:
    writer = RequestLogWriter(store.engine, flush_interval=0.1)
    try:
        writer.record(_entry())
        deadline = time.monotonic() + 20
        while not _rows(store) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_rows(store)) == 1
    finally:
        writer.close()


def test_no_secret_reaches_the_table(store: Store) -> None:
    s = SECRETS
    store.request_log.record(
        _entry(
            action="auth.refresh_token",
            method="GET",
            path=f"/api/v2/token/refresh?app_secret={s[0]}&grant_type=refresh_token",
            query={
                "app_key": "29a39d",
                "app_secret": s[1],
                "refresh_token": s[2],
                "access_token": s[3],
                "sign": s[4],
                "nested": {"auth_code": s[5]},
            },
            body=json.dumps({"refresh_token": s[6], "items": [{"access_token": s[7]}]}),
            message=f"invalid access_token={s[8]}",
            error=f'upstream said {{"refresh_token": "{s[9]}"}}',
        )
    )
    # A body that is not JSON (form-encoded) and one that is cut mid-way.
    store.request_log.record(_entry(body=f"auth_code={s[0]}&app_key=29a39d"))
    store.request_log.record(_entry(body='{"access_token": "' + s[1] + '", "x": "' + "y" * 50))
    store.request_log.flush(timeout=30)

    rows = _rows(store)
    assert len(rows) == 3
    dumped = json.dumps(rows, default=str)
    for secret in SECRETS:
        assert secret not in dumped
    refresh_row = next(r for r in rows if r["action"] == "auth.refresh_token")
    assert refresh_row["query"]["app_key"] == "29a39d"  # not a secret: kept
    assert refresh_row["query"]["app_secret"] == "[REDACTED]"
    assert "grant_type=refresh_token" in refresh_row["path"]


def test_long_bodies_are_truncated_to_4_kib(store: Store) -> None:
    store.request_log.record(_entry(body=json.dumps({"description": "x" * 10_000})))
    store.request_log.flush(timeout=30)

    (row,) = _rows(store)
    assert len(row["body"]) <= 4096
    assert row["body"].endswith("[truncated]")


def test_the_clients_request_record_is_accepted(store: Store) -> None:
    record = RequestRecord(
        action="product.list",
        method="POST",
        path="/product/202502/products/search",
        shop_id="1",
        query={"access_token": SECRETS[0], "page_size": "10"},
        http_status=200,
        code=0,
    )
    store.request_log.record(record)
    store.request_log.flush(timeout=30)

    (row,) = _rows(store)
    assert row["action"] == "product.list"
    assert SECRETS[0] not in json.dumps(row, default=str)


def test_close_writes_everything_and_record_after_close_still_works(store: Store) -> None:
    writer = RequestLogWriter(store.engine, flush_interval=30, batch_size=1000)
    for n in range(3):
        writer.record(_entry(n))
    writer.close()
    assert len(_rows(store)) == 3

    writer.record(_entry(3))
    writer.close()
    assert len(_rows(store)) == 4


def test_write_failures_are_logged_not_raised(tmp_path, caplog) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'no_tables.db'}")  # never migrated
    writer = RequestLogWriter(engine)
    try:
        with caplog.at_level(logging.ERROR, logger="tiktok_pipeline.store.request_log"):
            writer.record(_entry(query={"access_token": SECRETS[0]}, message=SECRETS[1]))
            writer.flush(timeout=30)
    finally:
        writer.close()
        engine.dispose()

    assert writer.dropped == 1
    assert "could not write 1 request log rows" in caplog.text
    for secret in SECRETS:
        assert secret not in caplog.text


def test_purge_deletes_only_old_rows(store: Store) -> None:
    old = utcnow() - timedelta(days=40)
    for n in range(5):
        store.request_log.record(_entry(n, created_at=old))
    store.request_log.record(_entry(99))
    store.request_log.flush(timeout=30)

    removed = store.request_log.purge(utcnow() - timedelta(days=30), batch_size=2)

    assert removed == 5
    assert [r["request_id"] for r in _rows(store)] == ["req-99"]


@pytest.mark.parametrize("bad", [{"code": "not-a-number"}, {"action": "a" * 500}])
def test_odd_values_do_not_lose_the_row(store: Store, bad: dict) -> None:
    store.request_log.record(_entry(**bad))
    store.request_log.flush(timeout=30)
    assert len(_rows(store)) == 1


def test_purge_dry_run_counts_and_deletes_nothing(store: Store) -> None:
    old = utcnow() - timedelta(days=40)
    for n in range(3):
        store.request_log.record(_entry(n, created_at=old))
    store.request_log.record(_entry(99))
    store.request_log.flush(timeout=30)
    cutoff = utcnow() - timedelta(days=30)

    assert store.request_log.purge(cutoff, batch_size=2, dry_run=True) == 3
    assert len(_rows(store)) == 4
    assert store.request_log.purge(cutoff, batch_size=2) == 3
