"""Email channel: one message with a plain-text and an HTML part, sent through the
process's Mailer (SMTP locally and self-hosted, SES on AWS)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from ..domain.delivery import Delivery, headline, reason_text
from ..domain.model import AlertEvent, Status
from ..errors import InvalidInput
from ..ports import MailError
from .base import ChannelKind, Config, NotifierContext, require_mapping, validate_email

# One alert goes to at most this many addresses (SES takes 50 per message:
# https://docs.aws.amazon.com/ses/latest/dg/quotas.html); more people = more channels.
MAX_RECIPIENTS = 10
# RFC 5322 recommends lines under 78 characters; subjects are kept short for phones.
MAX_SUBJECT_CHARS = 200
NOT_SENT_NO_SMTP = "not sent: no SMTP configured (set SMTP_HOST)"


def validate(config: Mapping[str, Any], local: bool) -> Config:
    config = require_mapping(config)
    to = config.get("to")
    addresses = [to] if isinstance(to, str) else to
    if not isinstance(addresses, list) or not addresses:
        raise InvalidInput("at least one email address is required", "config.to")
    if len(addresses) > MAX_RECIPIENTS:
        raise InvalidInput(f"at most {MAX_RECIPIENTS} addresses", "config.to")
    return {"to": [validate_email(a, "config.to") for a in addresses]}


def _fmt_time(event: AlertEvent) -> str:
    return event.last_ping.strftime("%Y-%m-%d %H:%M:%S UTC") if event.last_ping else "never"


def build_message(event: AlertEvent, to: list[str], site_name: str) -> EmailMessage:
    subject = headline(event)[:MAX_SUBJECT_CHARS]
    name = event.check_name or event.check_uuid
    state = "up again" if event.status == Status.UP else "DOWN"
    if event.anomaly_kind:  # pattern detection: news about the job, not a status change
        state = "behaving unusually"
    summary = event.last_ping_summary or ""
    lines = [
        f'The check "{name}" is {state}: {reason_text(event)}.',
        "",
        f"Last ping: {_fmt_time(event)}",
    ]
    if summary:
        lines.append(f"Last ping's summary: {summary}")
    if event.check_url:
        lines += ["", f"Details: {event.check_url}"]
    lines += ["", f"-- {site_name}"]

    e = html.escape
    colour = "#2e7d32" if event.status == Status.UP else "#c62828"
    if event.anomaly_kind:
        colour = "#b26a00"
    rows = f"<tr><td>Last ping</td><td>{e(_fmt_time(event))}</td></tr>"
    if summary:
        rows += f"<tr><td>Summary</td><td>{e(summary)}</td></tr>"
    link = (
        f'<p><a href="{e(event.check_url)}">Open {e(name)} in {e(site_name)}</a></p>'
        if event.check_url
        else ""
    )
    body_html = (
        "<!doctype html><html><body>"
        f'<h2 style="color:{colour}">{e(subject)}</h2>'
        f"<p>The check <b>{e(name)}</b> is {e(state)}: {e(reason_text(event))}.</p>"
        f"<table>{rows}</table>{link}"
        "</body></html>"
    )
    msg = EmailMessage()
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    # Threads all mail about one check together in mail clients.
    msg["X-Srvpulse-Check"] = event.check_uuid
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    msg.set_content("\n".join(lines) + "\n")
    msg.add_alternative(body_html, subtype="html")
    return msg


class EmailNotifier:
    """Alerts by email. The timeout is the mailer's own (SmtpMailer(timeout=...))."""

    kind = "email"

    def __init__(self, context: NotifierContext) -> None:
        self.mailer = context.mailer
        self.site_name = context.site_name
        self.mail_configured = context.mail_configured

    def send(self, event: AlertEvent, config: Mapping[str, Any], timeout: float) -> Delivery:
        msg = build_message(event, list(config["to"]), self.site_name)
        try:
            self.mailer.send(msg)
        except MailError as exc:
            return Delivery.failed(str(exc), retryable=exc.retryable)
        if not self.mail_configured:
            # The message went to the log only: say so where the owner looks.
            return Delivery.failed(NOT_SENT_NO_SMTP, retryable=False)
        return Delivery.sent()


KIND = ChannelKind(
    kind="email",
    label="Email",
    validate=validate,
    build=EmailNotifier,
    secret_fields=(),
    describe=lambda c: ", ".join(c.get("to", [])),
)
