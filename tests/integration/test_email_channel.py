"""The email channel: a real SMTP server (aiosmtpd) receives the alert; SES via moto."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from srvpulse.adapters.email import SesMailer, SmtpMailer
from srvpulse.errors import InvalidInput
from srvpulse.notifiers import NotifierContext, validate_config
from srvpulse.notifiers.email import EmailNotifier

from tests.alerting_events import CHECK_UUID, down_event, reminder_event, up_event
from tests.alerting_peers import smtp_peer

CONFIG = {"to": ["oncall@example.com", "boss@example.com"]}


def _notifier(port: int) -> EmailNotifier:
    mailer = SmtpMailer("127.0.0.1", port, sender="srvpulse <alerts@srvpulse.test>")
    return EmailNotifier(NotifierContext(mailer=mailer))


def test_a_down_alert_arrives_with_subject_both_parts_summary_and_link() -> None:
    with smtp_peer() as smtp:
        assert _notifier(smtp.port).send(down_event(), CONFIG, 5).ok
        (mail,) = smtp.wait_for(1)
    msg = mail.message
    assert sorted(mail.rcpt_tos) == ["boss@example.com", "oncall@example.com"]
    assert msg["Subject"] == "DOWN: nightly-backup (late by 12 min)"
    assert msg["From"] == "srvpulse <alerts@srvpulse.test>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and html is not None
    text = plain.get_content()
    assert "backup of db1 finished, 3.2 GB" in text
    assert f"https://srvpulse.test/checks/{CHECK_UUID}/" in text
    page = html.get_content()
    assert f'href="https://srvpulse.test/checks/{CHECK_UUID}/"' in page
    assert "backup of db1 finished, 3.2 GB" in page


def test_recovery_and_reminder_subjects() -> None:
    with smtp_peer() as smtp:
        notifier = _notifier(smtp.port)
        notifier.send(up_event(), CONFIG, 5)
        notifier.send(reminder_event(), CONFIG, 5)
        up, reminder = smtp.wait_for(2)
    assert up.message["Subject"] == "UP: nightly-backup (back up)"
    assert reminder.message["Subject"] == "REMINDER DOWN: nightly-backup (late by 12 min)"


def test_html_in_a_check_name_is_escaped() -> None:
    with smtp_peer() as smtp:
        _notifier(smtp.port).send(down_event(check_name="<script>x</script>"), CONFIG, 5)
        (mail,) = smtp.wait_for(1)
    html = mail.message.get_body(("html",))
    assert html is not None and "<script>" not in html.get_content()


def test_a_refused_recipient_is_a_permanent_failure() -> None:
    with smtp_peer(refuse={"oncall@example.com": "550 5.1.1 no such user"}) as smtp:
        result = _notifier(smtp.port).send(down_event(), {"to": ["oncall@example.com"]}, 5)
    assert not result.ok and not result.retryable


@mock_aws
def test_ses_sends_the_alert() -> None:
    ses = boto3.client("ses", region_name="us-east-1")
    ses.verify_email_identity(EmailAddress="alerts@srvpulse.test")
    notifier = EmailNotifier(
        NotifierContext(mailer=SesMailer(sender="alerts@srvpulse.test", region="us-east-1"))
    )
    assert notifier.send(down_event(), CONFIG, 5).ok
    assert ses.get_send_quota()["SentLast24Hours"] == 2  # one per recipient


def test_a_bad_address_is_refused_naming_the_field() -> None:
    assert validate_config("email", {"to": "a@example.com"}, local=False) == {
        "to": ["a@example.com"]
    }
    with pytest.raises(InvalidInput) as err:
        validate_config("email", {"to": ["not-an-address"]}, local=False)
    assert err.value.field == "config.to"
