"""The Open API gateway: faults, route resolution, TikTok's checks, envelopes.

It is a raw ASGI middleware in front of the Starlette router: Open API calls are answered
here (fast path); token, consent and /sandbox/ control paths go on to Starlette after the
faults that apply to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from tiktok_pipeline.sandbox import errors
from tiktok_pipeline.sandbox.errors import ApiError
from tiktok_pipeline.sandbox.params import Call, RawData, parse_body
from tiktok_pipeline.sandbox.routes import Endpoint, resolve
from tiktok_pipeline.sandbox.signing import verify_sign
from tiktok_pipeline.sandbox.state import SandboxState, dumps

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: Paths that never get faults and are not Open API paths.
PASS_THROUGH = ("/sandbox", "/open/", "/oauth/", "/favicon.ico")
TOKEN_PREFIX = "/api/v2/token/"
MAX_PAST = 300
MAX_FUTURE = 30
JSON_HEADERS = [(b"content-type", b"application/json")]
HTML_503 = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    b"<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)


def request_id() -> str:
    """A TikTok-like request id: UTC timestamp plus 20 hex characters."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + secrets.token_hex(10).upper()


def envelope(code: int, message: str, rid: str, data: object = None) -> bytes:
    """TikTok's response envelope as bytes."""
    head = dumps({"code": code, "message": message, "request_id": rid})[:-1] + b',"data":'
    if isinstance(data, RawData):
        return b"".join([head, *data.chunks, b"}"])
    return head + dumps(data) + b"}"


