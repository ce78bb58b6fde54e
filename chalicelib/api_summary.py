"""GET /api/v3/checks/<key>/summary: what the dashboard's check page shows, in one
answer (the check, its last pings, flips, every notification with its delivery result,
its channels with their first-alert and reminder settings, its maintenance windows).

Each part has the shape of its own route's answer (chalicelib/api_checks.py,
api_channels.py, api_maintenance.py); read-only callers see what those routes show
them (unique_key instead of uuid, channels without their configuration).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from chalice.app import Blueprint, Response
from pydantic import BaseModel, Field
from srvpulse.bootstrap import runtime
from srvpulse.domain.model import PINGS_KEPT_PER_CHECK
from srvpulse.services import checks as checks_service
from srvpulse.services.check_summary import Assignment, check_summary

from . import schemas
from .api_channels import channel_json, channel_summary, notification_json
from .api_checks import check_json, flip_json, ping_json
from .api_maintenance import window_json
from .http import api_view, json_response, parse_query, require_api_key
from .openapi import documented

bp = Blueprint(__name__)


class SummaryQuery(BaseModel):
    pings: int = Field(PINGS_KEPT_PER_CHECK, ge=1, le=PINGS_KEPT_PER_CHECK, description="newest")
    flips: int = Field(100, ge=1, le=1000, description="newest first")
    notifications: int = Field(100, ge=1, le=1000, description="newest first")


def _assignment_json(a: Assignment, read_only: bool) -> schemas.SummaryAssignment:
    shown = channel_summary(a.channel) if read_only else channel_json(a.channel)
    return cast(schemas.SummaryAssignment, {"channel": shown, **a.settings})


@bp.route("/api/v3/checks/{key}/summary", methods=["GET"])
@documented(
    "One check with its pings, flips, notifications, channels and maintenance windows",
    ok=schemas.CheckSummary,
    query=SummaryQuery,
)
@api_view
def check_summary_route(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=False)
    query = parse_query(request, SummaryQuery)
    rt = runtime()
    now = datetime.now(UTC)
    found = check_summary(
        rt.check_store,
        rt.channel_store,
        rt.maintenance_store,
        caller.project_id,
        key,
        now,
        pings=query.pings,
        flips=query.flips,
        notifications=query.notifications,
    )
    check = found.view.check
    path_key = checks_service.unique_key(check) if caller.read_only else check.uuid
    body: schemas.CheckSummary = {
        "check": check_json(found.view, caller, now),
        "pings": [ping_json(p, path_key) for p in found.pings],
        "flips": [flip_json(f) for f in found.flips],
        "notifications": [notification_json(n) for n in found.notifications],
        "channels": [_assignment_json(a, caller.read_only) for a in found.assignments],
        "maintenance": [window_json(w) for w in found.windows],
    }
    return json_response(body)
