"""Send an alert to every configured destination: a Slack incoming webhook, e-mail over SMTP.

Each destination is tried on its own; one failing does not keep the alert from the others.
Failures come back as :class:`Delivery` results whose messages name the destination and the
cause (an HTTP status, an SMTP reply), never the webhook URL (it is the credential) nor the
SMTP password.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from tiktok_pipeline.config import SMTPS_PORT, AlertSettings
from tiktok_pipeline.defs.alerting.message import Alert, safe_text

logger = logging.getLogger(__name__)

#: Seconds to wait for a Slack answer or an SMTP exchange (sensor ticks end after 60 s).
TIMEOUT_SECONDS = 10.0
#: Tries of a Slack post that failed to connect, timed out, or got 429 or 5xx.
SLACK_ATTEMPTS = 2
SLACK_RETRY_DELAY = 1.0


class AlertDeliveryError(RuntimeError):
    """An alert did not reach a destination; the message is safe to show and log."""


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending one alert to one destination."""

    destination: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the destination accepted the alert."""
        return self.error is None

    def __str__(self) -> str:
        return self.destination if self.ok else f"{self.destination}: {self.error}"


def deliver(alert: Alert, settings: AlertSettings) -> list[Delivery]:
    """Send ``alert`` to each destination of ``settings``; one result per destination.

    Raises nothing: failures are results (their text holds no secret); see
    :func:`deliver_and_report` for the logging.
    """
    alert = Alert(
        alert.title, alert.summary, alert.fields, alert.ok, (*alert.secrets, *settings.secrets)
    )
    results = []
    if settings.slack_webhook_url:
        results.append(_attempt("Slack", lambda: send_slack(settings.slack_webhook_url, alert)))
    if settings.smtp_host:
        label = f"e-mail to {', '.join(settings.smtp_to)}"
        results.append(_attempt(label, lambda: send_email(settings, alert)))
    return results


def deliver_and_report(alert: Alert, settings: AlertSettings, log: Any) -> str:
    """Deliver ``alert``, log each failed destination at ERROR (on ``log`` and on this module's
    logger); return one line saying where it went and where not (the sensors' tick reason)."""
    results = deliver(alert, settings)
    for failed in (r for r in results if not r.ok):
        # The sensor's log is the tick's page in the UI; the module's reaches the process log.
        for sink in (log, logger):
            sink.error("Alert %r NOT delivered to %s", alert.title, failed)
    report = f"{alert.title}: " + "; ".join(
        f"sent to {r}" if r.ok else f"NOT delivered to {r}" for r in results
    )
    log.info("%s", report)
    return report


def _attempt(destination: str, send) -> Delivery:
    try:
        send()
    except AlertDeliveryError as exc:
        return Delivery(destination, str(exc))
    return Delivery(destination)


def send_slack(url: str, alert: Alert, *, timeout: float = TIMEOUT_SECONDS) -> None:
    """Post ``alert`` to a Slack incoming webhook; AlertDeliveryError when Slack refuses it.

    Connection errors, timeouts, 429 and 5xx answers are tried again once after a second.
    """
    host = urlsplit(url).hostname or "the webhook host"
    problem = ""
    for attempt in range(1, SLACK_ATTEMPTS + 1):
        if attempt > 1:
            time.sleep(SLACK_RETRY_DELAY)
        try:
            response = requests.post(url, json=alert.slack_payload(), timeout=timeout)
        except requests.RequestException as exc:
            # The exception's text holds the URL, whose path is the webhook's credential.
            problem = f"{host} unreachable ({type(exc).__name__})"
            continue
        if response.ok:
            return
        answer = safe_text(response.text, alert.secrets, limit=200) or response.reason
        problem = f"{host} answered HTTP {response.status_code}: {answer}"
        if response.status_code != 429 and response.status_code < 500:
            break  # a wrong or revoked webhook: trying again changes nothing
    raise AlertDeliveryError(
        f"Slack webhook: {problem}; check TIKTOK_ALERT_SLACK_WEBHOOK_URL "
        "(the webhook may have been removed from the Slack app)"
    )


def send_email(settings: AlertSettings, alert: Alert, *, timeout: float = TIMEOUT_SECONDS) -> None:
    """Mail ``alert`` through the SMTP server of ``settings``; AlertDeliveryError on failure.

    Port 465 speaks TLS from the start; on other ports ``smtp_starttls`` demands STARTTLS
    (the mail is not sent when the server does not offer it). Logs in when a user is set.
    """
    if not settings.smtp_host or not settings.smtp_from:
        raise AlertDeliveryError("e-mail: TIKTOK_ALERT_SMTP_HOST or _FROM is not set")
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    message = alert.email(settings.smtp_from, settings.smtp_to)
    tls = ssl.create_default_context()
    try:
        if settings.smtp_port == SMTPS_PORT:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=timeout, context=tls
            )
        else:
            connection = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with connection:
            connection.ehlo()
            if settings.smtp_starttls and settings.smtp_port != SMTPS_PORT:
                if not connection.has_extn("starttls"):
                    raise AlertDeliveryError(
                        f"e-mail via {server}: the server does not offer STARTTLS, so the mail "
                        "was not sent in plain text; use the server's TLS port, or set "
                        "TIKTOK_ALERT_SMTP_STARTTLS=false for a trusted local relay"
                    )
                connection.starttls(context=tls)
                connection.ehlo()
            if settings.smtp_user and settings.smtp_password:
                connection.login(settings.smtp_user, settings.smtp_password)
            connection.send_message(message)
    except AlertDeliveryError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise AlertDeliveryError(
            f"e-mail via {server}: login as {settings.smtp_user} refused ({exc.smtp_code}); "
            "check TIKTOK_ALERT_SMTP_USER and TIKTOK_ALERT_SMTP_PASSWORD"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        detail = safe_text(_smtp_reason(exc), alert.secrets, limit=300)
        raise AlertDeliveryError(
            f"e-mail via {server} failed: {type(exc).__name__}: {detail}"
        ) from None


def _smtp_reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        return f"{exc.smtp_code} {text}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "refused " + ", ".join(sorted(exc.recipients))
    return str(exc) or "no detail"
