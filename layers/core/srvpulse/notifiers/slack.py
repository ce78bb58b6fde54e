"""Slack channel: an incoming-webhook message (a JSON POST through the guarded client of
safe_http.py) with Block Kit blocks inside a coloured attachment (the colour bar is
only available on attachments).

Provider documentation:
https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks/
https://docs.slack.dev/reference/block-kit/blocks
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.delivery import Delivery, headline, reason_text
from ..domain.model import AlertEvent, Status
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

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks/section-block,
# .../header-block, .../block-elements/button-element):
SLACK_HEADER_MAX = 150  # header block plain_text
SLACK_SECTION_TEXT_MAX = 3000  # section text
SLACK_FIELD_TEXT_MAX = 2000  # each section field
SLACK_BUTTON_TEXT_MAX = 75
SLACK_URL_MAX = 3000
SLACK_FALLBACK_TEXT_MAX = 4000  # top-level "text" is truncated by Slack after 40 000

COLOUR_DOWN = "#d32f2f"
COLOUR_ANOMALY = "#e8a317"  # pattern detection: amber, news rather than an outage
COLOUR_UP = "#2e7d32"

# Webhook error strings that mean the webhook itself is dead (channel deleted or
# archived, app uninstalled, token revoked): the channel must be marked failing.
# https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks/#handling_errors
BROKEN_WEBHOOK_ERRORS = frozenset(
    {
        "no_service",
        "no_team",
        "no_active_hooks",
        "channel_not_found",
        "channel_is_archived",
        "action_prohibited",
        "invalid_token",
        "team_disabled",
    }
)


def validate(config: Mapping[str, Any], local: bool) -> Config:
    config = require_mapping(config)
    url = require_str(config, "url", "config.url", max_len=500)
    validate_url(url, "config.url", https_only=True, local=local, host_suffix="slack.com")
    return {"url": url}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_payload(event: AlertEvent) -> dict[str, Any]:
    """The webhook body: fallback text plus Block Kit blocks in a coloured attachment."""
    title = headline(event)
    last = event.last_ping.strftime("%Y-%m-%d %H:%M UTC") if event.last_ping else "never"
    fields = [
        {"type": "mrkdwn", "text": _cut(f"*Status*\n{event.status.value}", 2000)},
        {"type": "mrkdwn", "text": _cut(f"*Reason*\n{reason_text(event)}", 2000)},
        {"type": "mrkdwn", "text": f"*Last ping*\n{last}"},
    ]
    if event.last_ping_summary:
        fields.append(
            {
                "type": "mrkdwn",
                "text": _cut(f"*Summary*\n{event.last_ping_summary}", SLACK_FIELD_TEXT_MAX),
            }
        )
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(title, SLACK_HEADER_MAX)},
        },
        {"type": "section", "fields": fields},
    ]
    if event.check_url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open check"},
                        "url": event.check_url[:SLACK_URL_MAX],
                    }
                ],
            }
        )
    colour = COLOUR_UP if event.status == Status.UP else COLOUR_DOWN
    if event.anomaly_kind:
        colour = COLOUR_ANOMALY
    return {
        "text": _cut(title, SLACK_FALLBACK_TEXT_MAX),
        "attachments": [{"color": colour, "blocks": blocks}],
    }


class SlackNotifier:
    """Posts the message to the incoming webhook through the guarded HTTP client
    (safe_http.py), not slack-sdk's WebhookClient: that one opens its own urllib
    connection, which cannot be held to the address that was checked."""

    kind = "slack"

    def __init__(self, context: NotifierContext) -> None:
        self.private_targets = context.private_targets
        self.ca_file = context.ca_file

    def send(self, event: AlertEvent, config: Mapping[str, Any], timeout: float) -> Delivery:
        import httpx

        from .safe_http import ForbiddenTarget, guarded_client

        url = str(config["url"])
        payload = build_payload(event)
        try:
            with guarded_client(
                timeout=timeout, private_ok=self.private_targets, ca_file=self.ca_file
            ) as client:
                resp = client.post(url, json=payload)
        except ForbiddenTarget as exc:
            return Delivery.failed(f"refused: {exc}", retryable=False)
        except httpx.TimeoutException:
            return Delivery.failed("Slack did not answer in time", retryable=True)
        except httpx.HTTPError as exc:
            return Delivery.failed(
                scrub(f"Slack unreachable: {type(exc).__name__}: {exc}", url), retryable=True
            )
        result = classify_http(resp.status_code, resp.headers, "Slack")
        if result.ok:
            return result
        # Slack names the error in the body; a dead webhook says so there.
        body = resp.text.strip()
        return Delivery.failed(
            f"Slack answered HTTP {resp.status_code} {body[:100]}".strip(),
            retryable=result.retryable,
            retry_after=result.retry_after,
            channel_broken=not result.retryable and body in BROKEN_WEBHOOK_ERRORS,
        )


KIND = ChannelKind(
    kind="slack",
    label="Slack",
    validate=validate,
    build=SlackNotifier,
    secret_fields=("url",),
    describe=lambda c: "Slack webhook " + mask(str(c.get("url", ""))),
)