async def send_bytes(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a complete response."""
    all_headers = list(headers if headers is not None else JSON_HEADERS)
    all_headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def first_values(query_string: bytes) -> dict[str, str]:
    """Decoded query parameters; a repeated key keeps its first value (like Go's Get)."""
    out: dict[str, str] = {}
    for k, v in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        out.setdefault(k, v)
    return out


class SandboxGateway:
    """ASGI middleware serving the Open API and injecting faults."""

    def __init__(self, app: Callable, state: SandboxState) -> None:
        self.app = app
        self.state = state
        self._read_ahead_task: asyncio.Task | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/" or path.startswith(PASS_THROUGH):
            await self.app(scope, receive, send)
            return
        if self.state.faults.applies(path):
            answered, receive = await self._inject(receive, send)
            if answered:
                return
        if path.startswith(TOKEN_PREFIX):
            await self.app(scope, receive, send)
            return
        await self._open_api(scope, receive, send)

    # -- faults -------------------------------------------------------------------------------

    async def _inject(self, receive: Receive, send: Send) -> tuple[bool, Receive]:
        """Apply latency and share-based faults.

        Returns (answered, receive): whether the request is done with, and the ``receive`` to
        go on with (a slow answer has already read the body and replays it).
        """
        faults = self.state.faults
        delay = faults.delay()
        if delay:
            await asyncio.sleep(delay)
        kind = faults.roll()
        if kind is None:
            return False, receive
        stats = self.state.stats
        stats.fault(kind)
        rid = request_id()
        if kind == "drop":
            await self._drop(receive)
            return True, receive
        if kind == "slow":
            return await self._slow(receive, faults.settings.slow_seconds)
        if kind == "503":
            if faults.settings.error_503_body == "html":
                await send_bytes(send, 503, HTML_503, [(b"content-type", b"text/html")])
            else:
                code, _, message = errors.UNAVAILABLE
                stats.rejection(code)
                await send_bytes(send, 503, envelope(code, message, rid))
            return True, receive
        if kind == "429":
            await self._rate_limited(send, rid)
            return True, receive
        code, status, message = errors.INTERNAL_ERROR
        stats.rejection(code)
        await send_bytes(send, status, envelope(code, message, rid))
        return True, receive

    @staticmethod
    async def _slow(receive: Receive, seconds: float) -> tuple[bool, Receive]:
        """Hold the answer for ``seconds``; give up early when the client goes away."""
        body = await read_body(receive)
        try:
            message = await asyncio.wait_for(receive(), timeout=seconds)
        except TimeoutError:
            message = {"type": "timeout"}
        if message["type"] == "http.disconnect":
            return True, receive
        replayed = False

        async def replay() -> MutableMapping[str, Any]:
            """The buffered body first, then the real receive."""
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return False, replay

    async def _rate_limited(self, send: Send, rid: str) -> None:
        code, status, message = errors.RATE_LIMITED
        self.state.stats.rejection(code)
        headers = list(JSON_HEADERS)
        retry_after = self.state.faults.settings.retry_after
        if retry_after is not None:
            headers.append((b"retry-after", str(retry_after).encode()))
        await send_bytes(send, status, envelope(code, message, rid), headers)

    @staticmethod
    async def _drop(receive: Receive) -> None:
        """Close the connection without an answer (uvicorn: through the cycle's transport)."""
        transport = getattr(getattr(receive, "__self__", None), "transport", None)
        if transport is None:
            raise ConnectionAbortedError("sandbox fault: dropped connection")
        transport.close()
        # Wait for the server to notice the disconnect, so it does not answer with a 500.
        with contextlib.suppress(Exception):
            for _ in range(20):
                message = await asyncio.wait_for(receive(), 1.0)
                if message["type"] == "http.disconnect":
                    break

    # -- Open API -----------------------------------------------------------------------------

    async def _open_api(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        method = scope["method"]
        path = scope["path"]
        raw_body = await read_body(receive)
        rid = request_id()
        endpoint: Endpoint | None = None
        try:
            endpoint, path_params = resolve(method, path)
            state.stats.request(endpoint.key)
            query = first_values(scope.get("query_string", b""))
            headers = {k.lower(): v for k, v in scope["headers"]}
            call = self._authenticate(endpoint, path_params, method, path, query, headers, raw_body)
            scope_key = call.world.info.id if call.world else f"seller:{call.open_id}"
            if state.faults.over_rate(state.config.app_key, scope_key):
                state.stats.fault("rate_limit")
                await self._rate_limited(send, rid)
                return
            result = endpoint.handler(call)
        except ApiError as exc:
            if endpoint is None:
                state.stats.request(f"{method} (unknown path)")
            state.stats.rejection(exc.code)
            await send_bytes(send, exc.http_status, envelope(exc.code, exc.message, rid, exc.data))
            return
        except Exception:
            log.exception("sandbox handler failed for %s %s", method, path)
            code, _, message = errors.INTERNAL_ERROR
            state.stats.rejection(code)
            await send_bytes(send, 500, envelope(code, message, rid))
            return
        await send_bytes(send, 200, envelope(0, "Success", rid, result))
        if state.read_ahead and self._read_ahead_task is None:
            self._read_ahead_task = asyncio.get_running_loop().create_task(self._read_ahead())

    async def _read_ahead(self) -> None:
        """Render the next pages of recent searches while clients are busy with this one."""
        queue = self.state.read_ahead
        try:
            while queue:
                queue.popleft()()
                await asyncio.sleep(0)  # let waiting requests go first
        except Exception:
            log.exception("sandbox read-ahead failed")
        finally:
            self._read_ahead_task = None

    def _authenticate(
        self,
        endpoint: Endpoint,
        path_params: dict[str, str],
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[bytes, bytes],
        raw_body: bytes,
    ) -> Call:
        """TikTok's gateway checks, in order; raises ApiError."""
        state = self.state
        config = state.config
        app_key = query.get("app_key")
        if not app_key or not secrets.compare_digest(app_key, config.app_key):
            raise ApiError.of(errors.INVALID_APP_KEY)
        raw_ts = query.get("timestamp")
        try:
            ts = int(raw_ts) if raw_ts is not None else None
        except ValueError:
            ts = None
        if ts is None:
            raise ApiError.of(errors.TIMESTAMP_MISSING)
        if ts < 0:
            raise ApiError.of(errors.TIMESTAMP_NEGATIVE)
        now = time.time()
        if ts < now - MAX_PAST:
            raise ApiError.of(errors.TIMESTAMP_TOO_OLD)
        if ts > now + MAX_FUTURE:
            raise ApiError.of(errors.TIMESTAMP_IN_FUTURE)
        sign = query.get("sign")
        if not sign:
            raise ApiError.of(errors.MISSING_SIGN)
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if not verify_sign(config.app_secret, path, query, raw_body, content_type, sign):
            raise ApiError.of(errors.BAD_SIGN)
        token = headers.get(b"x-tts-access-token", b"").decode("latin-1").strip()
        if not token:
            raise ApiError.of(errors.MISSING_TOKEN_HEADER)
        check = state.auth.check_access(token)
        if check.error is not None:
            raise ApiError.of(check.error)
        open_id = check.open_id
        if open_id not in state.sellers:
            raise ApiError.of(errors.INVALID_TOKEN)
        world = None
        cipher = query.get("shop_cipher")
        if endpoint.shop_cipher:
            if not cipher:
                raise ApiError.of(errors.MISSING_CIPHER)
            world = state.by_cipher.get(cipher)
            if world is None or world.info.open_id != open_id:
                raise ApiError.of(errors.SHOP_MISMATCH)
        elif cipher is not None:
            raise ApiError.of(errors.UNEXPECTED_CIPHER)
        body: dict[str, Any] = {}
        if method in ("POST", "PUT", "DELETE", "PATCH"):
            if raw_body.strip() and "json" not in content_type.lower():
                raise ApiError.of(errors.BAD_BODY)
            body = parse_body(raw_body)
        return Call(
            state=state,
            open_id=open_id,
            world=world,
            method=method,
            path=path,
            query=query,
            body=body,
            path_params=path_params,
            now=state.now(),
            version=endpoint.version,
        )
