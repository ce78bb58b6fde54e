"""The webhook channel against a local HTTP receiver."""

from __future__ import annotations

import json
import time
from urllib.parse import unquote

import pytest
from srvpulse.adapters.memory import RecordingMailer
from srvpulse.errors import InvalidInput
from srvpulse.notifiers import NotifierContext, validate_config
from srvpulse.notifiers.webhook import WebhookNotifier

from tests.alerting_events import down_event, up_event
from tests.alerting_peers import Reply, http_peer

NOTIFIER = WebhookNotifier(NotifierContext(mailer=RecordingMailer(), private_targets=True))


def _config(url: str) -> dict[str, object]:
    return validate_config(
        "webhook",
        {
            "down": {
                "url": url + "/down?check=$CODE&name=$NAME",
                "method": "POST",
                "headers": {"Content-Type": "application/json", "X-Check": "$CODE"},
                "body": '{"name": "$NAME", "status": "$STATUS", "why": "$REASON", '
                '"at": "$NOW", "summary": "$SUMMARY"}',
            },
            "up": {"url": url + "/up/$STATUS", "method": "GET"},
        },
        local=True,
    )


def test_down_fills_the_templates_escaping_json_and_url_values() -> None:
    event = down_event(check_name='db "primary" & replica')
    with http_peer([Reply(204)]) as hook:
        result = NOTIFIER.send(event, _config(hook.url), 5)
        (req,) = hook.wait_for(1)
    assert result.ok
    assert req.method == "POST"
    assert req.path.startswith("/down?check=" + event.check_uuid + "&name=")
    assert unquote(req.path.split("name=")[1]) == 'db "primary" & replica'
    assert req.headers["x-check"] == event.check_uuid
    body = json.loads(req.body)
    assert body["name"] == 'db "primary" & replica'
    assert body["status"] == "down" and body["why"] == "late by 12 min"
    assert body["summary"] == "backup of db1 finished, 3.2 GB"
    assert body["at"].endswith("+00:00")


def test_up_uses_its_own_request() -> None:
    with http_peer([Reply(200)]) as hook:
        assert NOTIFIER.send(up_event(), _config(hook.url), 5).ok
        (req,) = hook.wait_for(1)
    assert req.method == "GET" and req.path == "/up/up" and req.body == b""


def test_a_transition_without_a_request_sends_nothing() -> None:
    with http_peer([Reply(200)]) as hook:
        config = validate_config("webhook", {"down": {"url": hook.url}}, local=True)
        assert NOTIFIER.send(up_event(), config, 5).ok
    assert hook.requests == []


@pytest.mark.parametrize(
    ("reply", "retryable", "broken"),
    [
        (Reply(500), True, False),
        (Reply(429, headers={"Retry-After": "2"}), True, False),
        (Reply(400), False, False),
        (Reply(410), False, True),
    ],
)
def test_errors_are_classified(reply: Reply, retryable: bool, broken: bool) -> None:
    with http_peer([reply]) as hook:
        result = NOTIFIER.send(down_event(), _config(hook.url), 5)
    assert not result.ok
    assert result.retryable is retryable and result.channel_broken is broken
    if reply.status == 429:
        assert result.retry_after == 2


def test_a_slow_receiver_is_abandoned_at_the_timeout() -> None:
    with http_peer([Reply(200, delay=3)]) as hook:
        started = time.monotonic()
        result = NOTIFIER.send(down_event(), _config(hook.url), 1)
        elapsed = time.monotonic() - started
    assert not result.ok and result.retryable and elapsed < 2.5


def test_internal_addresses_are_refused_outside_the_local_mode() -> None:
    with pytest.raises(InvalidInput) as err:
        validate_config("webhook", {"down": {"url": "http://169.254.169.254/latest/"}}, local=False)
    assert err.value.field == "config.down.url"
    with pytest.raises(InvalidInput) as bad_method:
        validate_config(
            "webhook", {"up": {"url": "https://x.example.com", "method": "TRACE"}}, local=False
        )
    assert bad_method.value.field == "config.up.method"
