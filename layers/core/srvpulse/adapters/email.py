"""Mailers: the ``Mailer`` port over SMTP (local mode, self-hosting) and Amazon SES (AWS).

Both take a ready ``email.message.EmailMessage``; building the message (parts, headers)
is the caller's job. Failures are raised as ``MailError`` with ``retryable`` set, so the
alert dispatcher can decide whether to try again; messages never contain the password.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any

from ..ports import MailError

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient

# SMTP connection modes: plain (optionally upgraded), STARTTLS required, implicit TLS.
TLS_MODES = ("none", "starttls", "tls")
# An SMTP conversation that takes longer than this is abandoned (per socket operation).
DEFAULT_SMTP_TIMEOUT = 10.0
# SES refuses raw messages above 10 MB (v1 SendRawEmail), see
# https://docs.aws.amazon.com/ses/latest/dg/quotas.html
SES_MAX_MESSAGE_BYTES = 10 * 1024 * 1024


def _complete_headers(message: EmailMessage, sender: str) -> EmailMessage:
    """Fill From/Date/Message-ID when the caller left them out."""
    if not message["From"]:
        message["From"] = sender
    if not message["Date"]:
        message["Date"] = formatdate(localtime=False, usegmt=True)
    if not message["Message-ID"]:
        domain = sender.rsplit("@", 1)[-1].strip(" >") or "srvpulse.local"
        message["Message-ID"] = make_msgid(domain=domain)
    return message


class SmtpMailer:
    """Sends through an SMTP server with smtplib: ``tls`` = implicit TLS (port 465),
    ``starttls`` = upgrade required (port 587), ``none`` = plain (local relays)."""

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        sender: str,
        tls: str = "none",
        user: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_SMTP_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if tls not in TLS_MODES:
            raise ValueError(f"smtp tls must be one of {', '.join(TLS_MODES)}, not {tls!r}")
        self.host = host
        self.port = port
        self.sender = sender
        self.tls = tls
        self.user = user
        self._password = password  # never logged, never in repr or error text
        self.timeout = timeout
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        return f"SmtpMailer({self.host}:{self.port}, tls={self.tls}, user={self.user!r})"

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context()
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.tls == "starttls":
            smtp.starttls(context=self._context())
        return smtp

    def send(self, message: EmailMessage) -> None:
        _complete_headers(message, self.sender)
        try:
            with self._connect() as smtp:
                if self.user:
                    smtp.login(self.user, self._password or "")
                refused = smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(
                f"SMTP authentication failed ({exc.smtp_code})", retryable=False
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            raise MailError(
                f"SMTP server refused all recipients ({', '.join(map(str, sorted(codes)))})",
                retryable=all(400 <= c < 500 for c in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # 4xx are temporary by definition (RFC 5321 section 4.2.1), 5xx permanent.
            raise MailError(
                f"SMTP error {exc.smtp_code}: {_text(exc.smtp_error)}",
                retryable=400 <= exc.smtp_code < 500,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise MailError(f"SMTP server does not support {exc}", retryable=False) from exc
        except TimeoutError as exc:
            raise MailError(f"SMTP server {self.host} timed out", retryable=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP server {self.host} unreachable: {exc}", retryable=True) from exc
        if refused:
            # Accepted for some recipients: the message went out; name the refused ones.
            raise MailError(f"SMTP server refused {', '.join(sorted(refused))}", retryable=False)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class SesMailer:
    """Sends through Amazon SES (SendRawEmail, so both parts and all headers go as built).

    The boto3 client is created on first use (nothing connects at import time) and kept
    for the life of the Lambda container.
    """

    def __init__(
        self,
        *,
        sender: str,
        region: str | None = None,
        client: SESClient | None = None,
        configuration_set: str | None = None,
    ) -> None:
        self.sender = sender
        self.region = region
        self.configuration_set = configuration_set
        self._client = client

    @property
    def client(self) -> SESClient:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # Short timeouts and few retries: the dispatcher owns retrying and the budget.
            cfg = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2})
            self._client = boto3.client("ses", region_name=self.region, config=cfg)
        return self._client

    def send(self, message: EmailMessage) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        _complete_headers(message, self.sender)
        data = message.as_bytes()
        if len(data) > SES_MAX_MESSAGE_BYTES:
            raise MailError("message is larger than SES accepts", retryable=False)
        kwargs: dict[str, Any] = {"RawMessage": {"Data": data}}
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        try:
            self.client.send_raw_email(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            retryable = code in ("Throttling", "ThrottlingException") or status >= 500
            raise MailError(f"SES refused the message: {code}", retryable=retryable) from exc
        except BotoCoreError as exc:
            raise MailError(f"SES unreachable: {type(exc).__name__}", retryable=True) from exc
