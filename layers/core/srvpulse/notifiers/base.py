"""What every notifier module shares: the context notifiers are built with, the
registry entry type, and helpers for validating configuration and reading HTTP replies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ..domain.delivery import Delivery, parse_retry_after
from ..errors import InvalidInput
from ..ports import Mailer, Notifier
from .safe_http import check_host

Config = dict[str, Any]


@dataclass(frozen=True, slots=True)
class NotifierContext:
    """What notifiers are built with (one per process, from the Runtime)."""

    mailer: Mailer
    # Events API v2 base URL: a setting so tests and the local mode can point elsewhere.
    pagerduty_events_url: str = "https://events.pagerduty.com"
    site_name: str = "srvpulse"
    # Extra CA bundle (PEM) to trust for HTTPS providers: private CAs, corporate proxies
    # and the tests' local receivers. None = the system's trust store only.
    ca_file: str | None = None
    # False when the mailer only logs (local mode without SMTP_HOST): an email alert is
    # then recorded as not sent, never as "sent".
    mail_configured: bool = True
    # Webhook/Slack requests to private, loopback and link-local addresses (a self-hosted
    # srvpulse alerting an internal service). Off unless the settings allow it.
    private_targets: bool = False


@dataclass(frozen=True, slots=True)
class ChannelKind:
    """One registry entry: how to validate a kind's configuration, how to build its
    notifier, which config fields are secret (never logged, masked in the API), and a
    short safe description for listings."""

    kind: str
    label: str
    validate: Callable[[Mapping[str, Any], bool], Config]
    build: Callable[[NotifierContext], Notifier]
    secret_fields: tuple[str, ...]
    describe: Callable[[Mapping[str, Any]], str]


def require_mapping(config: object, field: str = "config") -> Mapping[str, Any]:
    if not isinstance(config, Mapping):
        raise InvalidInput("must be an object", field)
    return config


def require_str(config: Mapping[str, Any], key: str, field: str, max_len: int = 2000) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{key} is required", field)
    value = value.strip()
    if len(value) > max_len:
        raise InvalidInput(f"{key} must be at most {max_len} characters", field)
    return value


def validate_url(
    value: str, field: str, *, https_only: bool, local: bool, host_suffix: str | None = None
) -> str:
    """An absolute http(s) URL whose host is not an address channels may not reach.

    ``local``: private targets are allowed (the ALERT_PRIVATE_TARGETS setting; on by
    default in the local mode): then a loopback/private http:// URL is accepted too.
    This is the early, friendly check; the one that counts runs at send time on the
    addresses the name resolves to (notifiers/safe_http.py)."""
    try:
        parts = urlsplit(value)  # raises ValueError for "http://[::1/" (bad IPv6 literal)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise InvalidInput("must be an absolute http(s) URL", field) from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidInput("must be an absolute http(s) URL", field)
    reason = check_host(host, private_ok=local)
    if reason:
        raise InvalidInput(f"must not point to {reason}", field)
    internal = check_host(host, private_ok=False) is not None
    if https_only and parts.scheme != "https" and not internal:
        raise InvalidInput("must be an https:// URL", field)
    if (
        host_suffix
        and not internal
        and not (host == host_suffix or host.endswith("." + host_suffix))
    ):
        raise InvalidInput(f"must be a {host_suffix} URL", field)
    return value


_EMAIL_RE = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")


def validate_email(value: object, field: str) -> str:
    if not isinstance(value, str) or not _EMAIL_RE.match(value.strip()) or len(value) > 254:
        raise InvalidInput("must be an email address", field)
    return value.strip()


def classify_http(
    status: int, headers: Mapping[str, str], what: str, *, now: datetime | None = None
) -> Delivery:
    """The common reading of an HTTP status: 2xx sent; 408/425/429/5xx retryable
    (honouring Retry-After); other 4xx permanent."""
    if 200 <= status < 300:
        return Delivery.sent()
    lower = {k.lower(): v for k, v in headers.items()}
    retry_after = parse_retry_after(lower.get("retry-after"), now or datetime.now(UTC))
    if status in (408, 425, 429) or status >= 500:
        return Delivery.failed(
            f"{what} answered HTTP {status}", retryable=True, retry_after=retry_after
        )
    return Delivery.failed(f"{what} answered HTTP {status}", retryable=False)


def scrub(text: str, *secrets: str) -> str:
    """Remove secrets (URLs, keys) from an error text before it is stored or logged."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def mask(value: str, keep: int = 4) -> str:
    """Show the end of a secret so owners can tell channels apart: ``…a1b2``."""
    return "…" + value[-keep:] if len(value) > keep else "…"
