"""Alert delivery over real sockets (a Slack-like webhook, an SMTP server), its settings, and
which changes of the shops_connected check deserve an alert.

What a person configuring alerts notices: mail needs TLS unless told otherwise, a login is
used, one broken destination does not stop the other, errors say what to fix and never show
the webhook URL or the SMTP password.
"""

from __future__ import annotations

import dagster as dg
import pytest

from tiktok_pipeline.config import (
    AlertSettings,
    ConfigurationError,
    load_alert_settings,
    load_settings,
)
from tiktok_pipeline.defs.alerting import Alert, deliver, transition_alert
from tiktok_pipeline.defs.alerting.shops_connected import CheckState
from tiktok_pipeline_tests.test_defs.alert_receivers import (
    WEBHOOK_PATH,
    slack_receiver,
    smtp_server,
)

PASSWORD = "Xsmtp-password-secretX"
ALERT = Alert(
    title="tiktok_sync_job failed for shop 7001",
    summary="Run 1234abcd of tiktok_sync_job failed.",
    fields=(("Fix", "open https://shops.example.com/tiktok/seller/authorize"),),
)


def _mail_settings(port: int, **overrides) -> AlertSettings:
    settings = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_from": "pipeline@example.com",
        "smtp_to": ("ops@example.com",),
        "smtp_starttls": False,
    }
    return AlertSettings(**(settings | overrides))


def test_mail_is_not_sent_in_plain_text_unless_starttls_is_turned_off() -> None:
    with smtp_server() as box:
        refused = deliver(ALERT, _mail_settings(box.port, smtp_starttls=True))
        sent = deliver(ALERT, _mail_settings(box.port))

    (refusal,) = refused
    assert not refusal.ok and "does not offer STARTTLS" in refusal.error
    assert "TIKTOK_ALERT_SMTP_STARTTLS=false" in refusal.error
    assert [r.ok for r in sent] == [True]
    (body,) = box.bodies()  # only the second attempt reached the mailbox
    assert "7001" in body and "https://shops.example.com/tiktok/seller/authorize" in body


def test_mail_logs_in_and_a_refused_login_names_the_variables_not_the_password() -> None:
    with smtp_server(user="alerts", password=PASSWORD) as box:
        good = _mail_settings(box.port, smtp_user="alerts", smtp_password=PASSWORD)
        bad = _mail_settings(box.port, smtp_user="alerts", smtp_password=PASSWORD + "-old")
        (sent,) = deliver(ALERT, good)
        (refused,) = deliver(ALERT, bad)

    assert sent.ok and box.logins == ["alerts"] and len(box.raw) == 1
    assert not refused.ok and "login as alerts refused (535)" in refused.error
    assert "TIKTOK_ALERT_SMTP_PASSWORD" in refused.error and PASSWORD not in refused.error
    assert PASSWORD not in box.raw[0].decode()


def test_an_unreachable_slack_does_not_keep_the_mail_from_going() -> None:
    with slack_receiver() as slack:
        url = slack.url
    with smtp_server() as box:  # the webhook's port is closed by now
        results = deliver(ALERT, _mail_settings(box.port, slack_webhook_url=url))

    by_destination = {r.destination: r for r in results}
    assert by_destination["e-mail to ops@example.com"].ok
    problem = by_destination["Slack"].error
    assert problem is not None and "unreachable (ConnectionError)" in problem
    assert WEBHOOK_PATH not in problem and url not in problem
    assert len(box.raw) == 1


def test_the_slack_post_escapes_markup_and_scrubs_secrets() -> None:
    alert = Alert(
        title="x <!channel> & co",
        summary=(
            "token access_token=abc123secret and the app secret s3cr3t-app; "
            "shop 7001 needs re-authorization: the seller opens the link"
        ),
        secrets=("s3cr3t-app",),
    )
    with slack_receiver() as slack:
        (result,) = deliver(alert, AlertSettings(slack_webhook_url=slack.url))

    assert result.ok and slack.paths == [WEBHOOK_PATH]
    (text,) = slack.texts()
    assert "&lt;!channel&gt; &amp; co" in text and "<!channel>" not in text
    assert "abc123secret" not in text and "s3cr3t-app" not in text
    assert "needs re-authorization: the seller opens the link" in text  # prose stays


# ##### settings


