"""Alert delivery: the ONE dispatch function every alert goes through (SNS-triggered
alerters on AWS, the local alert worker, the API's test send).

Channels (notifiers) only map an alert to a request and classify the outcome; retrying
with backoff and jitter, honouring Retry-After, the time budget, idempotency per
(flip, channel), recording every attempt and marking dead channels live here.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from ..domain.delivery import Delivery, NotificationStatus, RetryPolicy, headline
from ..domain.model import AlertEvent
from ..ports import Mailer, NotificationStore, Notifier

log = logging.getLogger(__name__)


class DeliveryDeferred(Exception):
    """Delivery failed with a retryable error and this invocation ran out of time or
    the provider asked us to wait longer than we may: the entry point must fail the
    invocation so SNS/Lambda (or the local worker) delivers the event again later."""


@dataclass
class Dispatcher:
    """Everything dispatch needs. ``clock``, ``sleep`` and ``rand`` are parameters so
    tests can run the retry schedule without waiting."""

    store: NotificationStore
    notifiers: Mapping[str, Notifier]
    mailer: Mailer | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    site_url: str = ""


def idempotency_key(event: AlertEvent) -> str:
    """One notification per (flip, channel); a reminder reuses its flip, so its time
    tells it apart from the first alert and from other reminders."""
    key = event.idempotency_key
    if event.is_reminder:
        key += f"-reminder-{int(event.created.timestamp())}"
    return key


def dispatch(d: Dispatcher, event: AlertEvent, *, key: str | None = None) -> NotificationStatus:
    """Deliver ``event`` to its channel at most once, recording every attempt.

    Returns the final status (sent, or failed for a permanent error or exhausted
    attempts); returns ``sent`` without sending when the notification was already
    handled (a redelivered event). Raises DeliveryDeferred when a retryable failure
    could not be retried within the time budget (the caller lets it be redelivered).
    """
    started = d.monotonic()
    policy = d.policy
    target = d.store.channel_target(event.channel_id)
    if target is None:
        log.info("alert for a deleted channel dropped", extra={"channel_id": event.channel_id})
        return NotificationStatus.FAILED
    notifier = d.notifiers.get(target.kind)
    is_test = key is not None and key.startswith("test-")
    if not is_test and not d.store.check_exists(event.check_uuid):
        # Deleted after the analyzer published this: nobody wants news of it any more.
        log.info("alert for a deleted check dropped", extra={"channel_id": event.channel_id})
        return NotificationStatus.FAILED
    key = key or idempotency_key(event)
    now = d.clock()
    claim = d.store.claim(
        key, event, target.kind, is_test, now, now + timedelta(seconds=policy.budget + 5)
    )
    if claim is None:
        log.info("notification already handled", extra={"idempotency_key": key})
        return NotificationStatus.SENT
    if notifier is None:
        d.store.record(claim.notification_id, "failed", claim.attempts, "unknown kind", now)
        return NotificationStatus.FAILED

    attempts = claim.attempts
    while True:
        remaining = policy.budget - (d.monotonic() - started)
        timeout = min(policy.attempt_timeout, max(remaining, 1.0))
        attempts += 1
        result = _attempt(notifier, event, target.config, timeout)
        now = d.clock()
        _log_attempt(event, target.kind, attempts, result)
        if result.ok:
            d.store.record(claim.notification_id, NotificationStatus.SENT, attempts, "", now)
            d.store.channel_result(target.id, True, "", False, now)
            return NotificationStatus.SENT
        if not result.retryable or attempts >= policy.max_attempts:
            d.store.record(
                claim.notification_id, NotificationStatus.FAILED, attempts, result.error, now
            )
            if d.store.channel_result(target.id, False, result.error, result.channel_broken, now):
                _tell_owner(d, target.project_id, target.name, target.kind, result.error)
            return NotificationStatus.FAILED
        delay = policy.delay(attempts, d.rand(), result.retry_after)
        remaining = policy.budget - (d.monotonic() - started)
        # Waiting must leave time for one more attempt; a Retry-After beyond what we
        # may wait is honoured by handing the event back for later redelivery.
        too_long = result.retry_after is not None and result.retry_after > policy.max_retry_after
        if too_long or delay + min(policy.attempt_timeout, 1.0) > remaining:
            d.store.record(
                claim.notification_id, NotificationStatus.RETRYING, attempts, result.error, now
            )
            d.store.channel_result(target.id, False, result.error, False, now)
            raise DeliveryDeferred(f"{key}: {result.error}")
        d.store.record(
            claim.notification_id, NotificationStatus.RETRYING, attempts, result.error, now
        )
        d.sleep(delay)


def _attempt(
    notifier: Notifier, event: AlertEvent, config: Mapping[str, object], timeout: float
) -> Delivery:
    try:
        return notifier.send(event, config, timeout)
    except Exception as exc:  # a notifier bug must not lose the alert silently
        log.exception("notifier raised", extra={"kind": notifier.kind})
        return Delivery.failed(f"internal error: {type(exc).__name__}", retryable=True)


def _log_attempt(event: AlertEvent, kind: str, attempt: int, result: Delivery) -> None:
    # Only identifiers and the (secret-free) error text: never config values.
    log.info(
        "alert delivery attempt",
        extra={
            "flip_id": event.flip_id,
            "channel_id": event.channel_id,
            "kind": kind,
            "attempt": attempt,
            "ok": result.ok,
            "retryable": result.retryable,
            "error": result.error,
        },
    )


def _tell_owner(d: Dispatcher, project_id: int, name: str, kind: str, error: str) -> None:
    """Email the project's owners that a channel stopped working (best effort)."""
    if d.mailer is None:
        return
    to = d.store.owner_emails(project_id)
    if not to:
        return
    msg = EmailMessage()
    msg["To"] = ", ".join(to)
    msg["Subject"] = f"srvpulse: your {kind} channel {name!r} stopped working"
    msg.set_content(
        f"srvpulse could not deliver an alert to the {kind} channel {name!r}:\n\n"
        f"    {error}\n\nIt is marked as failing until a delivery succeeds. "
        f"Please check it: {d.site_url}/channels/\n"
    )
    try:
        d.mailer.send(msg)
    except Exception:
        log.warning("could not tell the owner about a failing channel", exc_info=True)


def key_for_test_send(channel_uuid: str, now: datetime) -> str:
    """Idempotency key for a test send (one per request)."""
    return f"test-{channel_uuid}-{now.timestamp():.6f}"


__all__ = ["DeliveryDeferred", "Dispatcher", "dispatch", "headline", "idempotency_key"]
