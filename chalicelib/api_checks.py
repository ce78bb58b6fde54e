"""/api/v{1,2,3}/checks: the Healthchecks.io Management API for checks, pings and flips.

Same paths, field names and shapes as Healthchecks; srvpulse-only fields are added
(uuid, min_duration, max_duration, recovery_threshold, ping summary/exit_status),
never renamed. Thin: authenticate, parse, call one service, shape the reply.

The blueprint's paths are relative: app.py mounts it at /api/v1, /api/v2 and /api/v3
(``MOUNTS``), as Healthchecks serves one set of routes under its three versions; v1 and
v2 derive a check's slug from its name, and URLs in answers name the version asked.

Differences worth knowing: a check of another project is a 404 (not 403); a read-only
key may GET every route (bodies included) and gets 401 on changes; list endpoints take
``limit``/``offset`` (checks) or ``limit`` (pings, flips) on top of Healthchecks' filters.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from chalice.app import Response
from pydantic import BaseModel, ConfigDict, Field
from srvpulse.bootstrap import runtime
from srvpulse.domain.model import PINGS_KEPT_PER_CHECK, Flip, ScheduleKind, Status
from srvpulse.domain.schedule import (
    MAX_GRACE,
    MAX_TIMEOUT,
    MIN_GRACE,
    MIN_TIMEOUT,
    next_expected_ping,
)
from srvpulse.domain.status import status_at
from srvpulse.errors import InvalidInput
from srvpulse.ports import StoredPing
from srvpulse.services import checks as service
from srvpulse.services.projects import ApiCaller

from .http import (
    ANY_CONTENT,
    MountableBlueprint,
    api_version,
    api_view,
    json_response,
    parse_body,
    query_int,
    query_params,
    require_api_key,
    text_response,
)

bp = MountableBlueprint(__name__)
# Where app.py mounts this blueprint (and the other Healthchecks-compatible routes).
MOUNTS = ("/api/v1", "/api/v2", "/api/v3")

MAX_CHECKS_PER_PAGE = 1000
MAX_FLIPS = 1000
MAX_FLIP_SECONDS = 365 * 86400
# Healthchecks' slug rule: lower case only (a ping URL with upper case is a 400).
SLUG_PATTERN = r"^[a-z0-9_-]*$"
MAX_DURATION = 365 * 24 * 3600


class CheckIn(BaseModel):
    """A create/update body. Omitted fields keep their value (or the default)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    name: str = Field("", max_length=100)
    slug: str = Field("", max_length=100, pattern=SLUG_PATTERN)
    tags: str = Field("", max_length=500)
    desc: str = Field("", max_length=10_000)
    timeout: int = Field(86400, ge=MIN_TIMEOUT, le=MAX_TIMEOUT)
    grace: int = Field(3600, ge=MIN_GRACE, le=MAX_GRACE)
    schedule: str = Field("* * * * *", max_length=100)
    tz: str = Field("UTC", max_length=64)
    manual_resume: bool = False
    methods: Literal["", "POST"] = ""
    min_duration: int | None = Field(None, ge=1, le=MAX_DURATION)
    max_duration: int | None = Field(None, ge=1, le=MAX_DURATION)
    recovery_threshold: int = Field(1, ge=1, le=100)
    channels: str | None = None
    unique: list[Literal["name", "slug", "tags", "timeout", "grace"]] = []

    def fields(self, version: int = 3) -> dict[str, Any]:
        """The fields the request sets; v1 and v2 derive the slug from a given name."""
        found = self.model_dump(exclude_unset=True, exclude={"channels", "unique"})
        if version < 3 and "name" in found:
            found["slug"] = service.slug_from_name(found["name"])
        return found


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).replace(microsecond=0).isoformat()


def _check_url(key: str, version: int = 3) -> str:
    return f"{runtime().settings.site_url}/api/v{version}/checks/{key}"


def check_json(
    view: service.CheckView, caller: ApiCaller, now: datetime, version: int = 3
) -> dict[str, Any]:
    """A check as Healthchecks shows it (+ srvpulse's fields)."""
    c = view.check
    body: dict[str, Any] = {
        "name": c.name,
        "slug": c.slug,
        "tags": c.tags,
        "desc": c.desc,
        "grace": c.grace,
        "n_pings": c.n_pings,
        "status": status_at(c, now).value,
        "started": c.last_start is not None and c.status is not Status.PAUSED,
        "last_ping": _iso(c.last_ping),
        "next_ping": _iso(next_expected_ping(c)),
        "manual_resume": c.manual_resume,
        "methods": c.methods,
        "min_duration": c.min_duration,
        "max_duration": c.max_duration,
        "recovery_threshold": c.recovery_threshold,
    }
    if c.last_duration_ms is not None:
        body["last_duration"] = c.last_duration_ms // 1000
    if caller.read_only:
        body["unique_key"] = service.unique_key(c)
    else:
        body["uuid"] = c.uuid
        body["ping_url"] = runtime().settings.ping_url + c.uuid
        body["update_url"] = _check_url(c.uuid, version)
        body["pause_url"] = _check_url(c.uuid, version) + "/pause"
        body["resume_url"] = _check_url(c.uuid, version) + "/resume"
        body["channels"] = ",".join(view.channel_uuids)
    if c.kind is ScheduleKind.CRON:
        body["schedule"] = c.schedule
        body["tz"] = c.tz
    else:
        body["timeout"] = c.timeout
    return body


