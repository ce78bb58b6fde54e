"""/api/v3/channels: list (Healthchecks' shape: id, name, kind), create, update, delete,
test send; assignment of channels to checks with their first-alert and reminder
settings; notifications per check. Thin: authenticate, parse, call one service."""

from __future__ import annotations

from datetime import UTC, datetime

from chalice.app import Blueprint, Response
from srvpulse.bootstrap import runtime
from srvpulse.services import channels as service

from .http import (
    ANY_CONTENT,
    MountableBlueprint,
    api_view,
    json_body,
    json_response,
    query_int,
    require_api_key,
)

bp = Blueprint(__name__)
# Healthchecks' own channel route, mounted like api_checks under /api/v1, v2 and v3.
hc_bp = MountableBlueprint(__name__ + ".hc")

MAX_NOTIFICATIONS = 1000


def _now() -> datetime:
    return datetime.now(UTC)


def _store() -> service.ChannelStore:
    return runtime().channel_store


def _local() -> bool:
    return not runtime().is_aws


def _shown(row: service.ChannelRow, read_only: bool) -> dict[str, object]:
    """A read-only caller sees what Healthchecks lists (id, name, kind), never a
    channel's configuration or its description (addresses, URL hosts)."""
    return service.channel_summary(row) if read_only else service.channel_json(row)


@hc_bp.route("/channels", methods=["GET"])
@api_view
def list_channels() -> Response:
    caller = require_api_key(hc_bp.current_request, write=False)
    rows = service.list_channels(_store(), caller.project_id)
    return json_response({"channels": [_shown(r, caller.read_only) for r in rows]})


@bp.route("/api/v3/channels", methods=["POST"], content_types=ANY_CONTENT)
@api_view
def create_channel() -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    row = service.create_channel(
        _store(), caller.project_id, json_body(request), _now(), local=_local()
    )
    return json_response(service.channel_json(row), status=201)


@bp.route("/api/v3/channels/{channel}", methods=["GET"])
@api_view
def get_channel(channel: str) -> Response:
    caller = require_api_key(bp.current_request, write=False)
    row = service.get_channel(_store(), caller.project_id, channel)
    return json_response(_shown(row, caller.read_only))


@bp.route("/api/v3/channels/{channel}", methods=["POST"], content_types=ANY_CONTENT)
@api_view
def update_channel(channel: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    row = service.update_channel(
        _store(), caller.project_id, channel, json_body(request), local=_local()
    )
    return json_response(service.channel_json(row))


@bp.route("/api/v3/channels/{channel}", methods=["DELETE"])
@api_view
def delete_channel(channel: str) -> Response:
    caller = require_api_key(bp.current_request, write=True)
    service.delete_channel(_store(), caller.project_id, channel)
    return json_response({"deleted": channel})


@bp.route("/api/v3/channels/{channel}/test", methods=["POST"], content_types=ANY_CONTENT)
@api_view
def test_channel(channel: str) -> Response:
    caller = require_api_key(bp.current_request, write=True)
    rt = runtime()
    status, error = service.send_test(
        _store(), rt.dispatcher, caller.project_id, channel, _now(), rt.settings.site_url
    )
    return json_response({"status": status, "error": error})


@bp.route("/api/v3/checks/{check}/channels", methods=["GET"])
@api_view
def list_assignments(check: str) -> Response:
    caller = require_api_key(bp.current_request, write=False)
    return json_response({"channels": service.assignments(_store(), caller.project_id, check)})


@bp.route("/api/v3/checks/{check}/channels/{channel}", methods=["PUT"], content_types=ANY_CONTENT)
@api_view
def assign(check: str, channel: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    result = service.assign(_store(), caller.project_id, check, channel, json_body(request), _now())
    return json_response(result)


@bp.route("/api/v3/checks/{check}/channels/{channel}", methods=["DELETE"])
@api_view
def unassign(check: str, channel: str) -> Response:
    caller = require_api_key(bp.current_request, write=True)
    service.unassign(_store(), caller.project_id, check, channel)
    return json_response({"unassigned": channel})


@bp.route("/api/v3/checks/{check}/notifications", methods=["GET"])
@api_view
def list_notifications(check: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=False)
    limit = query_int(request, "limit", 100, minimum=1, maximum=MAX_NOTIFICATIONS) or 100
    rows = service.notifications_for_check(_store(), caller.project_id, check, limit)
    return json_response({"notifications": [service.notification_json(n) for n in rows]})
