"""Alerts reach people: failed runs and the shops_connected check, to Slack and e-mail.

Real failed runs of the project's jobs against the sandbox, on a real Dagster instance; the
sensors of the project's Definitions are ticked as the daemon ticks them (cursor carried from
tick to tick); a Slack-like webhook and an SMTP server receive over real sockets.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from tiktok_pipeline.defs.alerting import (
    NOT_CONFIGURED,
    RUN_FAILURE_SENSOR,
    SHOPS_CONNECTED_SENSOR,
)
from tiktok_pipeline.store import Store
from tiktok_pipeline_tests.test_defs.alert_receivers import (
    WEBHOOK_PATH,
    Mailbox,
    SlackReceiver,
    slack_receiver,
    smtp_server,
)
from tiktok_pipeline_tests.test_defs.conftest import authorize_seller, day_key

PUBLIC_URL = "https://shops.example.com"
FIX_LINK = f"{PUBLIC_URL}/tiktok/seller/authorize"
UI_URL = "https://dagster.example.com"
SMTP_PASSWORD = "Xsmtp-password-secretX"


# ##### FIXTURES


@pytest.fixture
def links(monkeypatch) -> None:
    monkeypatch.setenv("TIKTOK_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("TIKTOK_DAGSTER_UI_URL", UI_URL)
    for name in ("SLACK_WEBHOOK_URL", "SMTP_HOST", "SMTP_TO", "SMTP_FROM", "SMTP_STARTTLS"):
        monkeypatch.delenv(f"TIKTOK_ALERT_{name}", raising=False)


@pytest.fixture
def slack(links, monkeypatch) -> Iterator[SlackReceiver]:
    with slack_receiver() as receiver:
        monkeypatch.setenv("TIKTOK_ALERT_SLACK_WEBHOOK_URL", receiver.url)
        yield receiver


@pytest.fixture
def mailbox(links, monkeypatch) -> Iterator[Mailbox]:
    with smtp_server(user="alerts", password=SMTP_PASSWORD) as box:
        for name, value in {
            "SMTP_HOST": box.host,
            "SMTP_PORT": str(box.port),
            "SMTP_USER": "alerts",
            "SMTP_PASSWORD": SMTP_PASSWORD,
            "SMTP_FROM": "pipeline@example.com",
            "SMTP_TO": "ops@example.com, owner@example.com",
            "SMTP_STARTTLS": "false",  # the test server speaks plain SMTP
        }.items():
            monkeypatch.setenv(f"TIKTOK_ALERT_{name}", value)
        yield box


@pytest.fixture(autouse=True)
def restore_sandbox(sandbox) -> Iterator[None]:
    yield
    sandbox.control.reset(auth=False)


class Ticker:
    """Ticks one sensor of the Definitions as the daemon does, carrying the cursor along."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance, name: str) -> None:
        self.sensor = defs.resolve_sensor_def(name)
        self.defs, self.instance, self.cursor = defs, instance, None

    def tick(self):
        with dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            definitions=self.defs,
            resources=self.defs.resources,  # what the daemon binds from the Definitions
        ) as context:
            data = self.sensor.evaluate_tick(context)
        self.cursor = data.cursor
        return data


def _secrets(sandbox, store: Store, slack: SlackReceiver | None = None) -> list[str]:
    tokens = [
        value
        for a in store.tokens.list_authorizations()
        for value in (a.access_token, a.refresh_token)
    ]
    return [sandbox.config.app_secret, SMTP_PASSWORD, WEBHOOK_PATH, *tokens]


def _assert_no_secret(texts: list[str], secrets: list[str]) -> None:
    leaked = [s for s in secrets if s and any(s in text for text in texts)]
    assert leaked == []


def _mails(mailbox: Mailbox) -> list[str]:
    """Every mail as sent and as read (quoted-printable may split a value across lines)."""
    return [*(raw.decode() for raw in mailbox.raw), *mailbox.bodies()]


def _sync(defs, instance, partition: str) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("tiktok_sync_job").execute_in_process(
        partition_key=partition, instance=instance, raise_on_error=False
    )


def _check(defs, instance) -> None:
    result = defs.resolve_job_def("tiktok_tokens_check_job").execute_in_process(instance=instance)
    assert result.success


