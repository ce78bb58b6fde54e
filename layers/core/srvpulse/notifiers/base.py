"""What every notifier module shares: the context notifiers are built with, the
registry entry type, and helpers for validating configuration and reading HTTP replies.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ..domain.delivery import Delivery, parse_retry_after
from ..errors import InvalidInput
from ..ports import Mailer, Notifier

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


def _is_internal_host(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified


def validate_url(
    value: str, field: str, *, https_only: bool, local: bool, host_suffix: str | None = None
) -> str:
    """An absolute http(s) URL. In the local mode a loopback http:// URL is accepted
    (development receivers); on AWS internal addresses are refused (metadata service,
    VPC neighbours: a webhook must not become a way into our network)."""
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidInput("must be an absolute http(s) URL", field)
    loopback_ok = local and _is_internal_host(host)
    if https_only and parts.scheme != "https" and not loopback_ok:
        raise InvalidInput("must be an https:// URL", field)
    if not local and _is_internal_host(host):
        raise InvalidInput("must not point to an internal address", field)
    if host_suffix and not loopback_ok and not host.endswith(host_suffix):
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
