"""The Mailer adapters against real peers: aiosmtpd (plain, STARTTLS, implicit TLS, auth)
and SES through moto."""

from __future__ import annotations

import logging
import time
from email.message import EmailMessage

import boto3
import pytest
from moto import mock_aws
from srvpulse.adapters.email import SesMailer, SmtpMailer
from srvpulse.adapters.memory import RecordingMailer
from srvpulse.bootstrap import Runtime
from srvpulse.ports import MailError
from srvpulse.settings import Settings

from tests.alerting_peers import free_port, self_signed_cert, smtp_peer

SENDER = "srvpulse <alerts@srvpulse.test>"


def _message(to: str = "owner@example.com") -> EmailMessage:
    msg = EmailMessage()
    msg["To"] = to
    msg["Subject"] = "Reset your password"
    msg.set_content("Open https://srvpulse.test/reset/abc to choose a new password.")
    msg.add_alternative("<p><a href='https://srvpulse.test/reset/abc'>Reset</a></p>", "html")
    return msg


def test_a_message_arrives_at_a_plain_smtp_server_with_sender_date_and_id() -> None:
    with smtp_peer() as peer:
        SmtpMailer("127.0.0.1", peer.port, sender=SENDER).send(_message())
        (mail,) = peer.wait_for(1)
    assert mail.rcpt_tos == ["owner@example.com"]
    assert mail.message["From"] == SENDER
    assert mail.message["Date"]
    assert mail.message["Message-ID"].endswith("@srvpulse.test>")
    plain = mail.message.get_body(("plain",))
    html = mail.message.get_body(("html",))
    assert plain is not None and "https://srvpulse.test/reset/abc" in plain.get_content()
    assert html is not None and "<a href" in html.get_content()


def test_starttls_with_login_delivers_over_an_encrypted_authenticated_session() -> None:
    ctx = self_signed_cert().client_context()
    with smtp_peer(tls="starttls", credentials=("alice", "s3cret")) as peer:
        mailer = SmtpMailer(
            "127.0.0.1",
            peer.port,
            sender=SENDER,
            tls="starttls",
            user="alice",
            password="s3cret",
            ssl_context=ctx,
        )
        mailer.send(_message())
        peer.wait_for(1)
    assert peer.authenticated == [True]


def test_implicit_tls_delivers() -> None:
    ctx = self_signed_cert().client_context()
    with smtp_peer(tls="tls") as peer:
        SmtpMailer("127.0.0.1", peer.port, sender=SENDER, tls="tls", ssl_context=ctx).send(
            _message()
        )
        (mail,) = peer.wait_for(1)
    assert mail.message["Subject"] == "Reset your password"


def test_a_wrong_password_is_a_permanent_error_that_does_not_reveal_the_password() -> None:
    ctx = self_signed_cert().client_context()
    with smtp_peer(tls="starttls", credentials=("alice", "s3cret")) as peer:
        mailer = SmtpMailer(
            "127.0.0.1",
            peer.port,
            sender=SENDER,
            tls="starttls",
            user="alice",
            password="wrong-password-123",
            ssl_context=ctx,
        )
        with pytest.raises(MailError) as err:
            mailer.send(_message())
    assert err.value.retryable is False
    assert "wrong-password-123" not in str(err.value)
    assert "wrong-password-123" not in repr(mailer)


def test_a_refused_recipient_is_permanent_and_a_busy_server_is_retryable() -> None:
    with smtp_peer(refuse={"nobody@example.com": "550 no such user"}) as peer:
        mailer = SmtpMailer("127.0.0.1", peer.port, sender=SENDER)
        with pytest.raises(MailError) as refused:
            mailer.send(_message("nobody@example.com"))
    assert refused.value.retryable is False
    assert "550" in str(refused.value)
    with (
        smtp_peer(data_reply="451 4.3.0 try again later") as peer,
        pytest.raises(MailError) as busy,
    ):
        SmtpMailer("127.0.0.1", peer.port, sender=SENDER).send(_message())
    assert busy.value.retryable is True


def test_an_unreachable_server_fails_fast_and_is_retryable() -> None:
    mailer = SmtpMailer("127.0.0.1", free_port(), sender=SENDER, timeout=2)
    started = time.monotonic()
    with pytest.raises(MailError) as err:
        mailer.send(_message())
    assert err.value.retryable is True
    assert time.monotonic() - started < 3


@mock_aws
def test_ses_sends_the_raw_message_from_a_verified_sender() -> None:
    ses = boto3.client("ses", region_name="eu-west-1")
    ses.verify_email_identity(EmailAddress="alerts@srvpulse.test")
    mailer = SesMailer(sender="alerts@srvpulse.test", region="eu-west-1")
    mailer.send(_message())
    quota = ses.get_send_quota()
    assert quota["SentLast24Hours"] == 1


@mock_aws
def test_ses_refusing_an_unverified_sender_is_a_permanent_error() -> None:
    mailer = SesMailer(sender="alerts@unverified.test", region="eu-west-1")
    with pytest.raises(MailError) as err:
        mailer.send(_message())
    assert err.value.retryable is False
    assert "MessageRejected" in str(err.value)


def test_the_runtime_picks_smtp_when_configured_ses_on_aws_else_a_recording_mailer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp = Runtime(Settings(smtp_host="mail.example.com", smtp_password="pw")).mailer
    assert isinstance(smtp, SmtpMailer)
    assert isinstance(Runtime(Settings(mode="aws")).mailer, SesMailer)
    local = Runtime(Settings()).mailer
    assert isinstance(local, RecordingMailer)
    # Chalice's app (named "srvpulse") stops propagation on the "srvpulse" logger, so
    # listen on the mailer's own logger rather than the root.
    memory_log = logging.getLogger("srvpulse.adapters.memory")
    memory_log.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="srvpulse.adapters.memory"):
            local.send(_message())
    finally:
        memory_log.removeHandler(caplog.handler)
    assert local.sent[0]["Subject"] == "Reset your password"
    assert "https://srvpulse.test/reset/abc" in caplog.text
