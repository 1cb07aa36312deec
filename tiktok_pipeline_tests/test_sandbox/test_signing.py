"""The sandbox's signature verifier against the published vectors, and over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tiktok_pipeline.sandbox.signing import compute_sign, verify_sign, webhook_signature

VECTORS = json.loads(Path("/work/shared/test-vectors/signing.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["requests"], ids=lambda v: v["name"])
def test_request_vectors(vector):
    body = vector["body"].encode() if vector["body"] is not None else None
    args = (vector["app_secret"], vector["path"], vector["query"], body, "application/json")
    assert compute_sign(*args) == vector["expected_sign"]
    assert verify_sign(*args, vector["expected_sign"])
    assert not verify_sign(*args, vector["expected_sign"].upper())
    assert not verify_sign(*args, "0" * 64)


@pytest.mark.parametrize("vector", VECTORS["webhooks"], ids=lambda v: v["name"])
def test_webhook_vectors(vector):
    signature = webhook_signature(
        vector["app_key"], vector["app_secret"], vector["raw_body"].encode()
    )
    assert signature == vector["expected_authorization"]


def test_multipart_bodies_are_not_signed():
    query = {"app_key": "k", "timestamp": "1"}
    without_body = compute_sign("s", "/product/202309/images/upload", query)
    assert (
        compute_sign(
            "s",
            "/product/202309/images/upload",
            query,
            b"--x\r\nfile",
            "multipart/form-data; boundary=x",
        )
        == without_body
    )
    assert (
        compute_sign(
            "s", "/product/202309/images/upload", query, b"--x\r\nfile", "application/json"
        )
        != without_body
    )


def test_signed_request_is_accepted_and_tampered_body_is_rejected(sandbox, client):
    cipher = sandbox.shops[0].cipher
    body = {"order_status": "COMPLETED"}
    ok = client.call("POST", "/order/202309/orders/search", {"page_size": 1}, body, cipher=cipher)
    assert ok.status_code == 200 and ok.json()["code"] == 0
    tampered = client.call(
        "POST",
        "/order/202309/orders/search",
        {"page_size": 1},
        body,
        cipher=cipher,
        sent_body=b'{"order_status":"UNPAID"}',
    )
    assert tampered.status_code == 401
    assert tampered.json()["code"] == 106001


def test_signature_over_raw_bytes_not_reserialized_json(sandbox, client):
    # Spaces and key order are the client's business: the server signs what it received.
    raw = b'{ "order_status" : "UNPAID",  "create_time_ge": 0 }'
    response = client.call(
        "POST",
        "/order/202309/orders/search",
        {"page_size": 1},
        raw_body=raw,
        cipher=sandbox.shops[0].cipher,
    )
    assert response.json()["code"] == 0


def test_access_token_query_param_is_not_signed(sandbox, client):
    response = client.call(
        "GET", "/authorization/202309/shops", {"access_token": "ignored-by-the-signature"}
    )
    assert response.json()["code"] == 0