def test_settings_read_every_variable() -> None:
    settings = load_alert_settings(
        {
            "TIKTOK_ALERT_SLACK_WEBHOOK_URL": "https://hooks.slack.com" + WEBHOOK_PATH,
            "TIKTOK_ALERT_SMTP_HOST": "smtp.example.com",
            "TIKTOK_ALERT_SMTP_PORT": "2525",
            "TIKTOK_ALERT_SMTP_USER": "alerts@example.com",
            "TIKTOK_ALERT_SMTP_PASSWORD": PASSWORD,
            "TIKTOK_ALERT_SMTP_TO": "ops@example.com; owner@example.com",
            "TIKTOK_ALERT_SMTP_STARTTLS": "no",
        }
    )

    assert settings.smtp_port == 2525 and settings.smtp_starttls is False
    assert settings.smtp_from == "alerts@example.com"  # the login, when it is an address
    assert settings.smtp_to == ("ops@example.com", "owner@example.com")
    assert settings.destinations == ["Slack", "e-mail to ops@example.com, owner@example.com"]
    assert PASSWORD not in repr(settings) and WEBHOOK_PATH not in repr(settings)
    assert load_alert_settings({}).destinations == []


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"TIKTOK_ALERT_SLACK_WEBHOOK_URL": "hooks.slack.com" + WEBHOOK_PATH}, "SLACK_WEBHOOK"),
        ({"TIKTOK_ALERT_SMTP_TO": "ops@example.com"}, "TIKTOK_ALERT_SMTP_HOST is not"),
        ({"TIKTOK_ALERT_SMTP_HOST": "smtp.example.com"}, "TIKTOK_ALERT_SMTP_TO needs"),
        (
            {"TIKTOK_ALERT_SMTP_HOST": "h", "TIKTOK_ALERT_SMTP_TO": "ops@example.com"},
            "TIKTOK_ALERT_SMTP_FROM needs",
        ),
        (
            {
                "TIKTOK_ALERT_SMTP_HOST": "h",
                "TIKTOK_ALERT_SMTP_TO": "a@b.c",
                "TIKTOK_ALERT_SMTP_PASSWORD": PASSWORD,
            },
            "go together",
        ),
        (
            {
                "TIKTOK_ALERT_SMTP_HOST": "h",
                "TIKTOK_ALERT_SMTP_TO": "a@b.c",
                "TIKTOK_ALERT_SMTP_FROM": "x@b.c",
                "TIKTOK_ALERT_SMTP_PORT": "70000",
            },
            "TIKTOK_ALERT_SMTP_PORT='70000' is not a port",
        ),
        (
            {
                "TIKTOK_ALERT_SMTP_HOST": "h",
                "TIKTOK_ALERT_SMTP_TO": "a@b.c",
                "TIKTOK_ALERT_SMTP_FROM": "x@b.c",
                "TIKTOK_ALERT_SMTP_STARTTLS": "maybe",
            },
            "TIKTOK_ALERT_SMTP_STARTTLS='maybe' is not true or false",
        ),
    ],
)
def test_bad_settings_name_the_variable_and_never_echo_a_secret(environ, named) -> None:
    with pytest.raises(ConfigurationError, match=named) as raised:
        load_alert_settings(environ)

    assert WEBHOOK_PATH not in str(raised.value) and PASSWORD not in str(raised.value)


# ##### what a change of the check deserves


def _evaluation(passed: bool, shops: list[str]) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey("tiktok_authorizations"),
        check_name="shops_connected",
        passed=passed,
        description=None if passed else f"{len(shops)} shop(s) need attention",
        metadata={"shops_needing_attention": dg.MetadataValue.json(shops)},
    )


def test_a_red_check_alerts_again_only_when_shops_join_it(monkeypatch) -> None:
    monkeypatch.setenv("TIKTOK_PUBLIC_URL", "https://shops.example.com")
    settings = load_settings()
    red_one = CheckState(1, frozenset({"7001"}))

    joined = transition_alert(red_one, _evaluation(False, ["7001", "7002"]), "r", settings)
    fewer = transition_alert(
        CheckState(2, frozenset({"7001", "7002"})), _evaluation(False, ["7002"]), "r", settings
    )
    first_seen = transition_alert(CheckState(), _evaluation(False, ["7001"]), "r", settings)
    green_first = transition_alert(CheckState(), _evaluation(True, []), "r", settings)

    assert joined is not None and joined.title == "shops_connected: 1 more shop needs attention"
    assert dict(joined.fields)["Shops"] == "7002" and dict(joined.fields)["Still red"] == "7001"
    assert fewer is None and green_first is None
    assert first_seen is not None and first_seen.title.startswith("shops_connected is red")
    assert "https://shops.example.com/tiktok/seller/authorize" in dict(first_seen.fields)["Fix"]
    assert CheckState.from_cursor(red_one.to_cursor()) == red_one
    assert CheckState.from_cursor("not json") == CheckState()
