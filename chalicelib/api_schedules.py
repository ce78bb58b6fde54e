"""/api/v3/schedule-preview: when a cron expression fires next, in a time zone.

The dashboard's check form shows the next five runs while the user types; the server
computes them because it owns the time-zone and daylight-saving rules the analyzer
applies (domain.schedule), so the preview is exactly what the check will expect.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalice.app import Blueprint, Response
from pydantic import BaseModel, Field
from srvpulse.domain.schedule import next_cron_fires
from typing_extensions import TypedDict

from .http import api_view, json_response, parse_query, require_api_key
from .openapi import documented

bp = Blueprint(__name__)

MAX_PREVIEW_RUNS = 20


class PreviewQuery(BaseModel):
    schedule: str = Field(max_length=100, description="a crontab expression, e.g. 0 3 * * *")
    tz: str = Field("UTC", max_length=64, description="an IANA time zone, e.g. Europe/Riga")
    n: int = Field(5, ge=1, le=MAX_PREVIEW_RUNS, description="how many run times")


class SchedulePreview(TypedDict):
    """The next run times, UTC, earliest first."""

    runs: list[datetime]


@bp.route("/api/v3/schedule-preview", methods=["GET"])
@documented(
    "The next run times of a crontab expression in a time zone (400 names a bad field)",
    ok=SchedulePreview,
    query=PreviewQuery,
)
@api_view
def schedule_preview() -> Response:
    request = bp.current_request
    require_api_key(request, write=False)
    query = parse_query(request, PreviewQuery)
    runs = next_cron_fires(query.schedule, query.tz, datetime.now(UTC), query.n)
    body: SchedulePreview = {"runs": runs}
    return json_response(body)
