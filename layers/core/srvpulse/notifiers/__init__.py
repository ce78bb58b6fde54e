"""The channel registry: kind -> how to validate its configuration and build its
notifier. Adding a channel = one module with a ``KIND`` entry + one line here + its
tests (the contract test picks it up from ``KINDS``) + its form in the dashboard; the
whole walk is in docs/architecture.md, "Extending srvpulse"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidInput
from ..ports import Notifier
from . import email, pagerduty, slack, webhook
from .base import ChannelKind, Config, NotifierContext

KINDS: dict[str, ChannelKind] = {
    email.KIND.kind: email.KIND,
    slack.KIND.kind: slack.KIND,
    pagerduty.KIND.kind: pagerduty.KIND,
    webhook.KIND.kind: webhook.KIND,
}


def channel_kind(kind: object) -> ChannelKind:
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidInput(f"must be one of {', '.join(KINDS)}", "kind")
    return KINDS[kind]


def validate_config(kind: str, config: Mapping[str, Any], *, local: bool) -> Config:
    """The normalised configuration, or InvalidInput naming the field (config.url...).

    ``local``: the embedded local mode, where loopback http:// receivers are allowed."""
    return channel_kind(kind).validate(config, local)


def build_notifiers(context: NotifierContext) -> dict[str, Notifier]:
    return {kind: spec.build(context) for kind, spec in KINDS.items()}


__all__ = ["KINDS", "ChannelKind", "NotifierContext", "build_notifiers", "validate_config"]
