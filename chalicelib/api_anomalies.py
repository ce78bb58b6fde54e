"""/api/v3/checks/<key>/anomalies: what pattern detection noticed about a check.

GET  /api/v3/checks/<key>/anomalies/?limit=&offset=     newest first, paginated
POST /api/v3/checks/<key>/anomalies/<uuid>/expected     "this is expected": runs like it
                                                         are normal from now on
Detection's settings are check fields (``detection``, ``sensitivity``: api_checks.py);
the per-channel switch is the assignment's ``anomaly_alerts`` (api_channels.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalice.app import Blueprint, Response
from pydantic import BaseModel, Field
from srvpulse.bootstrap import runtime
from srvpulse.domain.detection import Anomaly
from srvpulse.services import detection as service

from . import schemas
from .http import ANY_CONTENT, api_view, json_response, parse_query, require_api_key
from .openapi import documented

bp = Blueprint(__name__)

MAX_PAGE = 100


class AnomaliesQuery(BaseModel):
    limit: int = Field(50, ge=1, le=MAX_PAGE, description="page size, newest first")
    offset: int = Field(0, ge=0, le=10**9, description="anomalies to skip")


def anomaly_json(a: Anomaly) -> schemas.AnomalyOut:
    """An anomaly for the API; json_response writes its datetimes as ISO 8601."""
    return {
        "uuid": a.uuid,
        "kind": a.kind.value,
        "detected_at": a.created,
        "run_started": a.run_started,
        "ping_n": a.ping_n,
        "explanation": a.explanation,
        "expected": a.expected_at is not None,
        "expected_at": a.expected_at,
    }


@bp.route("/api/v3/checks/{key}/anomalies", methods=["GET"])
@documented(
    "The check's anomalies (changes in its pattern), newest first",
    ok=schemas.AnomalyList,
    query=AnomaliesQuery,
)
@api_view
def list_anomalies(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=False)
    query = parse_query(request, AnomaliesQuery)
    _, found, total = service.list_anomalies(
        runtime().check_store, caller.project_id, key, query.limit, query.offset
    )
    body: schemas.AnomalyList = {
        "anomalies": [anomaly_json(a) for a in found],
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
    }
    return json_response(body)


@bp.route(
    "/api/v3/checks/{key}/anomalies/{anomaly}/expected",
    methods=["POST"],
    content_types=ANY_CONTENT,
)
@documented(
    "Mark an anomaly expected: the check's baseline learns that such runs are normal",
    ok=schemas.AnomalyOut,
    errors=(409,),
)
@api_view
def mark_anomaly_expected(key: str, anomaly: str) -> Response:
    caller = require_api_key(bp.current_request, write=True)
    found = service.mark_expected(
        runtime().check_store, caller.project_id, key, anomaly, datetime.now(UTC)
    )
    return json_response(anomaly_json(found))
