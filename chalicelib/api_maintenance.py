"""/api/v3/maintenance: maintenance windows (no alerts while one is open).

GET    /api/v3/maintenance           the project's windows
POST   /api/v3/maintenance           create: {"name", "check" (uuid, optional: all
                                     checks), "starts_at"+"ends_at" (one-off) or
                                     "schedule"+"duration"+"tz" (recurring)}
GET    /api/v3/maintenance/<uuid>    one window
DELETE /api/v3/maintenance/<uuid>    delete (returns the deleted window)
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field
from srvpulse.bootstrap import runtime
from srvpulse.services import maintenance as service

from . import schemas
from .http import ANY_CONTENT, api_view, json_response, parse_body, require_api_key
from .openapi import Link, documented

bp = Blueprint(__name__)


class WindowIn(BaseModel):
    """One-off: starts_at + ends_at. Recurring: schedule (cron) + duration (seconds) in tz."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)
    check: str | None = Field(None, description="a check's uuid; omitted: every check")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    schedule: str = ""
    duration: int = 0
    tz: str = "UTC"


_WINDOW_LINKS = {
    "GetWindow": Link("get_window", {"uuid": "$response.body#/uuid"}),
    "DeleteWindow": Link("delete_window", {"uuid": "$response.body#/uuid"}),
}


def window_json(view: service.WindowView) -> schemas.WindowOut:
    """A window for the API; json_response writes its datetimes as ISO 8601."""
    w = view.window
    return {
        "uuid": w.uuid,
        "name": w.name,
        "check": view.check_uuid,
        "kind": "recurring" if w.recurring else "once",
        "starts_at": w.starts_at,
        "ends_at": w.ends_at,
        "schedule": w.schedule or None,
        "duration": w.duration if w.recurring else None,
        "tz": w.tz,
        "open": view.open_until is not None,
        "open_until": view.open_until,
    }


def _now() -> datetime:
    return datetime.now(UTC)


@bp.route("/api/v3/maintenance", methods=["GET"])
@documented("The project's maintenance windows", ok=schemas.WindowList)
@api_view
def list_windows() -> Response:
    caller = require_api_key(bp.current_request, write=False)
    views = service.list_windows(runtime().maintenance_store, caller.project_id, _now())
    return json_response({"windows": [window_json(v) for v in views]})


@bp.route("/api/v3/maintenance", methods=["POST"], content_types=ANY_CONTENT)
@documented(
    "Create a maintenance window",
    ok=schemas.WindowOut,
    status=201,
    body=WindowIn,
    links=_WINDOW_LINKS,
)
@api_view
def create_window() -> Response:
    caller = require_api_key(bp.current_request, write=True)
    body = parse_body(bp.current_request, WindowIn)
    view = service.create_window(
        runtime().maintenance_store,
        caller.project_id,
        _now(),
        name=body.name,
        check_uuid=body.check,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        schedule=body.schedule,
        duration=body.duration,
        tz=body.tz,
    )
    return json_response(window_json(view), status=201)


@bp.route("/api/v3/maintenance/{uuid}", methods=["GET"])
@documented("One maintenance window", ok=schemas.WindowOut)
@api_view
def get_window(uuid: str) -> Response:
    caller = require_api_key(bp.current_request, write=False)
    view = service.get_window(runtime().maintenance_store, caller.project_id, uuid, _now())
    return json_response(window_json(view))


@bp.route("/api/v3/maintenance/{uuid}", methods=["DELETE"])
@documented("Delete a maintenance window (answers the deleted window)", ok=schemas.WindowOut)
@api_view
def delete_window(uuid: str) -> Response:
    caller = require_api_key(bp.current_request, write=True)
    view = service.delete_window(runtime().maintenance_store, caller.project_id, uuid, _now())
    return json_response(window_json(view))
