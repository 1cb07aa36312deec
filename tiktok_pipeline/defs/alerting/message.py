"""An alert as people read it: a title, a summary and labelled lines, rendered for Slack and mail.

Free text that came from elsewhere (a run's error) goes through :func:`safe_text` before it
lands here; rendering scrubs once more, so that no secret leaves even if a caller forgot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from tiktok_pipeline.redaction import scrub, scrub_secret_pairs

#: Longest error text an alert quotes; the run page has the rest.
MAX_DETAIL_CHARS = 1500
SUBJECT_PREFIX = "[TikTok pipeline]"
#: Shops a title names; the alert's Shops line has all of them.
MAX_TITLE_SHOPS = 5


def clean(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without the given secret values nor the values of ``key=secret`` pairs."""
    # "re-authorization: the seller ..." is prose, not an Authorization header.
    guarded = text.replace("re-authorization", "re_authorization")
    return scrub(scrub_secret_pairs(guarded), secrets).replace(
        "re_authorization", "re-authorization"
    )


def safe_text(text: str, secrets: Iterable[str | None] = (), limit: int = MAX_DETAIL_CHARS) -> str:
    """``text`` without secret values or ``key=secret`` pairs, cut to ``limit`` characters."""
    cleaned = clean(text, secrets).strip()
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 15].rstrip() + " ...[truncated]"
    return cleaned


def shops_phrase(shop_ids: Iterable[str]) -> str:
    """``shop 1`` or ``shops 1, 2``: titles avoid "shop(s)", which mail headers fold badly."""
    ids = sorted(shop_ids)
    more = f" and {len(ids) - MAX_TITLE_SHOPS} more" if len(ids) > MAX_TITLE_SHOPS else ""
    return ("shop " if len(ids) == 1 else "shops ") + ", ".join(ids[:MAX_TITLE_SHOPS]) + more


def count_phrase(count: int, one: str, many: str) -> str:
    """``1 shop needs`` / ``2 shops need``: the count with the matching words."""
    return f"{count} {one if count == 1 else many}"


@dataclass(frozen=True)
class Alert:
    """One notification: what happened (title), why it matters (summary) and labelled facts.

    ``fields`` are ``(label, value)`` pairs such as ``("Fix", "the seller opens ...")``;
    ``ok`` is True for a recovery (rendered green in Slack).
    """

    title: str
    summary: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    ok: bool = False
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def text(self) -> str:
        """The plain-text body (mail, logs): title, summary, then one ``Label: value`` line each."""
        lines = [self.title]
        if self.summary:
            lines += ["", self.summary]
        if self.fields:
            lines.append("")
            lines += [f"{label}: {value}" for label, value in self.fields]
        return clean("\n".join(lines), self.secrets)

    def slack_payload(self) -> dict[str, Any]:
        """The JSON body of a Slack incoming webhook post (``text`` is the notification line)."""
        # The title is the post's own text (and the notification); the attachment the rest.
        body = [_slack_escape(self.summary)] if self.summary else []
        body += [
            f"*{_slack_escape(label)}:* {_slack_escape(value)}" for label, value in self.fields
        ]
        return {
            "text": clean(_slack_escape(self.title), self.secrets),
            "attachments": [
                {
                    "color": "good" if self.ok else "danger",
                    "mrkdwn_in": ["text"],
                    "text": clean("\n".join(body), self.secrets),
                }
            ],
        }

    def email(self, sender: str, recipients: Iterable[str]) -> EmailMessage:
        """The mail: subject ``[TikTok pipeline] <title>``, plain-text body."""
        message = EmailMessage()
        message["Subject"] = clean(f"{SUBJECT_PREFIX} {self.title}", self.secrets)
        message["From"] = sender
        message["To"] = ", ".join(recipients)
        message.set_content(self.text())
        return message


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions; the three characters must be escaped.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
