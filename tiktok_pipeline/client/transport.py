"""Sending one logical call: sign, send, parse, map errors, retry, rate-limit, log and notify.

Every attempt becomes a :class:`~tiktok_pipeline.request_records.RequestRecord` (redacted) that
goes to the request log and to observers; a call that finally fails is also announced as a
:class:`RequestFailed`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from urllib3.exceptions import NewConnectionError

from tiktok_pipeline.client.errors import (
    ConnectionFailed,
    InvalidResponse,
    RateLimited,
    ServerError,
    TikTokAPIError,
    TikTokTimeout,
    error_from_response,
)
from tiktok_pipeline.client.ratelimit import Limiter
from tiktok_pipeline.client.retry import RetryPolicy, parse_retry_after
from tiktok_pipeline.client.signing import sign_request
from tiktok_pipeline.redaction import install_url_log_filter, redact, redact_body, scrub
from tiktok_pipeline.request_records import RequestLogSink, RequestRecord

logger = logging.getLogger("tiktok_pipeline.client")
# urllib3 logs full request URLs (DEBUG, retry warnings); token calls carry secrets in theirs.
install_url_log_filter()

TRUNCATED = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


@dataclass(frozen=True)
class RequestFailed:
    """A call that failed for good, after retries (the original's ``TikTokRequestFailed``)."""

    record: RequestRecord
    error: TikTokAPIError


@dataclass(frozen=True)
class Call:
    """Everything needed to send one logical call (the transport adds timestamp and sign)."""

    action: str
    method: str
    base_url: str
    path: str
    # Query and headers carry the app secret, auth codes and tokens: kept out of repr().
    query: Mapping[str, str] = field(repr=False)
    body: bytes | None = None
    headers: Mapping[str, str] | None = field(default=None, repr=False)
    shop_id: str | None = None
    signed: bool = True
    idempotent: bool = True
    token_call: str | None = None


class Transport:
    """Sends :class:`Call` s over one pooled ``requests.Session``."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        session: requests.Session,
        timeout: tuple[float, float],
        retry: RetryPolicy,
        request_log: RequestLogSink | None = None,
    ) -> None:
        self.app_key = app_key
        self._app_secret = app_secret
        self.session = session
        self.timeout = timeout
        self.retry = retry
        self.request_log = request_log
        self.request_observers: list[Callable[[RequestRecord], None]] = []
        self.failure_observers: list[Callable[[RequestFailed], None]] = []

    def send(
        self,
        call: Call,
        *,
        limiter: Limiter | None = None,
        secrets: Iterable[str | None] = (),
        recoverable: tuple[type[TikTokAPIError], ...] = (),
    ) -> dict[str, Any]:
        """Send ``call`` until it succeeds or the retry policy gives up; returns the envelope.

        A final error of a ``recoverable`` type is raised without telling the failure observers:
        the caller recovers from it (an expired token is refreshed and the call sent again) or
        reports it with :meth:`announce_failure`, so observers hear of final failures only.
        """
        secrets = (self._app_secret, *secrets)
        attempt = 0
        while True:
            attempt += 1
            if limiter is not None:
                limiter.acquire()
            query = self._final_query(call)
            record = RequestRecord(
                action=call.action,
                method=call.method,
                path=call.path,
                shop_id=call.shop_id,
                attempt=attempt,
            )
            started = time.perf_counter()
            try:
                envelope = self._attempt(call, query, record, secrets)
            except TikTokAPIError as error:
                record.duration_ms = (time.perf_counter() - started) * 1000
                record.error = f"{type(error).__name__}: {scrub(error.message, secrets)}"
                self._publish(record, call, query)
                delay = self._retry_delay(call, error, attempt)
                if delay is None:
                    if isinstance(error, recoverable):
                        error.failed_attempt = record
                    else:
                        self.announce_failure(record, error)
                    raise
                logger.warning(
                    "%s %s failed (%s); retrying in %.2fs (attempt %d of %d)",
                    call.method,
                    call.path,
                    record.error,
                    delay,
                    attempt,
                    self.retry.max_attempts,
                )
                time.sleep(delay)
                continue
            record.duration_ms = (time.perf_counter() - started) * 1000
            self._publish(record, call, query)
            return envelope

    def _final_query(self, call: Call) -> dict[str, str]:
        if not call.signed:
            return dict(call.query)
        query = {**call.query, "app_key": self.app_key, "timestamp": str(int(time.time()))}
        query["sign"] = sign_request(self._app_secret, call.path, query, call.body)
        return query

    def _attempt(
        self,
        call: Call,
        query: dict[str, str],
        record: RequestRecord,
        secrets: tuple[str | None, ...],
    ) -> dict[str, Any]:
        headers = dict(call.headers or {})
        if call.body is not None:
            headers["content-type"] = "application/json"
        try:
            response = self.session.request(
                call.method,
                call.base_url + call.path,
                params=query,
                data=call.body,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.exceptions.Timeout as exc:
            raise TikTokTimeout(
                f"{'connect' if isinstance(exc, requests.exceptions.ConnectTimeout) else 'read'} "
                f"timeout after {self._timeout_for(exc):g}s calling {call.method} {call.path}",
                endpoint=call.action,
            ) from None
        except requests.exceptions.RequestException as exc:
            raise ConnectionFailed(
                f"{_describe(exc, call)} calling {call.method} {call.path}",
                endpoint=call.action,
            ) from None
        record.http_status = response.status_code
        envelope = _decode(response, call, secrets)
        record.code = envelope.get("code")
        record.message = scrub(str(envelope.get("message") or ""), secrets)[:500] or None
        record.request_id = envelope.get("request_id")
        if response.status_code >= 400 or envelope.get("code") != 0:
            raise error_from_response(
                {**envelope, "message": record.message},
                http_status=response.status_code,
                endpoint=call.action,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                token_call=call.token_call,
            )
        return envelope

    def _timeout_for(self, exc: Exception) -> float:
        return (
            self.timeout[0]
            if isinstance(exc, requests.exceptions.ConnectTimeout)
            else self.timeout[1]
        )

    def _retry_delay(self, call: Call, error: TikTokAPIError, attempt: int) -> float | None:
        if not error.retryable:
            return None
        if not call.idempotent and not _safe_to_repeat(error):
            return None
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        return self.retry.delay(attempt, retry_after)

    def _publish(self, record: RequestRecord, call: Call, query: Mapping[str, str]) -> None:
        record.query = redact(query)
        record.body = redact_body(call.body) if call.body else None
        logger.debug(
            "%s %s -> HTTP %s code %s in %.1f ms",
            record.method,
            record.path,
            record.http_status,
            record.code,
            record.duration_ms or 0.0,
        )
        if self.request_log is not None:
            try:
                self.request_log.record(record)
            except Exception:
                logger.exception("could not queue a request log record")
        for observer in self.request_observers:
            _notify(observer, record)

    def announce_failure(self, record: RequestRecord, error: TikTokAPIError) -> None:
        """Log a call's final failure and tell the failure observers."""
        logger.error("%s %s failed: %s", record.method, record.path, record.error)
        event = RequestFailed(record=record, error=error)
        for observer in self.failure_observers:
            _notify(observer, event)


def _notify(observer: Callable[[Any], None], event: Any) -> None:
    try:
        observer(event)
    except Exception:
        logger.exception("request observer %r failed", observer)


def _safe_to_repeat(error: TikTokAPIError) -> bool:
    """True when a call that must not run twice surely did not run: it never reached TikTok,
    or TikTok answered that it refused it (throttled, unavailable, "internal error, retry").

    A timeout or a dropped connection after sending leaves the outcome unknown: not repeated.
    """
    if isinstance(error, RateLimited):
        return True
    if error.http_status == 503 or error.code == 36009003:
        return True
    cause = error.__context__
    return isinstance(cause, requests.exceptions.ConnectTimeout) or _refused(cause)


def _refused(exc: BaseException | None) -> bool:
    """True when ``exc`` (or what it wraps) is a refused connection: nothing was sent."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectionRefusedError):
            return True
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return False


def _root_cause(exc: BaseException) -> BaseException:
    while True:
        inner = exc.__cause__ or getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in exc.args if isinstance(a, BaseException)), None)
        if inner is None or inner is exc:
            return exc
        exc = inner


def _describe(exc: requests.exceptions.RequestException, call: Call) -> str:
    """A short description of a transport failure: no URL query string, so no secret."""
    host = urlsplit(call.base_url).netloc
    if _refused(exc):
        return f"connection to {host} refused"
    if isinstance(exc, TRUNCATED):
        return f"response from {host} truncated or undecodable"
    root = type(_root_cause(exc)).__name__
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"connection to {host} failed or dropped ({root})"
    return f"{root} talking to {host}"


def _decode(
    response: requests.Response, call: Call, secrets: Iterable[str | None]
) -> dict[str, Any]:
    try:
        envelope = orjson.loads(response.content)
    except (ValueError, requests.exceptions.RequestException):
        envelope = None
    if not isinstance(envelope, dict) or "code" not in envelope:
        if response.status_code == 429:
            return {"code": None, "message": "HTTP 429 Too Many Requests"}
        snippet = scrub(response.text[:200], secrets).replace("\n", " ")
        error_class = ServerError if response.status_code >= 500 else InvalidResponse
        raise error_class(
            f"HTTP {response.status_code} with a body that is not a TikTok JSON envelope: "
            f"{snippet!r}",
            http_status=response.status_code,
            endpoint=call.action,
        )
    return envelope