def _refresh(defs, instance) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("tiktok_refresh_tokens_job").execute_in_process(
        instance=instance,
        run_config={"ops": {"refresh_expiring_tokens": {"config": {"within": "30d"}}}},
        raise_on_error=False,
    )


# ##### TESTS: failed runs


def test_a_failed_sync_reaches_slack_and_mail_once_with_the_shop_and_the_fix(
    sandbox, store, defs, instance, slack, mailbox, caplog
) -> None:
    good = authorize_seller(sandbox, store)[0]
    revoking = sandbox.sellers[1]
    (bad,) = authorize_seller(sandbox, store, revoking.open_id)
    secrets = _secrets(sandbox, store)
    ticker = Ticker(defs, instance, RUN_FAILURE_SENSOR)
    assert "Initiating" in ticker.tick().skip_message  # the daemon's first tick sets the cursor
    sandbox.control.expire_tokens(open_id=revoking.open_id, which="both")  # the seller revokes

    result = _sync(defs, instance, day_key(3))
    first, second = ticker.tick(), ticker.tick()

    assert not result.success
    assert first.skip_message == (
        f"tiktok_sync_job failed for shop {bad}: sent to Slack; "
        "sent to e-mail to ops@example.com, owner@example.com"
    )
    assert "tiktok_sync_job" not in (second.skip_message or "")  # nothing sent again
    (post,) = slack.texts()
    (mail,) = mailbox.messages()
    (body,) = mailbox.bodies()
    for text in (post, body):
        assert bad in text and FIX_LINK in text
        assert f"{UI_URL}/runs/{result.run_id}" in text
        assert "tiktok_sync_job" in text and day_key(3) in text
        assert good not in text.split("Error:")[0]  # the healthy shop is not blamed
    assert mail["Subject"].strip() == f"[TikTok pipeline] tiktok_sync_job failed for shop {bad}"
    assert mailbox.envelopes == [("pipeline@example.com", ["ops@example.com", "owner@example.com"])]
    assert mailbox.logins == ["alerts"]
    _assert_no_secret([*slack.texts(), *_mails(mailbox), caplog.text], secrets)


def test_a_failed_token_refresh_names_the_shop_to_reauthorize(
    sandbox, store, defs, instance, slack, links
) -> None:
    seller = sandbox.sellers[1]
    shops = authorize_seller(sandbox, store, seller.open_id)
    secrets = _secrets(sandbox, store)
    ticker = Ticker(defs, instance, RUN_FAILURE_SENSOR)
    ticker.tick()
    sandbox.control.expire_tokens(open_id=seller.open_id, which="refresh")

    result = _refresh(defs, instance)
    ticker.tick()

    assert not result.success
    (post,) = slack.texts()
    assert "tiktok_refresh_tokens_job failed" in post
    assert all(shop in post for shop in shops) and FIX_LINK in post
    assert f"needs re-authorization: the seller opens {FIX_LINK}" in post
    _assert_no_secret(slack.texts(), secrets)


def test_a_slack_failure_is_reported_on_the_tick_and_mail_still_goes(
    sandbox, store, defs, instance, slack, mailbox, caplog
) -> None:
    slack.status, slack.answer = 404, "no_service"
    authorize_seller(sandbox, store)
    ticker = Ticker(defs, instance, RUN_FAILURE_SENSOR)
    ticker.tick()

    result = defs.resolve_job_def("tiktok_sync_job").execute_in_process(
        partition_key=day_key(3),
        instance=instance,
        run_config={"ops": {"sync_orders": {"config": {"shops": ["999"]}}}},
        raise_on_error=False,
    )
    message = ticker.tick().skip_message
    later = ticker.tick()

    assert not result.success
    assert "NOT delivered to Slack" in message and "HTTP 404: no_service" in message
    assert "TIKTOK_ALERT_SLACK_WEBHOOK_URL" in message and "sent to e-mail" in message
    assert "NOT delivered to Slack" in caplog.text  # logged at ERROR, for the daemon's log
    _assert_no_secret([message, caplog.text], [WEBHOOK_PATH, SMTP_PASSWORD])
    assert len(slack.posts) == 1  # a 404 is not retried, nor sent again on the next tick
    assert "tiktok_sync_job" not in (later.skip_message or "")
    (body,) = mailbox.bodies()
    assert "999" in body and f"{UI_URL}/runs/{result.run_id}" in body