def ping_json(ping: StoredPing, key: str, version: int = 3) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": ping.kind,
        "date": ping.created.astimezone(UTC).isoformat(),
        "n": ping.n,
        "scheme": ping.scheme,
        "remote_addr": ping.remote_addr,
        "method": ping.method,
        "ua": ping.ua,
        "rid": ping.rid,
        "exit_status": ping.exit_status,
        "summary": ping.summary,
        # Always present, null without a body, as Healthchecks answers.
        "body_url": f"{_check_url(key, version)}/pings/{ping.n}/body" if ping.body else None,
        "body_truncated": ping.body_truncated,
    }
    if ping.duration_ms is not None:
        body["duration"] = ping.duration_ms / 1000
    return body


def flip_json(flip: Flip) -> dict[str, Any]:
    return {
        "timestamp": _iso(flip.created),
        "up": 1 if flip.new_status is Status.UP else 0,
        "status": flip.new_status.value,
        "old_status": flip.old_status.value,
        "reason": flip.reason.value,
    }


def _now() -> datetime:
    return datetime.now(UTC)


@bp.route("/checks", methods=["GET"])
@api_view
def list_checks() -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=False)
    params = request.query_params
    # Chalice's MultiDict.getlist raises KeyError for an absent name.
    tags = params.getlist("tag") if params and "tag" in params else []
    limit = query_int(request, "limit", None, minimum=1, maximum=MAX_CHECKS_PER_PAGE)
    offset = query_int(request, "offset", 0, maximum=10**9) or 0
    views = service.list_checks(
        runtime().check_store,
        caller.project_id,
        tags=tags,
        # An empty ?slug= filters nothing (Healthchecks).
        slug=query_params(request).get("slug") or None,
        limit=limit,
        offset=offset,
    )
    now, version = _now(), api_version(request)
    return json_response({"checks": [check_json(v, caller, now, version) for v in views]})


@bp.route("/checks", methods=["POST"], content_types=ANY_CONTENT)
@api_view
def create_check() -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    body = parse_body(request, CheckIn)
    version = api_version(request)
    view, created = service.create_check(
        runtime().check_store,
        caller.project_id,
        body.fields(version),
        _now(),
        channels=body.channels,
        unique=body.unique,
    )
    return json_response(check_json(view, caller, _now(), version), status=201 if created else 200)


@bp.route("/checks/{key}", methods=["GET"])
@api_view
def get_check(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=False)
    view = service.get_check(runtime().check_store, caller.project_id, key)
    return json_response(check_json(view, caller, _now(), api_version(request)))


@bp.route("/checks/{key}", methods=["POST"], content_types=ANY_CONTENT)
@api_view
def update_check(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    body = parse_body(request, CheckIn)
    if body.unique:
        raise InvalidInput("unique: only when creating a check", "unique")
    version = api_version(request)
    view = service.update_check(
        runtime().check_store, caller.project_id, key, body.fields(version), channels=body.channels
    )
    return json_response(check_json(view, caller, _now(), version))


@bp.route("/checks/{key}", methods=["DELETE"])
@api_view
def delete_check(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    view = service.delete_check(runtime().check_store, caller.project_id, key)
    return json_response(check_json(view, caller, _now(), api_version(request)))


@bp.route("/checks/{key}/pause", methods=["POST"], content_types=ANY_CONTENT)
@api_view
def pause_check(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    view = service.pause_check(runtime().check_store, caller.project_id, key, _now())
    return json_response(check_json(view, caller, _now(), api_version(request)))


@bp.route("/checks/{key}/resume", methods=["POST"], content_types=ANY_CONTENT)
@api_view
def resume_check(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    view = service.resume_check(runtime().check_store, caller.project_id, key, _now())
    return json_response(check_json(view, caller, _now(), api_version(request)))


@bp.route("/checks/{key}/pings", methods=["GET"])
@api_view
def list_pings(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=False)
    limit = query_int(request, "limit", PINGS_KEPT_PER_CHECK, minimum=1, maximum=1000)
    assert limit is not None
    check, found = service.list_pings(runtime().check_store, caller.project_id, key, limit)
    path_key = service.unique_key(check) if caller.read_only else check.uuid
    version = api_version(request)
    return json_response({"pings": [ping_json(p, path_key, version) for p in found]})


@bp.route("/checks/{key}/pings/{n}/body", methods=["GET"])
@api_view
def ping_body(key: str, n: str) -> Response:
    caller = require_api_key(bp.current_request, write=False)
    if not n.isdigit() or len(n) > 9:
        raise InvalidInput("n: must be a ping number", "n")
    body = service.ping_body(runtime().check_store, caller.project_id, key, int(n))
    return text_response(body)


def _timestamp(name: str, raw: str | None) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise InvalidInput(f"{name}: must be a Unix timestamp in seconds", name) from exc


@bp.route("/checks/{key}/flips", methods=["GET"])
@api_view
def list_flips(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=False)
    params = query_params(request)
    start = _timestamp("start", params.get("start"))
    end = _timestamp("end", params.get("end"))
    # Healthchecks: 0 (or empty) means no time limit; at most a year.
    seconds = query_int(request, "seconds", None, minimum=0, maximum=MAX_FLIP_SECONDS)
    if seconds:
        since = _now() - timedelta(seconds=seconds)
        start = since if start is None else max(start, since)
    limit = query_int(request, "limit", MAX_FLIPS, minimum=1, maximum=MAX_FLIPS)
    assert limit is not None
    found = service.list_flips(
        runtime().check_store, caller.project_id, key, start=start, end=end, limit=limit
    )
    # The shape Healthchecks' server answers (its docs show a bare list).
    return json_response({"flips": [flip_json(f) for f in found]})
