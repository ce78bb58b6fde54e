"""/api/v3/channels: list (Healthchecks' shape: id, name, kind), create, update, delete,
test send; assignment of channels to checks with their first-alert and reminder
settings; notifications per check. Thin: authenticate, parse, call one service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from srvpulse.bootstrap import runtime
from srvpulse.domain.delivery import ChannelRow, NotificationRecord
from srvpulse.domain.rules import ASSIGNMENT_LIMITS
from srvpulse.notifiers import KINDS
from srvpulse.services import channels as service

from . import schemas
from .http import (
    ANY_CONTENT,
    MountableBlueprint,
    api_view,
    json_response,
    parse_body,
    parse_query,
    require_api_key,
)
from .openapi import Link, documented


def channel_json(row: ChannelRow) -> schemas.ChannelOut:
    """Healthchecks' shape (id, name, kind) plus srvpulse's health and a safe summary:
    secret config fields are never shown. Datetimes stay datetimes (json_response writes
    them as ISO 8601)."""
    spec = KINDS.get(row.kind)
    public = {k: v for k, v in row.config.items() if spec is None or k not in spec.secret_fields}
    return {
        "id": row.uuid,
        "name": row.name,
        "kind": row.kind,
        "description": spec.describe(row.config) if spec else "",
        "config": public,
        "failing": row.failing_since is not None,
        "failing_since": row.failing_since,
        "last_error": row.last_error,
    }


def channel_summary(row: ChannelRow) -> schemas.ChannelOut:
    """Only what Healthchecks lists: for read-only callers, who must not see where
    alerts go (addresses, webhook hosts) nor any other configuration."""
    return {"id": row.uuid, "name": row.name, "kind": row.kind}


def notification_json(n: NotificationRecord) -> schemas.NotificationOut:
    return {
        "channel": n.channel_uuid,
        "kind": n.channel_kind,
        "check_status": n.check_status,
        "reminder": n.is_reminder,
        "test": n.is_test,
        "status": n.status,
        "attempts": n.attempts,
        "error": n.error,
        "created": n.created,
        "updated": n.updated,
    }


bp = Blueprint(__name__)
# Healthchecks' own channel route, mounted like api_checks under /api/v1, v2 and v3.
hc_bp = MountableBlueprint(__name__ + ".hc")

MAX_NOTIFICATIONS = 1000
_KINDS: JsonDict = {"enum": list(KINDS)}
_CONFIG = Field(
    None,
    description="kind-specific settings: email {to}; slack {url}; pagerduty {routing_key}; "
    "webhook {down, up: {url, method, headers, body}}",
)


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    kind: str = Field(description="the channel kind", json_schema_extra=_KINDS)
    name: str | None = Field(None, max_length=service.MAX_NAME)
    config: dict[str, Any] | None = _CONFIG


class ChannelChange(BaseModel):
    """Omitted fields keep their value; the kind cannot change."""

    model_config = ConfigDict(extra="ignore", strict=True)

    kind: str | None = Field(None, description="only the current kind", json_schema_extra=_KINDS)
    name: str | None = Field(None, max_length=service.MAX_NAME)
    config: dict[str, Any] | None = _CONFIG


def _limit(name: str, description: str) -> Any:
    low, high = ASSIGNMENT_LIMITS[name]
    return Field(
        cast(int, service.ASSIGNMENT_DEFAULTS[name]), ge=low, le=high, description=description
    )


class AssignmentIn(BaseModel):
    """When to alert a channel about a check, and how often to remind."""

    model_config = ConfigDict(extra="ignore", strict=True)

    after_failures: int = _limit("after_failures", "alert after this many consecutive failures")
    after_down_minutes: int = _limit("after_down_minutes", "alert once down this many minutes")
    reminder_every_minutes: int = _limit(
        "reminder_every_minutes", "remind every N minutes while down (0: never)"
    )
    reminder_max: int = _limit("reminder_max", "at most this many reminders per down period")
    notify_on_recovery: bool = True
    anomaly_alerts: bool = Field(True, description="pattern detection's alerts too")


class NotificationsQuery(BaseModel):
    limit: int = Field(100, ge=1, le=MAX_NOTIFICATIONS, description="newest first")


_CHANNEL_LINKS = {
    "GetChannel": Link("get_channel", {"channel": "$response.body#/id"}),
    "UpdateChannel": Link("update_channel", {"channel": "$response.body#/id"}),
    "DeleteChannel": Link("delete_channel", {"channel": "$response.body#/id"}),
}


def _now() -> datetime:
    return datetime.now(UTC)


def _store() -> service.ChannelStore:
    return runtime().channel_store


def _local() -> bool:
    """Whether channel URLs may name private addresses (ALERT_PRIVATE_TARGETS)."""
    return runtime().settings.private_targets_allowed


def _shown(row: service.ChannelRow, read_only: bool) -> schemas.ChannelOut:
    """A read-only caller sees what Healthchecks lists (id, name, kind), never a
    channel's configuration or its description (addresses, URL hosts)."""
    return channel_summary(row) if read_only else channel_json(row)


