"""Webhook channel: one HTTP request per alert, described by the owner separately for
"down" and "up": URL, method, headers and a body template.

Placeholders (``$NAME`` or ``${NAME}``): $NAME, $CODE (check UUID), $STATUS, $REASON,
$NOW, $SUMMARY (last ping's summary), $LAST_PING, $URL (the check's page), $HEADLINE,
$REMINDER (true/false). In the URL they are percent-encoded; in a JSON body (one that
starts with ``{`` or ``[``) they are JSON-string-escaped, so a quote in a check's name
cannot break the document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from string import Template
from typing import Any
from urllib.parse import quote

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
    require_str,
    scrub,
    validate_url,
)

METHODS = ("GET", "POST", "PUT", "PATCH")
WEBHOOK_BODY_MAX = 10_000
WEBHOOK_HEADERS_MAX = 20
PLACEHOLDERS = (
    "NAME", "CODE", "STATUS", "REASON", "NOW", "SUMMARY", "LAST_PING", "URL", "HEADLINE",
    "REMINDER",
)  # fmt: skip


def _validate_spec(spec: object, field: str, local: bool) -> Config | None:
    if spec is None:
        return None
    spec = require_mapping(spec, field)
    url = require_str(spec, "url", f"{field}.url", max_len=1000)
    validate_url(url, f"{field}.url", https_only=False, local=local)
    method = str(spec.get("method", "POST")).upper()
    if method not in METHODS:
        raise InvalidInput(f"must be one of {', '.join(METHODS)}", f"{field}.method")
    headers = spec.get("headers") or {}
    if not isinstance(headers, Mapping) or len(headers) > WEBHOOK_HEADERS_MAX:
        raise InvalidInput("must be an object of at most 20 headers", f"{field}.headers")
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str) or "\n" in name + value:
            raise InvalidInput(
                "header names and values must be one-line strings", f"{field}.headers"
            )
    body = spec.get("body", "")
    if not isinstance(body, str) or len(body) > WEBHOOK_BODY_MAX:
        raise InvalidInput(
            f"must be a string of at most {WEBHOOK_BODY_MAX} characters", f"{field}.body"
        )
    return {"url": url, "method": method, "headers": dict(headers), "body": body}


def validate(config: Mapping[str, Any], local: bool) -> Config:
    config = require_mapping(config)
    down = _validate_spec(config.get("down"), "config.down", local)
    up = _validate_spec(config.get("up"), "config.up", local)
    if down is None and up is None:
        raise InvalidInput("describe the request for down, up or both", "config.down")
    return {"down": down, "up": up}


def variables(event: AlertEvent, now: datetime) -> dict[str, str]:
    return {
        "NAME": event.check_name,
        "CODE": event.check_uuid,
        "STATUS": event.status.value,
        "REASON": reason_text(event),
        "NOW": now.isoformat(),
        "SUMMARY": event.last_ping_summary or "",
        "LAST_PING": event.last_ping.isoformat() if event.last_ping else "",
        "URL": event.check_url,
        "HEADLINE": headline(event),
        "REMINDER": "true" if event.is_reminder else "false",
    }


def render(spec: Mapping[str, Any], event: AlertEvent, now: datetime) -> dict[str, Any]:
    """The request for this event: method, url, headers, body (placeholders filled)."""
    values = variables(event, now)
    url = Template(spec["url"]).safe_substitute({k: quote(v, safe="") for k, v in values.items()})
    body_tpl: str = spec.get("body", "")
    if body_tpl.lstrip().startswith(("{", "[")):
        body_values = {k: json.dumps(v)[1:-1] for k, v in values.items()}
    else:
        body_values = values
    body = Template(body_tpl).safe_substitute(body_values)
    headers = {k: Template(v).safe_substitute(values) for k, v in spec.get("headers", {}).items()}
    return {"method": spec["method"], "url": url, "headers": headers, "body": body}


class WebhookNotifier:
    kind = "webhook"

    def __init__(self, context: NotifierContext) -> None:
        self.private_targets = context.private_targets
        self.ca_file = context.ca_file

    def send(self, event: AlertEvent, config: Mapping[str, Any], timeout: float) -> Delivery:
        import httpx

        from .safe_http import ForbiddenTarget, guarded_client

        # An anomaly alert uses the "down" request ($HEADLINE "ANOMALY: ...", $REASON the
        # explanation): it is news the owner acts on, and never an "up".
        up = event.status == Status.UP and not event.anomaly_kind
        spec = config.get("up" if up else "down")
        if not spec:
            return Delivery.sent()  # the owner asked for no request on this transition
        now = datetime.now(UTC)
        req = render(spec, event, now)
        try:
            with guarded_client(
                timeout=timeout, private_ok=self.private_targets, ca_file=self.ca_file
            ) as client:
                resp = client.request(
                    req["method"],
                    req["url"],
                    headers=req["headers"],
                    content=req["body"].encode() if req["body"] else None,
                )
        except ForbiddenTarget as exc:
            return Delivery.failed(f"refused: {exc}", retryable=False)
        except httpx.TimeoutException:
            return Delivery.failed("the webhook did not answer in time", retryable=True)
        except httpx.HTTPError as exc:
            return Delivery.failed(
                scrub(f"webhook unreachable: {type(exc).__name__}: {exc}", req["url"], spec["url"]),
                retryable=True,
            )
        result = classify_http(resp.status_code, resp.headers, "the webhook", now=now)
        if resp.status_code == 410:  # Gone: the receiver says this URL is dead for good
            return Delivery.failed(result.error, retryable=False, channel_broken=True)
        return result


def _describe(config: Mapping[str, Any]) -> str:
    spec = config.get("down") or config.get("up") or {}
    return f"{spec.get('method', 'POST')} webhook " + mask(str(spec.get("url", "")))


KIND = ChannelKind(
    kind="webhook",
    label="Webhook",
    validate=validate,
    build=WebhookNotifier,
    secret_fields=("down", "up"),
    describe=_describe,
)
