"""Signing must match TikTok byte for byte: every public vector, plus the body rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tiktok_pipeline.client import sign_request, verify_webhook, webhook_signature
from tiktok_pipeline.client.shop import encode_body, encode_query

VECTORS = json.loads((Path(__file__).parent / "signing_vectors.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["requests"], ids=lambda v: v["name"])
def test_request_sign_matches_public_vector(vector):
    body = vector["body"].encode() if vector["body"] is not None else None
    assert (
        sign_request(vector["app_secret"], vector["path"], vector["query"], body)
        == (vector["expected_sign"])
    )


@pytest.mark.parametrize("vector", VECTORS["webhooks"], ids=lambda v: v["name"])
def test_webhook_signature_matches_public_vector(vector):
    raw = vector["raw_body"].encode()
    expected = vector["expected_authorization"]
    assert webhook_signature(vector["app_key"], vector["app_secret"], raw) == expected
    assert verify_webhook(vector["app_key"], vector["app_secret"], raw, expected)
    assert verify_webhook(vector["app_key"], vector["app_secret"], raw, expected.upper())


def test_webhook_verification_is_over_the_raw_bytes():
    vector = VECTORS["webhooks"][0]
    raw = vector["raw_body"].encode()
    reencoded = json.dumps(json.loads(raw)).encode()  # same JSON, different bytes
    assert reencoded != raw
    assert not verify_webhook(
        vector["app_key"], vector["app_secret"], reencoded, vector["expected_authorization"]
    )
    assert not verify_webhook(vector["app_key"], vector["app_secret"], raw, None)
    assert not verify_webhook(
        vector["app_key"], "wrong-secret", raw, vector["expected_authorization"]
    )


def test_sign_ignores_sign_and_access_token_params():
    query = {"app_key": "k", "timestamp": "1700000000"}
    plain = sign_request("secret", "/x/202309/y", query)
    polluted = {**query, "sign": "abc", "access_token": "tok"}
    assert sign_request("secret", "/x/202309/y", polluted) == plain


def test_multipart_bodies_are_not_signed():
    query = {"app_key": "k", "timestamp": "1"}
    assert sign_request("s", "/p", query, b"file bytes", multipart=True) == sign_request(
        "s", "/p", query
    )


def test_query_encoding_drops_none_and_joins_lists():
    assert encode_query({"ids": ["1", "2"], "page_size": 10, "page_token": None, "flag": True}) == {
        "ids": "1,2",
        "page_size": "10",
        "flag": "true",
    }


def test_body_encoding_is_compact_and_sends_nothing_when_empty():
    assert encode_body(None) is None
    assert encode_body({}) is None
    assert encode_body({"a": None}) is None
    assert encode_body({"order_status": "UNPAID", "x": None, "nested": {"y": None, "z": 1}}) == (
        b'{"order_status":"UNPAID","nested":{"z":1}}'
    )
    assert encode_body({"name": "caf\u00e9"}) == '{"name":"caf\u00e9"}'.encode()
