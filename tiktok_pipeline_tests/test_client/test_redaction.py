"""No secret in what the transport reports, in reprs, or in logged URLs."""

from __future__ import annotations

import json
import logging

import pytest
import requests

from tiktok_pipeline.client import RetryPolicy
from tiktok_pipeline.client.transport import Call, RequestRecord, Transport
from tiktok_pipeline.redaction import (
    REDACTED,
    SECRET_KEYS,
    SecretQueryFilter,
    install_url_log_filter,
    redact,
    redact_body,
    scrub_secret_pairs,
)


class _Session:
    """Answers every request with a successful TikTok envelope."""

    def request(self, method, url, **kwargs) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response._content = b'{"code":0,"message":"Success","request_id":"r1","data":{}}'
        return response


def _sent_record(body: bytes) -> RequestRecord:
    transport = Transport(
        app_key="key",
        app_secret="app-secret-value",
        session=_Session(),  # type: ignore[arg-type]
        timeout=(1, 1),
        retry=RetryPolicy(),
    )
    records: list[RequestRecord] = []
    transport.request_observers.append(records.append)
    transport.send(
        Call(action="x.y", method="POST", base_url="http://h", path="/p", query={}, body=body)
    )
    (record,) = records
    return record


def test_mixed_case_secret_keys_in_a_body_are_redacted_for_observers():
    record = _sent_record(
        b'{"Access_Token":"tok123456","nested":[{"REFRESH_TOKEN":"ref123456"}],"page":1}'
    )
    assert "tok123456" not in record.body and "ref123456" not in record.body
    assert json.loads(record.body) == {
        "Access_Token": REDACTED,
        "nested": [{"REFRESH_TOKEN": REDACTED}],
        "page": 1,
    }
    assert record.query is not None and record.query["sign"] == REDACTED


def test_bodies_that_are_not_json_are_scrubbed_too():
    assert "tok123456" not in _sent_record(b"Access_Token=tok123456&page=1").body
    cut = '{"Access_Token": "tok123456'  # truncated mid-value
    assert "tok123456" not in redact_body(cut)
    assert redact_body('{"SIGN": 12345, "a": 1, "x": "' + "y" * 50).startswith(
        f'{{"SIGN": "{REDACTED}", "a": 1'
    )


def test_call_repr_hides_query_and_headers():
    call = Call(
        action="auth.token",
        method="GET",
        base_url="http://h",
        path="/p",
        query={"app_secret": "app-secret-value", "auth_code": "code-value"},
        headers={"x-tts-access-token": "token-value"},
    )
    text = repr(call)
    assert "app-secret-value" not in text and "code-value" not in text
    assert "token-value" not in text and "auth.token" in text


def test_url_filter_covers_urllib3_retry_logging():
    install_url_log_filter()
    for name in ("urllib3.connectionpool", "urllib3.util.retry"):
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, SecretQueryFilter) for f in filters) == 1
    install_url_log_filter()  # idempotent
    assert sum(isinstance(f, SecretQueryFilter) for f in logging.getLogger(name).filters) == 1

    record = logging.LogRecord(
        "urllib3.util.retry",
        logging.DEBUG,
        __file__,
        1,
        "Incremented Retry for (url='%s'): %r",
        ("/api/v2/token/get?app_key=k&App_Secret=sec123456&auth_code=cod123456", "Retry()"),
        None,
    )
    assert SecretQueryFilter().filter(record)
    message = record.getMessage()
    assert "sec123456" not in message and "cod123456" not in message and "app_key=k" in message


@pytest.mark.parametrize("extra", [(), ("code", "state")])
def test_extra_keys_are_scrubbed_only_where_asked(extra):
    text = "GET /auth/callback?code=cod123456&state=sta123456&access_token=tok123456"
    scrubbed = scrub_secret_pairs(text, extra)
    assert "tok123456" not in scrubbed
    assert ("cod123456" in scrubbed) is not bool(extra)
    assert ("sta123456" in scrubbed) is not bool(extra)
    # TikTok's error code stays visible in redacted request data.
    assert "code" not in SECRET_KEYS and redact({"code": 36004004}) == {"code": 36004004}


def test_access_log_hides_auth_code_and_state_and_keeps_uvicorns_arguments():
    from starlette.applications import Starlette

    from tiktok_pipeline.web.server import uvicorn_config

    uvicorn_config(Starlette(), access_log=True)
    access = logging.getLogger("uvicorn.access")
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", "/auth/callback?code=cod123456&state=sta123456", "1.1", 200),
        None,
    )
    assert all(f.filter(record) for f in access.filters if isinstance(f, SecretQueryFilter))
    assert isinstance(record.args, tuple) and len(record.args) == 5
    message = record.getMessage()
    assert "cod123456" not in message and "sta123456" not in message
    assert message.endswith('HTTP/1.1" 200')
