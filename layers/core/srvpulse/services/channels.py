"""Channels: create, edit, delete, assign to checks (with first-alert and reminder
settings), send a test notification, list notifications per check.

Configuration is validated per kind by the notifier registry; errors name the field
(``config.url``, ``config.routing_key``...). Secrets in a channel's configuration are
never returned whole: the API shows a masked description instead.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..domain.delivery import ChannelRow, NotificationRecord
from ..domain.model import AlertEvent, FlipReason, Status
from ..domain.rules import ASSIGNMENT_LIMITS, validate_assignment_settings
from ..errors import InvalidInput, NotFound, Unavailable
from ..notifiers import channel_kind, validate_config
from ..ports import ChannelStore

__all__ = ["ChannelRow", "ChannelStore"]
from .alerting import DeliveryDeferred, Dispatcher, dispatch, key_for_test_send

MAX_NAME = 100
ASSIGNMENT_DEFAULTS: dict[str, object] = {
    "after_failures": 1,
    "after_down_minutes": 0,
    "reminder_every_minutes": 0,
    "reminder_max": 0,
    "notify_on_recovery": True,
    "anomaly_alerts": True,  # pattern detection's alerts (domain.detection)
}


def _name(value: object, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise InvalidInput(f"must be a string of at most {MAX_NAME} characters", "name")
    return value


def _channel(store: ChannelStore, project_id: int, channel_uuid: str) -> ChannelRow:
    row = store.get_channel(project_id, channel_uuid)
    if row is None:
        raise NotFound("channel not found")
    return row


def list_channels(store: ChannelStore, project_id: int) -> list[ChannelRow]:
    return store.list_channels(project_id)


def get_channel(store: ChannelStore, project_id: int, channel_uuid: str) -> ChannelRow:
    return _channel(store, project_id, channel_uuid)


def create_channel(
    store: ChannelStore, project_id: int, body: dict[str, Any], now: datetime, *, local: bool
) -> ChannelRow:
    spec = channel_kind(body.get("kind"))
    config = validate_config(spec.kind, body.get("config") or {}, local=local)
    name = _name(body.get("name"), spec.label)
    channel_uuid = str(uuid.uuid4())
    store.add_channel(project_id, channel_uuid, spec.kind, name, config, now)
    return _channel(store, project_id, channel_uuid)


def update_channel(
    store: ChannelStore,
    project_id: int,
    channel_uuid: str,
    body: dict[str, Any],
    *,
    local: bool,
) -> ChannelRow:
    row = _channel(store, project_id, channel_uuid)
    if "kind" in body and body["kind"] != row.kind:
        raise InvalidInput("a channel's kind cannot change", "kind")
    config = row.config
    if "config" in body:
        config = validate_config(row.kind, body["config"] or {}, local=local)
    store.update_channel(row.id, _name(body.get("name"), row.name), config)
    return _channel(store, project_id, channel_uuid)


def delete_channel(store: ChannelStore, project_id: int, channel_uuid: str) -> None:
    store.delete_channel(_channel(store, project_id, channel_uuid).id)


def _check_id(store: ChannelStore, project_id: int, check_uuid: str) -> int:
    check_id = store.check_id(project_id, check_uuid)
    if check_id is None:
        raise NotFound("check not found")
    return check_id


def assign(
    store: ChannelStore,
    project_id: int,
    check_uuid: str,
    channel_uuid: str,
    body: dict[str, Any],
    now: datetime,
) -> dict[str, object]:
    """Assign a channel to a check (or change the assignment's settings)."""
    check_id = _check_id(store, project_id, check_uuid)
    channel = _channel(store, project_id, channel_uuid)
    settings = dict(ASSIGNMENT_DEFAULTS)
    settings.update({name: body[name] for name in ASSIGNMENT_LIMITS if name in body})
    validate_assignment_settings(settings)
    if "notify_on_recovery" in body:
        if not isinstance(body["notify_on_recovery"], bool):
            raise InvalidInput("must be true or false", "notify_on_recovery")
        settings["notify_on_recovery"] = body["notify_on_recovery"]
    if "anomaly_alerts" in body:
        if not isinstance(body["anomaly_alerts"], bool):
            raise InvalidInput("must be true or false", "anomaly_alerts")
        settings["anomaly_alerts"] = body["anomaly_alerts"]
    store.assign(check_id, channel.id, settings, now)
    return {"channel": channel_uuid, **settings}


def unassign(store: ChannelStore, project_id: int, check_uuid: str, channel_uuid: str) -> None:
    check_id = _check_id(store, project_id, check_uuid)
    channel = _channel(store, project_id, channel_uuid)
    if not store.unassign(check_id, channel.id):
        raise NotFound("the channel is not assigned to this check")


def assignments(store: ChannelStore, project_id: int, check_uuid: str) -> list[dict[str, object]]:
    return store.assignments(_check_id(store, project_id, check_uuid))


def notifications_for_check(
    store: ChannelStore, project_id: int, check_uuid: str, limit: int = 100
) -> list[NotificationRecord]:
    return store.notifications_for_check(_check_id(store, project_id, check_uuid), limit)


def send_test(
    store: ChannelStore,
    dispatcher: Dispatcher,
    project_id: int,
    channel_uuid: str,
    now: datetime,
    site_url: str = "",
) -> tuple[str, str]:
    """Send a test notification through the real dispatch path (recorded like any
    other); returns (status, error). A short budget keeps the API request short."""
    row = _channel(store, project_id, channel_uuid)
    event = AlertEvent(
        flip_id=0,
        channel_id=row.id,
        check_uuid="00000000-0000-0000-0000-000000000000",
        check_name="srvpulse test",
        project_id=project_id,
        status=Status.DOWN,
        reason=FlipReason.LATE,
        created=now,
        check_url=site_url,
        extra={"detail": "this is a test notification"},
        channel_kind=row.kind,
    )
    quick = replace(
        dispatcher,
        policy=replace(dispatcher.policy, max_attempts=2, budget=8.0, max_retry_after=2.0),
    )
    try:
        status = dispatch(quick, event, key=key_for_test_send(row.uuid, now))
    except DeliveryDeferred as exc:
        raise Unavailable(f"the provider is busy, try again later ({exc})") from exc
    after = _channel(store, project_id, channel_uuid)
    return str(status), "" if status == "sent" else after.last_error
