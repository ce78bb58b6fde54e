"""The PagerDuty channel against a local server that answers like the Events API v2
(https://developer.pagerduty.com/docs/events-api-v2-overview): 202 on success, 400 for
an invalid event, 429 when rate limited, 5xx."""

from __future__ import annotations

import json
import time

from srvpulse.adapters.memory import RecordingMailer
from srvpulse.notifiers import NotifierContext, validate_config
from srvpulse.notifiers.pagerduty import PD_SUMMARY_MAX, PagerDutyNotifier

from tests.alerting_events import ROUTING_KEY, down_event, reminder_event, up_event
from tests.alerting_peers import HttpPeer, Received, Reply, http_peer, self_signed_cert

CONFIG = {"routing_key": ROUTING_KEY, "severity": "critical"}


def _accept(req: Received) -> Reply:
    dedup = req.json().get("dedup_key", "generated")
    body = {"status": "success", "message": "Event processed", "dedup_key": dedup}
    return Reply(202, json.dumps(body), {"Content-Type": "application/json"})


def _notifier(peer: HttpPeer) -> PagerDutyNotifier:
    ca = str(self_signed_cert().cert_path)
    return PagerDutyNotifier(
        NotifierContext(mailer=RecordingMailer(), pagerduty_events_url=peer.url, ca_file=ca)
    )


def test_down_triggers_and_up_resolves_the_same_incident() -> None:
    with http_peer(_accept, tls=True) as pd:
        notifier = _notifier(pd)
        assert notifier.send(down_event(), CONFIG, 5).ok
        assert notifier.send(reminder_event(), CONFIG, 5).ok
        assert notifier.send(up_event(), CONFIG, 5).ok
        trigger, reminder, resolve = (r.json() for r in pd.wait_for(3))
    assert all(r.path == "/v2/enqueue" for r in pd.requests)
    assert trigger["routing_key"] == ROUTING_KEY
    assert trigger["event_action"] == "trigger"
    payload = trigger["payload"]
    assert payload["summary"] == "DOWN: nightly-backup (late by 12 min)"
    assert payload["source"] == "nightly-backup"
    assert payload["severity"] == "critical"
    assert payload["timestamp"] == "2026-11-25T03:12:00+00:00"
    assert payload["custom_details"]["last_ping_summary"] == "backup of db1 finished, 3.2 GB"
    assert trigger["links"] == [{"href": down_event().check_url, "text": "Open in srvpulse"}]
    # a reminder never opens a second incident: same dedup_key, trigger again
    assert reminder["event_action"] == "trigger"
    assert reminder["dedup_key"] == trigger["dedup_key"]
    assert resolve == {
        "event_action": "resolve",
        "dedup_key": trigger["dedup_key"],
        "routing_key": ROUTING_KEY,
    }
    assert len(trigger["dedup_key"]) <= 255


def test_the_summary_is_cut_to_the_events_api_limit() -> None:
    with http_peer(_accept, tls=True) as pd:
        _notifier(pd).send(down_event(check_name="n" * 2000), CONFIG, 5)
        payload = pd.wait_for(1)[0].json()["payload"]
    assert len(payload["summary"]) == PD_SUMMARY_MAX
    assert len(payload["source"]) <= 255


def test_an_invalid_routing_key_is_permanent_and_breaks_the_channel() -> None:
    answer = {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
    }
    with http_peer([Reply(400, json.dumps(answer))], tls=True) as pd:
        result = _notifier(pd).send(down_event(), CONFIG, 5)
    assert not result.ok and not result.retryable and result.channel_broken
    assert ROUTING_KEY not in result.error


def test_rate_limiting_is_retryable_with_retry_after_and_not_retried_inside() -> None:
    with http_peer([Reply(429, "", {"Retry-After": "3"})], tls=True) as pd:
        started = time.monotonic()
        result = _notifier(pd).send(down_event(), CONFIG, 5)
        elapsed = time.monotonic() - started
    assert not result.ok and result.retryable and result.retry_after == 3
    assert len(pd.requests) == 1 and elapsed < 1


def test_a_server_error_is_retryable_and_sent_once() -> None:
    with http_peer([Reply(503, "")], tls=True) as pd:
        result = _notifier(pd).send(down_event(), CONFIG, 5)
    assert not result.ok and result.retryable
    assert len(pd.requests) == 1


def test_a_slow_pagerduty_is_abandoned_at_the_timeout() -> None:
    with http_peer([Reply(202, "{}", delay=3)], tls=True) as pd:
        started = time.monotonic()
        result = _notifier(pd).send(down_event(), CONFIG, 1)
        elapsed = time.monotonic() - started
    assert not result.ok and result.retryable
    assert elapsed < 2.5


def test_a_malformed_routing_key_is_refused_naming_the_field() -> None:
    import pytest
    from srvpulse.errors import InvalidInput

    assert validate_config("pagerduty", {"routing_key": ROUTING_KEY}, local=False) == CONFIG
    with pytest.raises(InvalidInput) as err:
        validate_config("pagerduty", {"routing_key": "short"}, local=False)
    assert err.value.field == "config.routing_key"
