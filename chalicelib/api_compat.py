"""Healthchecks' badges, status endpoint and Prometheus metrics.

``compat_bp`` (mounted under /api/v1, v2 and v3 like api_checks): ``GET badges`` (the
project's badge URLs) and ``GET status`` ("OK" once the database answers). ``public_bp``:
the badge images themselves and the metrics, at Healthchecks' paths, which carry no
API key header (a README image, a Prometheus scrape):

    /badge/<project key>/<signature>.<svg|json|shields>          all checks
    /badge/<project key>/<signature>/<tag>.<svg|json|shields>    checks with the tag
    /b/<2|3>/<check key>.<svg|json|shields>                      one check
    /projects/<project uuid>/metrics/<read-only API key>         Prometheus text format

As in Healthchecks, the metrics key must be a read-only API key (a read-write key is
refused with 403: it would end up in a Prometheus config), and it decides the project.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

from chalice.app import Blueprint, Response
from srvpulse.bootstrap import runtime
from srvpulse.domain import badges as domain
from srvpulse.errors import Forbidden, InvalidInput, NotFound
from srvpulse.services import badges as service
from srvpulse.services.projects import verify_api_key

from . import schemas
from .http import MountableBlueprint, api_view, json_response, require_api_key, text_response
from .openapi import documented

compat_bp = MountableBlueprint(__name__)
public_bp = Blueprint(__name__ + ".public")

# Like Healthchecks' never_cache: a badge must show the status now.
NO_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


@compat_bp.route("/badges", methods=["GET"])
@documented("The project's badge URLs per tag (and * for all checks)", ok=schemas.BadgeList)
@api_view
def list_badges() -> Response:
    caller = require_api_key(compat_bp.current_request, write=False)
    rt = runtime()
    found = service.badge_urls(rt.check_store, caller.project_id, rt.settings.site_url)
    return json_response({"badges": found})


@compat_bp.route("/status", methods=["GET"])
@documented(
    "OK when the service and its database answer",
    ok=str,
    content_type="text/plain",
    auth="none",
    errors=(503,),
)
@api_view
def status() -> Response:
    service.database_ok(runtime().check_store)
    return text_response("OK")


def _split(filename: str) -> tuple[str, str]:
    name, _, fmt = unquote(filename).rpartition(".")
    if not name or fmt not in domain.FORMATS:
        raise NotFound("not found")
    return name, fmt


def _badge(badge: service.Badge, fmt: str) -> Response:
    state = badge.state
    headers = {"Cache-Control": NO_CACHE, "Access-Control-Allow-Origin": "*"}
    if fmt == "shields":
        body = {
            "schemaVersion": 1,
            "label": badge.label,
            "message": state.status,
            "color": domain.SHIELDS_COLORS[state.status],
        }
        return json_response(body, headers=headers)
    if fmt == "json":
        body = {
            "status": state.status,
            "total": state.total,
            "grace": state.grace,
            "down": state.down,
        }
        return json_response(body, headers=headers)
    svg = domain.badge_svg(badge.label, state.status)
    return Response(body=svg, status_code=200, headers={**headers, "Content-Type": "image/svg+xml"})


@public_bp.route("/badge/{key}/{filename}", methods=["GET"])
@documented(
    "Badge of all the project's checks (svg, json or shields)",
    ok=schemas.BadgeJson,
    auth="none",
    errors=(404,),
)
@api_view
def all_checks_badge(key: str, filename: str) -> Response:
    sig, fmt = _split(filename)
    found = service.project_badge(
        runtime().check_store, key, sig, domain.ALL_TAGS, datetime.now(UTC)
    )
    return _badge(found, fmt)


@public_bp.route("/badge/{key}/{sig}/{filename}", methods=["GET"])
@documented(
    "Badge of the project's checks with a tag", ok=schemas.BadgeJson, auth="none", errors=(404,)
)
@api_view
def tag_badge(key: str, sig: str, filename: str) -> Response:
    tag, fmt = _split(filename)
    found = service.project_badge(runtime().check_store, key, sig, tag, datetime.now(UTC))
    return _badge(found, fmt)


@public_bp.route("/b/{states}/{filename}", methods=["GET"])
@documented(
    "One check's badge (2: up/down, 3: up/late/down)",
    ok=schemas.BadgeJson,
    auth="none",
    errors=(404,),
)
@api_view
def check_badge(states: str, filename: str) -> Response:
    key, fmt = _split(filename)
    if states not in ("2", "3"):
        raise NotFound("not found")
    found = service.check_badge(runtime().check_store, key, int(states), datetime.now(UTC))
    return _badge(found, fmt)


def _metrics(key: str | None) -> Response:
    if not key or len(key) > 200:
        raise InvalidInput("missing or malformed key", "key")
    caller = verify_api_key(runtime().account_stores.projects, key, datetime.now(UTC))
    if not caller.read_only:
        raise Forbidden("use a read-only API key for metrics")
    text = service.metrics(runtime().check_store, caller.project_id, datetime.now(UTC))
    return Response(
        body=text,
        status_code=200,
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


@public_bp.route("/projects/{project}/metrics/{key}", methods=["GET"])
@documented(
    "Prometheus metrics of the project (the path holds a read-only API key)",
    ok=str,
    content_type="text/plain",
    auth="none",
    errors=(400, 401, 403),
)
@api_view
def metrics(project: str, key: str) -> Response:
    return _metrics(key)


@public_bp.route("/projects/{project}/metrics", methods=["GET"])
@documented(
    "Prometheus metrics (Authorization: Bearer <read-only API key>)",
    ok=str,
    content_type="text/plain",
    auth="none",
    errors=(400, 401, 403),
)
@api_view
def metrics_by_header(project: str) -> Response:
    headers = public_bp.current_request.headers
    header = str(headers.get("authorization", "")) if headers else ""
    if not header.startswith("Bearer "):
        # The API's JSON error shape (as the document says), with the scheme to use.
        return json_response(
            {"error": "send Authorization: Bearer <read-only API key>"},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return _metrics(header.removeprefix("Bearer "))