def test_without_a_destination_the_sensors_say_what_to_set(
    sandbox, store, defs, instance, links
) -> None:
    authorize_seller(sandbox, store)
    runs, check = (
        Ticker(defs, instance, RUN_FAILURE_SENSOR),
        Ticker(defs, instance, SHOPS_CONNECTED_SENSOR),
    )
    runs.tick()
    result = defs.resolve_job_def("tiktok_sync_job").execute_in_process(
        partition_key=day_key(3),
        instance=instance,
        run_config={"ops": {"sync_orders": {"config": {"shops": ["999"]}}}},
        raise_on_error=False,
    )
    assert not result.success
    _check(defs, instance)

    skipped = [runs.tick().skip_message, check.tick().skip_message]

    assert skipped == [NOT_CONFIGURED, NOT_CONFIGURED]
    assert "TIKTOK_ALERT_SLACK_WEBHOOK_URL" in NOT_CONFIGURED
    assert "TIKTOK_ALERT_SMTP_HOST" in NOT_CONFIGURED
    for name in (RUN_FAILURE_SENSOR, SHOPS_CONNECTED_SENSOR):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING


# ##### TESTS: the shops_connected check


def test_the_check_alerts_once_when_it_turns_red_and_once_when_green_again(
    sandbox, store, defs, instance, slack, mailbox
) -> None:
    seller = sandbox.sellers[1]
    shops = authorize_seller(sandbox, store, seller.open_id)
    ticker = Ticker(defs, instance, SHOPS_CONNECTED_SENSOR)
    _check(defs, instance)
    green = ticker.tick()
    sandbox.control.expire_tokens(open_id=seller.open_id, which="refresh")
    _refresh(defs, instance)  # marks the shop needs_reauth
    secrets = _secrets(sandbox, store)

    _check(defs, instance)
    red = ticker.tick()
    unchanged = ticker.tick()
    _check(defs, instance)  # the hourly schedule evaluates it again: still red
    still_red = ticker.tick()
    posts_while_red = len(slack.posts)
    authorize_seller(sandbox, store, seller.open_id)  # the seller follows the link
    _check(defs, instance)
    recovered = ticker.tick()
    _check(defs, instance)
    still_green = ticker.tick()

    assert "nothing new" in green.skip_message and green.cursor
    assert "is red" in red.skip_message and "sent to Slack" in red.skip_message
    assert "no new evaluation" in unchanged.skip_message
    assert "still red" in still_red.skip_message
    assert "still green" in still_green.skip_message
    assert "green again" in recovered.skip_message
    assert posts_while_red == 1 and len(slack.posts) == 2
    red_post, green_post = slack.texts()
    assert all(shop in red_post for shop in shops) and FIX_LINK in red_post
    assert f"{UI_URL}/runs/" in red_post
    assert "green again" in green_post and all(shop in green_post for shop in shops)
    assert slack.posts[0]["attachments"][0]["color"] == "danger"
    assert slack.posts[1]["attachments"][0]["color"] == "good"
    # Mail clients unfold a folded subject without its leading space; Python's parser keeps it.
    subjects = [m["Subject"].strip() for m in mailbox.messages()]
    assert subjects == [
        "[TikTok pipeline] shops_connected is red: 1 shop needs attention",
        "[TikTok pipeline] shops_connected is green again: every shop is connected",
    ]
    _assert_no_secret([*slack.texts(), *_mails(mailbox)], secrets)


def test_a_check_alert_that_cannot_be_delivered_is_not_retried_every_tick(
    sandbox, store, defs, instance, slack, caplog
) -> None:
    slack.status, slack.answer = 500, "internal_error"
    seller = sandbox.sellers[1]
    authorize_seller(sandbox, store, seller.open_id)
    sandbox.control.expire_tokens(open_id=seller.open_id, which="refresh")
    _refresh(defs, instance)
    ticker = Ticker(defs, instance, SHOPS_CONNECTED_SENSOR)

    _check(defs, instance)
    failed = ticker.tick()
    after = ticker.tick()

    assert "NOT delivered" in failed.skip_message and "HTTP 500" in failed.skip_message
    assert len(slack.posts) == 2  # a 5xx is tried twice within the tick, then given up
    assert "no new evaluation" in after.skip_message
    assert WEBHOOK_PATH not in failed.skip_message + caplog.text
