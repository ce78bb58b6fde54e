"""Alert delivery, the pure part: what a delivery attempt reports, the retry schedule,
and the words every channel uses for an alert (subject lines, reason text).

No I/O and no clock: ``now`` and random numbers are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from . import check_rules
from .check_rules.base import human_duration
from .model import AlertEvent, FlipReason, Status


class NotificationStatus(StrEnum):
    """The state of one notification (one (flip, channel) pair) after an attempt."""

    SENT = "sent"
    RETRYING = "retrying"  # failed, another attempt will follow
    FAILED = "failed"  # gave up: permanent error, retries exhausted or out of time


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a notifier reports for one attempt.

    ``retryable``: trying again later may work (5xx, 429, timeout, network).
    ``retry_after``: seconds the provider asked us to wait (429/503 Retry-After).
    ``channel_broken``: the channel's configuration is dead (Slack 404 no_service,
    PagerDuty 400 invalid routing key): mark the channel failing and tell its owner.
    ``error`` is safe to store and show: never a secret (URL, key, password).
    """

    ok: bool
    error: str = ""
    retryable: bool = False
    retry_after: float | None = None
    channel_broken: bool = False

    @classmethod
    def sent(cls) -> Delivery:
        return cls(ok=True)

    @classmethod
    def failed(
        cls,
        error: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        channel_broken: bool = False,
    ) -> Delivery:
        return cls(
            ok=False,
            error=error[:500],
            retryable=retryable,
            retry_after=retry_after,
            channel_broken=channel_broken,
        )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and a time budget.

    The budget is what one invocation may spend on one notification (a Lambda must
    finish well within its timeout; SNS redelivers if it fails)."""

    max_attempts: int = 4
    base_delay: float = 0.5  # seconds
    max_delay: float = 8.0
    attempt_timeout: float = 10.0  # per request
    budget: float = 25.0  # per notification, all attempts and waits included
    max_retry_after: float = 30.0  # a longer Retry-After is not waited for here

    def delay(self, attempt: int, rand: float, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        ``rand`` is uniform in [0, 1). A provider's Retry-After wins when it is longer
        than our own backoff."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        backoff = ceiling * rand
        if retry_after is not None:
            return max(backoff, retry_after)
        return backoff


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    if now is None:
        return None
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def _extra_seconds(event: AlertEvent, key: str) -> float | None:
    try:
        return float(event.extra[key])
    except (KeyError, ValueError):
        return None


def reason_text(event: AlertEvent) -> str:
    """Why the alert was sent, in a few words: "late by 12 min", "failed (exit status 3)".

    Uses the analyzer's optional ``extra`` fields: ``late_by_seconds``,
    ``exit_status``, ``detail``, for reminders ``down_reason``, and those a check rule
    adds for its own reasons (``duration_seconds``, ...: domain/check_rules/)."""
    detail = event.extra.get("detail")
    if detail:
        return detail
    reason = event.reason
    down_reason = event.extra.get("down_reason", "")
    if reason == FlipReason.REMINDER and down_reason in FlipReason.__members__.values():
        # A reminder says again why the check is down ("late by 2 h 12 min").
        reason = FlipReason(down_reason)
    if reason == FlipReason.LATE:
        late = _extra_seconds(event, "late_by_seconds")
        return f"late by {human_duration(late)}" if late is not None else "late"
    if reason == FlipReason.FAILED:
        code = event.extra.get("exit_status")
        return f"failed (exit status {code})" if code else "failed"
    rule_words = check_rules.reason_text(reason, event.extra)
    if rule_words is not None:  # too long, too short, too often: the rule's own words
        return rule_words
    if reason == FlipReason.RECOVERED or event.status == Status.UP:
        return "back up"
    return reason.value


ANOMALY_TITLES = {
    "duration_long": "ran far longer than usual",
    "duration_short": "finished far sooner than usual",
    "still_running_long": "still running, far past its usual length",
    "unusual_time": "started at an unusual time",
    "unusual_day": "ran on an unusual day",
    "too_often": "ran more often than usual",
}


def headline(event: AlertEvent) -> str:
    """The subject line every channel uses: "DOWN: nightly-backup (late by 12 min)",
    "ANOMALY: nightly-backup ran far longer than usual"."""
    name = event.check_name or event.check_uuid
    if event.anomaly_kind:
        return f"ANOMALY: {name} {ANOMALY_TITLES.get(event.anomaly_kind, 'changed its pattern')}"
    state = "UP" if event.status == Status.UP else "DOWN"
    prefix = "REMINDER " if event.is_reminder else ""
    return f"{prefix}{state}: {name} ({reason_text(event)})"


@dataclass(frozen=True, slots=True)
class ChannelTarget:
    """A channel as the dispatcher needs it: where to send and how."""

    id: int
    project_id: int
    kind: str
    name: str
    config: dict[str, object]


@dataclass(frozen=True, slots=True)
class Claim:
    """The right to deliver one notification now (see NotificationStore.claim)."""

    notification_id: int
    attempts: int  # made so far, by earlier invocations


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """One notification as the API shows it."""

    id: int
    channel_id: int
    channel_uuid: str
    channel_kind: str
    check_status: str
    is_reminder: bool
    is_test: bool
    status: str
    attempts: int
    error: str
    created: datetime
    updated: datetime


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """A stored channel with its delivery health (for the API)."""

    id: int
    uuid: str
    project_id: int
    kind: str
    name: str
    config: dict[str, object]
    created: datetime
    failing_since: datetime | None = None
    last_error: str = ""