@hc_bp.route("/channels", methods=["GET"])
@documented("The project's channels (read-only callers: id, name, kind)", ok=schemas.ChannelList)
@api_view
def list_channels() -> Response:
    caller = require_api_key(hc_bp.current_request, write=False)
    rows = service.list_channels(_store(), caller.project_id)
    return json_response({"channels": [_shown(r, caller.read_only) for r in rows]})


@bp.route("/api/v3/channels", methods=["POST"], content_types=ANY_CONTENT)
@documented(
    "Create a channel", ok=schemas.ChannelOut, status=201, body=ChannelIn, links=_CHANNEL_LINKS
)
@api_view
def create_channel() -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    body = parse_body(request, ChannelIn).model_dump(exclude_unset=True)
    row = service.create_channel(_store(), caller.project_id, body, _now(), local=_local())
    return json_response(channel_json(row), status=201)


@bp.route("/api/v3/channels/{channel}", methods=["GET"])
@documented("One channel", ok=schemas.ChannelOut)
@api_view
def get_channel(channel: str) -> Response:
    caller = require_api_key(bp.current_request, write=False)
    row = service.get_channel(_store(), caller.project_id, channel)
    return json_response(_shown(row, caller.read_only))


@bp.route("/api/v3/channels/{channel}", methods=["POST"], content_types=ANY_CONTENT)
@documented("Change a channel's name or settings", ok=schemas.ChannelOut, body=ChannelChange)
@api_view
def update_channel(channel: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    body = parse_body(request, ChannelChange).model_dump(exclude_unset=True)
    row = service.update_channel(_store(), caller.project_id, channel, body, local=_local())
    return json_response(channel_json(row))


@bp.route("/api/v3/channels/{channel}", methods=["DELETE"])
@documented("Delete a channel", ok=schemas.Deleted)
@api_view
def delete_channel(channel: str) -> Response:
    caller = require_api_key(bp.current_request, write=True)
    service.delete_channel(_store(), caller.project_id, channel)
    return json_response({"deleted": channel})


@bp.route("/api/v3/channels/{channel}/test", methods=["POST"], content_types=ANY_CONTENT)
@documented("Send a test notification (recorded like any other)", ok=schemas.TestSendOut)
@api_view
def test_channel(channel: str) -> Response:
    caller = require_api_key(bp.current_request, write=True)
    rt = runtime()
    status, error = service.send_test(
        _store(), rt.dispatcher, caller.project_id, channel, _now(), rt.settings.site_url
    )
    return json_response({"status": status, "error": error})


@bp.route("/api/v3/checks/{check}/channels", methods=["GET"])
@documented("The channels assigned to a check, with their settings", ok=schemas.AssignmentList)
@api_view
def list_assignments(check: str) -> Response:
    caller = require_api_key(bp.current_request, write=False)
    return json_response({"channels": service.assignments(_store(), caller.project_id, check)})


@bp.route("/api/v3/checks/{check}/channels/{channel}", methods=["PUT"], content_types=ANY_CONTENT)
@documented(
    "Assign a channel to a check, or change the assignment's settings",
    ok=schemas.AssignmentOut,
    body=AssignmentIn,
)
@api_view
def assign(check: str, channel: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    body = parse_body(request, AssignmentIn).model_dump(exclude_unset=True)
    result = service.assign(_store(), caller.project_id, check, channel, body, _now())
    return json_response(result)


@bp.route("/api/v3/checks/{check}/channels/{channel}", methods=["DELETE"])
@documented("Remove a channel from a check", ok=schemas.Unassigned)
@api_view
def unassign(check: str, channel: str) -> Response:
    caller = require_api_key(bp.current_request, write=True)
    service.unassign(_store(), caller.project_id, check, channel)
    return json_response({"unassigned": channel})


@bp.route("/api/v3/checks/{check}/notifications", methods=["GET"])
@documented(
    "Every notification about a check, newest first, with its delivery result",
    ok=schemas.NotificationList,
    query=NotificationsQuery,
)
@api_view
def list_notifications(check: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=False)
    query = parse_query(request, NotificationsQuery)
    rows = service.notifications_for_check(_store(), caller.project_id, check, query.limit)
    return json_response({"notifications": [notification_json(n) for n in rows]})
