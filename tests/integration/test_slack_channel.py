"""The Slack channel against a local server that answers like Slack's incoming webhooks
(https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks/)."""

from __future__ import annotations

import time

from srvpulse.adapters.memory import RecordingMailer
from srvpulse.notifiers import NotifierContext, validate_config
from srvpulse.notifiers.slack import SLACK_HEADER_MAX, SlackNotifier

from tests.alerting_events import down_event, up_event
from tests.alerting_peers import Reply, http_peer

NOTIFIER = SlackNotifier(NotifierContext(mailer=RecordingMailer(), private_targets=True))


def test_a_down_alert_is_a_block_kit_message_with_a_red_bar_reason_last_ping_and_link() -> None:
    with http_peer([Reply(200, "ok")]) as slack:
        result = NOTIFIER.send(down_event(), {"url": slack.url + "/services/T/B/x"}, 5)
        (req,) = slack.wait_for(1)
    assert result.ok
    assert req.method == "POST" and req.path == "/services/T/B/x"
    assert req.headers["content-type"].startswith("application/json")
    body = req.json()
    assert body["text"] == "DOWN: nightly-backup (late by 12 min)"
    (attachment,) = body["attachments"]
    assert attachment["color"] == "#d32f2f"
    header, section, actions = attachment["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "DOWN: nightly-backup (late by 12 min)"},
    }
    texts = [f["text"] for f in section["fields"]]
    assert "*Reason*\nlate by 12 min" in texts
    assert "*Last ping*\n2026-11-24 03:00 UTC" in texts
    assert "*Summary*\nbackup of db1 finished, 3.2 GB" in texts
    assert all(f["type"] == "mrkdwn" and len(f["text"]) <= 2000 for f in section["fields"])
    button = actions["elements"][0]
    assert button["type"] == "button" and button["url"].endswith(
        "/checks/" + down_event().check_uuid + "/"
    )


def test_a_recovery_is_green_and_long_names_are_cut_to_the_header_limit() -> None:
    with http_peer([Reply(200, "ok")]) as slack:
        NOTIFIER.send(up_event(check_name="x" * 400), {"url": slack.url}, 5)
        body = slack.wait_for(1)[0].json()
    assert body["attachments"][0]["color"] == "#2e7d32"
    header = body["attachments"][0]["blocks"][0]["text"]["text"]
    assert header.startswith("UP: xxx") and len(header) == SLACK_HEADER_MAX


def test_rate_limiting_is_retryable_and_carries_retry_after() -> None:
    with http_peer([Reply(429, "rate_limited", {"Retry-After": "7"})]) as slack:
        result = NOTIFIER.send(down_event(), {"url": slack.url}, 5)
    assert not result.ok and result.retryable and result.retry_after == 7
    assert len(slack.requests) == 1  # the SDK's own retries are off


def test_a_server_error_is_retryable() -> None:
    with http_peer([Reply(500, "rollup_error")]) as slack:
        result = NOTIFIER.send(down_event(), {"url": slack.url}, 5)
    assert not result.ok and result.retryable and not result.channel_broken


def test_a_removed_webhook_marks_the_channel_broken_without_leaking_the_url() -> None:
    with http_peer([Reply(404, "no_service")]) as slack:
        url = slack.url + "/services/T000/B000/SECRETTOKEN"
        result = NOTIFIER.send(down_event(), {"url": url}, 5)
    assert not result.ok and not result.retryable and result.channel_broken
    assert "no_service" in result.error and "SECRETTOKEN" not in result.error


def test_an_invalid_payload_is_permanent_but_does_not_break_the_channel() -> None:
    with http_peer([Reply(400, "invalid_payload")]) as slack:
        result = NOTIFIER.send(down_event(), {"url": slack.url}, 5)
    assert not result.ok and not result.retryable and not result.channel_broken


def test_a_slow_slack_is_abandoned_at_the_timeout() -> None:
    with http_peer([Reply(200, "ok", delay=3)]) as slack:
        started = time.monotonic()
        result = NOTIFIER.send(down_event(), {"url": slack.url}, 1)
        elapsed = time.monotonic() - started
    assert not result.ok and result.retryable
    assert elapsed < 2.5


def test_only_https_slack_urls_are_accepted_outside_the_local_mode() -> None:
    import pytest
    from srvpulse.errors import InvalidInput

    ok = validate_config("slack", {"url": "https://hooks.slack.com/services/T/B/x"}, local=False)
    assert ok == {"url": "https://hooks.slack.com/services/T/B/x"}
    with pytest.raises(InvalidInput) as err:
        validate_config("slack", {"url": "http://hooks.slack.com/services/T/B/x"}, local=False)
    assert err.value.field == "config.url" and "https" in err.value.message
    with pytest.raises(InvalidInput):
        validate_config("slack", {"url": "https://evil.example.com/hook"}, local=False)
    # the local mode accepts a loopback receiver for development
    assert validate_config("slack", {"url": "http://127.0.0.1:9/hook"}, local=True)
