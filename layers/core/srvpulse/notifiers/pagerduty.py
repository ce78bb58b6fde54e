"""PagerDuty channel: Events API v2 through the maintained ``pagerduty`` package
(pdpyras, its predecessor, is deprecated by its authors).

``trigger`` when a check goes down (reminders trigger again with the same dedup_key, so
PagerDuty adds them to the open incident instead of opening a second one), ``resolve``
when it comes back up.

Provider documentation:
https://developer.pagerduty.com/docs/events-api-v2-overview
https://developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from typing import Any

from ..domain.delivery import Delivery, headline, reason_text
from ..domain.model import AlertEvent, Status
from ..errors import InvalidInput
from .base import (
    ChannelKind,
    Config,
    NotifierContext,
    classify_http,
    mask,
    require_mapping,
    scrub,
)

# Events API v2 limits (see the links above).
PD_SUMMARY_MAX = 1024
PD_SOURCE_MAX = 255
PD_DEDUP_KEY_MAX = 255
PD_LINK_TEXT_MAX = 1024
# Integration ("routing") keys are 32 characters.
ROUTING_KEY_RE = re.compile(r"^[A-Za-z0-9]{32}$")


def validate(config: Mapping[str, Any], local: bool) -> Config:
    config = require_mapping(config)
    key = config.get("routing_key")
    if not isinstance(key, str) or not ROUTING_KEY_RE.match(key.strip()):
        raise InvalidInput(
            "must be a PagerDuty Events API v2 integration key (32 letters and digits)",
            "config.routing_key",
        )
    severity = config.get("severity", "critical")
    if severity not in ("critical", "error", "warning", "info"):
        raise InvalidInput("must be one of critical, error, warning, info", "config.severity")
    return {"routing_key": key.strip(), "severity": severity}


def build_event(event: AlertEvent, severity: str = "critical") -> dict[str, Any]:
    """The Events API v2 body (without routing_key, which the client adds)."""
    dedup_key = event.dedup_key[:PD_DEDUP_KEY_MAX]
    if event.anomaly_kind:
        # A change in the job's pattern is a warning, its own incident (dedup_key per
        # anomaly), never a resolve of the check's down incident.
        severity = "warning"
    elif event.status == Status.UP:
        return {"event_action": "resolve", "dedup_key": dedup_key}
    details: dict[str, Any] = {
        "check": event.check_uuid,
        "reason": reason_text(event),
        "last_ping": event.last_ping.isoformat() if event.last_ping else None,
    }
    if event.last_ping_summary:
        details["last_ping_summary"] = event.last_ping_summary
    body: dict[str, Any] = {
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": headline(event)[:PD_SUMMARY_MAX],
            "source": (event.check_name or event.check_uuid)[:PD_SOURCE_MAX],
            "severity": severity,
            "timestamp": event.created.isoformat(),
            "component": event.check_uuid,
            "class": event.reason.value,
            "custom_details": details,
        },
        "client": "srvpulse",
    }
    if event.check_url:
        body["client_url"] = event.check_url
        body["links"] = [{"href": event.check_url, "text": "Open in srvpulse"}]
    return body


class PagerDutyNotifier:
    kind = "pagerduty"

    def __init__(self, context: NotifierContext) -> None:
        self.base_url = context.pagerduty_events_url.rstrip("/")
        self.ca_file = context.ca_file

    def send(self, event: AlertEvent, config: Mapping[str, Any], timeout: float) -> Delivery:
        from pagerduty import EventsApiV2Client
        from pagerduty.errors import Error as PagerDutyError

        key = str(config["routing_key"])

        class _Answered(Exception):
            def __init__(self, status: int, headers: dict[str, str], text: str) -> None:
                self.status, self.headers, self.text = status, headers, text

        class SingleAttemptClient(EventsApiV2Client):  # type: ignore[misc]
            # The library retries 429 without limit and network errors 3 times with
            # sleeps; the dispatcher owns retrying and the time budget, so every
            # request here is made exactly once (its documented hooks allow that).
            max_network_attempts = 0

            def postprocess(self, response: Any) -> None:
                super().postprocess(response)
                if not response.is_success:
                    raise _Answered(response.status_code, dict(response.headers), response.text)

        body = build_event(event, str(config.get("severity", "critical")))
        try:
            verify: ssl.SSLContext | bool = (
                ssl.create_default_context(cafile=self.ca_file) if self.ca_file else True
            )
            with SingleAttemptClient(key, base_url=self.base_url, verify=verify) as client:
                client.timeout = timeout  # type: ignore[assignment]  # httpx takes floats
                action = body.pop("event_action")
                client.send_event(action, dedup_key=body.pop("dedup_key"), **body)
        except _Answered as answer:
            return self._classify(answer.status, answer.headers, answer.text, key)
        except PagerDutyError as exc:
            cause = exc.__cause__ or exc
            return Delivery.failed(
                scrub(f"PagerDuty unreachable: {type(cause).__name__}", key),
                retryable=True,
            )
        return Delivery.sent()

    @staticmethod
    def _classify(status: int, headers: dict[str, str], text: str, key: str) -> Delivery:
        result = classify_http(status, headers, "PagerDuty")
        error = scrub(f"PagerDuty answered HTTP {status} {text[:200]}".strip(), key)
        if result.retryable:
            return Delivery.failed(error, retryable=True, retry_after=result.retry_after)
        # 400 naming the routing key: the integration was deleted or the key is wrong.
        broken = status in (400, 401, 403, 404) and "routing" in text.lower()
        return Delivery.failed(error, retryable=False, channel_broken=broken)


KIND = ChannelKind(
    kind="pagerduty",
    label="PagerDuty",
    validate=validate,
    build=PagerDutyNotifier,
    secret_fields=("routing_key",),
    describe=lambda c: "PagerDuty integration " + mask(str(c.get("routing_key", ""))),
)
