"""What each channel says about an anomaly (pattern detection): its own headline, the
explanation as the reason, a warning of its own on PagerDuty, never an "up"."""

from __future__ import annotations

from srvpulse.domain.delivery import headline, reason_text
from srvpulse.domain.model import AlertEvent, FlipReason, Status
from srvpulse.notifiers.email import build_message
from srvpulse.notifiers.pagerduty import build_event
from srvpulse.notifiers.slack import COLOUR_ANOMALY, build_payload

from tests.alerting_events import down_event

WHY = "ran 14 min 3 s; usually 1 min 40 s \u2013 2 min 10 s over the last 30 runs"


def anomaly(**changes: object) -> AlertEvent:
    base: dict[str, object] = {
        "flip_id": 0,
        "status": Status.UP,
        "reason": FlipReason.ANOMALY,
        "extra": {"detail": WHY, "anomaly_kind": "duration_long"},
        "anomaly_id": 5,
        "anomaly_kind": "duration_long",
    }
    base.update(changes)
    return down_event(**base)


def test_an_anomaly_has_its_own_headline_and_the_explanation_as_its_reason() -> None:
    event = anomaly()
    assert headline(event) == "ANOMALY: nightly-backup ran far longer than usual"
    assert reason_text(event) == WHY
    assert event.idempotency_key == "anomaly-5-channel-7"
    assert event.idempotency_key != down_event().idempotency_key


def test_pagerduty_gets_a_warning_incident_of_its_own_even_when_the_check_is_up() -> None:
    body = build_event(anomaly(), severity="critical")
    assert body["event_action"] == "trigger"
    assert body["payload"]["severity"] == "warning"
    assert body["dedup_key"] != build_event(down_event())["dedup_key"]
    assert body["payload"]["custom_details"]["reason"] == WHY


def test_email_and_slack_tell_an_anomaly_apart_from_an_outage() -> None:
    mail = build_message(anomaly(), ["ops@example.com"], "srvpulse")
    text = mail.get_body(("plain",))
    assert text is not None
    assert f'The check "nightly-backup" is behaving unusually: {WHY}.' in text.get_content()
    assert mail["Subject"] == "ANOMALY: nightly-backup ran far longer than usual"
    assert build_payload(anomaly())["attachments"][0]["color"] == COLOUR_ANOMALY


def test_an_anomaly_alert_survives_the_alert_bus() -> None:
    event = anomaly()
    assert AlertEvent.from_json(event.to_json()) == event
