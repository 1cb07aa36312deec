"""Real receivers for alert tests: a Slack-like webhook over HTTP and an SMTP server (aiosmtpd).

Both listen on 127.0.0.1 sockets and keep what they received, so tests read exactly what Slack
or a mailbox would get.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

#: The secret part of a Slack webhook URL (what must never appear in an alert or a log).
WEBHOOK_PATH = "/services/T0TEST/B0TEST/XsecretXwebhookXtokenX"


@dataclass
class SlackReceiver:
    """The posts a Slack incoming webhook received; ``status``/``answer`` are its reply."""

    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    status: int = 200
    answer: str = "ok"

    def texts(self) -> list[str]:
        """Each post as the text a person reads (notification line and attachment body)."""
        return [
            "\n".join([p.get("text", ""), *(a.get("text", "") for a in p.get("attachments", []))])
            for p in self.posts
        ]


@contextmanager
def slack_receiver() -> Iterator[SlackReceiver]:
    """A webhook receiver on a free port; its ``url`` carries :data:`WEBHOOK_PATH`."""
    receiver = SlackReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.paths.append(self.path)
            receiver.posts.append(json.loads(body))
            answer = receiver.answer.encode()
            self.send_response(receiver.status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:  # quiet: the test reads the posts
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{WEBHOOK_PATH}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    """The mails an SMTP server accepted, and the logins it saw."""

    host: str = "127.0.0.1"
    port: int = 0
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def messages(self) -> list[EmailMessage]:
        """The accepted mails, parsed."""
        return [
            email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
            for raw in self.raw
        ]

    def bodies(self) -> list[str]:
        """Each mail's plain-text body, decoded."""
        return [str(m.get_body(("plain",)).get_content()) for m in self.messages()]  # type: ignore[union-attr]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(user: str | None = None, password: str | None = None) -> Iterator[Mailbox]:
    """An SMTP server without TLS; with ``user``, it offers AUTH and accepts only that login."""
    box = Mailbox(port=_free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope) -> str:
            box.raw.append(envelope.original_content or envelope.content)
            box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else ""
        secret = auth_data.password.decode() if isinstance(auth_data.password, bytes) else ""
        ok = login == user and secret == password
        if ok:
            box.logins.append(login)
        return AuthResult(success=ok, handled=False)

    options: dict[str, Any] = {}
    if user is not None:
        options = {"authenticator": authenticate, "auth_require_tls": False}
    controller = Controller(Handler(), hostname=box.host, port=box.port, **options)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
