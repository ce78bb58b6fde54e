"""/api/v{1,2,3}/checks: the Healthchecks.io Management API for checks, pings and flips.

Same paths, field names and shapes as Healthchecks; srvpulse-only fields are added
(uuid, recovery_threshold, the check rules' settings such as min_duration and
max_duration, ping summary/exit_status), never renamed. Thin: authenticate, parse,
call one service, shape the reply.

The blueprint's paths are relative: app.py mounts it at /api/v1, /api/v2 and /api/v3
(``MOUNTS``), as Healthchecks serves one set of routes under its three versions; v1 and
v2 derive a check's slug from its name, and URLs in answers name the version asked.

Differences worth knowing: a check of another project is a 404 (not 403); a read-only
key may GET every route (bodies included) and gets 401 on changes; list endpoints take
``limit``/``offset`` (checks) or ``limit`` (pings, flips) on top of Healthchecks' filters.
``/runs`` is srvpulse's own: every run of the check's whole history (the series store);
so is ``/api/v3/check-rules``, the rule catalog the dashboard's check form is built from.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from chalice.app import Blueprint, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model
from srvpulse.bootstrap import runtime
from srvpulse.domain import check_rules
from srvpulse.domain.model import PINGS_KEPT_PER_CHECK, Check, Flip, ScheduleKind, Status
from srvpulse.domain.runs import Run
from srvpulse.domain.schedule import (
    MAX_GRACE,
    MAX_TIMEOUT,
    MIN_GRACE,
    MIN_TIMEOUT,
    next_expected_ping,
)
from srvpulse.domain.status import status_at
from srvpulse.errors import InvalidInput, Unavailable
from srvpulse.ports import SeriesUnavailable, StoredPing
from srvpulse.services import badges as badge_service
from srvpulse.services import checks as service
from srvpulse.services import ping_targets
from srvpulse.services import series as series_service
from srvpulse.services.projects import ApiCaller

from . import schemas
from .http import (
    ANY_CONTENT,
    MountableBlueprint,
    api_version,
    api_view,
    json_response,
    parse_body,
    parse_query,
    require_api_key,
    text_response,
    with_etag,
)
from .openapi import Link, documented

bp = MountableBlueprint(__name__)
# srvpulse's own routes, served under /api/v3 only.
v3_bp = Blueprint(__name__ + ".v3")
# Where app.py mounts this blueprint (and the other Healthchecks-compatible routes).
MOUNTS = ("/api/v1", "/api/v2", "/api/v3")

MAX_CHECKS_PER_PAGE = 1000
MAX_FLIPS = 1000
# Healthchecks' slug rule: lower case only (a ping URL with upper case is a 400).
SLUG_PATTERN = r"^[a-z0-9_-]*$"
MAX_FLIP_SECONDS = 365 * 86400
MAX_RUNS = 1000
MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z


class _CheckFields(BaseModel):
    """A create/update body. Omitted fields keep their value (or the default)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    name: str = Field("", max_length=100)
    slug: str = Field("", max_length=100, pattern=SLUG_PATTERN)
    tags: str = Field("", max_length=500)
    desc: str = Field("", max_length=10_000)
    timeout: int = Field(86400, ge=MIN_TIMEOUT, le=MAX_TIMEOUT)
    grace: int = Field(3600, ge=MIN_GRACE, le=MAX_GRACE)
    schedule: str = Field(
        "* * * * *",
        max_length=100,
        description="5-field cron, or systemd OnCalendar expressions (one a line)",
    )
    tz: str = Field("UTC", max_length=64)
    manual_resume: bool = False
    methods: Literal["", "POST"] = ""
    recovery_threshold: int = Field(1, ge=1, le=100)
    # Keyword filtering (domain/keywords.py), Healthchecks' fields; subject/subject_fail
    # are its older names for success_kw/failure_kw with filter_subject.
    filter_subject: bool = False
    filter_body: bool = False
    filter_http_body: bool = Field(False, description="decide a ping's kind from its body")
    filter_default_fail: bool = Field(False, description="no keyword found: a failure")
    start_kw: str = Field("", max_length=200, description="comma-separated")
    success_kw: str = Field("", max_length=200, description="comma-separated")
    failure_kw: str = Field("", max_length=200, description="comma-separated")
    subject: str | None = Field(None, max_length=200, description="deprecated: success_kw")
    subject_fail: str | None = Field(None, max_length=200, description="deprecated: failure_kw")
    # srvpulse: pattern detection on/off and how far from usual is far.
    detection: bool = True
    sensitivity: Literal["low", "normal", "high"] = "normal"
    channels: str | None = None
    unique: list[Literal["name", "slug", "tags", "timeout", "grace"]] = []
    # srvpulse: create with a given uuid (a check moving here keeps its ping URL).
    uuid: str | None = Field(None, max_length=36)

    def fields(self, version: int = 3) -> dict[str, Any]:
        """The fields the request sets; v1 and v2 derive the slug from a given name."""
        found = self.model_dump(
            exclude_unset=True, exclude={"channels", "unique", "uuid", "subject", "subject_fail"}
        )
        # Healthchecks' deprecated names: subject -> success_kw, subject_fail -> failure_kw,
        # and filter_subject on when either keyword list is set.
        if self.subject is not None:
            found["success_kw"] = self.subject
        if self.subject_fail is not None:
            found["failure_kw"] = self.subject_fail
        if self.subject is not None or self.subject_fail is not None:
            found["filter_subject"] = bool(found.get("success_kw") or found.get("failure_kw"))
        if version < 3 and "name" in found:
            found["slug"] = service.slug_from_name(found["name"])
        return found


def _rule_field(setting: check_rules.Setting) -> tuple[Any, Any]:
    """A check rule's setting as a request field: its bounds, null = off."""
    unit = "seconds" if setting.unit == "seconds" else "a number"
    off = "; null: off" if setting.optional else ""
    kind: Any = int | None if setting.optional else int
    info = Field(
        setting.default,
        ge=setting.low,
        le=setting.high,
        description=f"{setting.label} ({unit}{off})",
    )
    return kind, info


# The body model: the fields above plus every check rule's settings, from the registry
# (domain/check_rules/), so a new rule's settings are accepted and documented here
# without an edit.
_RULE_FIELDS: dict[str, Any] = {s.name: _rule_field(s) for s in check_rules.SETTINGS}
CheckIn = create_model(
    "CheckIn", __base__=_CheckFields, __doc__=_CheckFields.__doc__, **_RULE_FIELDS
)


class ChecksQuery(BaseModel):
    tag: list[str] = Field([], description="only checks with every one of these tags")
    slug: str | None = Field(None, description="only the check with this slug (empty: all)")
    limit: int | None = Field(None, ge=1, le=MAX_CHECKS_PER_PAGE, description="page size")
    offset: int = Field(0, ge=0, le=10**9, description="checks to skip (oldest first)")


class PingsQuery(BaseModel):
    limit: int = Field(PINGS_KEPT_PER_CHECK, ge=1, le=1000, description="newest first")


class FlipsQuery(BaseModel):
    seconds: int | None = Field(
        None, ge=0, le=MAX_FLIP_SECONDS, description="only flips of the last N seconds (0: all)"
    )
    start: int | None = Field(None, ge=0, le=MAX_TIMESTAMP, description="Unix seconds")
    end: int | None = Field(None, ge=0, le=MAX_TIMESTAMP, description="Unix seconds")
    limit: int = Field(MAX_FLIPS, ge=1, le=MAX_FLIPS, description="newest first")


class RunsQuery(BaseModel):
    since: AwareDatetime | None = Field(
        None, description="only runs at or after (ISO 8601 with zone, or Unix seconds)"
    )
    until: AwareDatetime | None = Field(None, description="only runs before this time")
    before: AwareDatetime | None = Field(
        None, description="the previous page's next_before (continues the listing)"
    )
    limit: int = Field(100, ge=1, le=MAX_RUNS, description="runs per page, newest first")


# The ids a created check answers with, for clients (and the stateful fuzzer) that
# follow links.
_CHECK_LINKS = {
    "GetCheck": Link("get_check", {"key": "$response.body#/uuid"}),
    "UpdateCheck": Link("update_check", {"key": "$response.body#/uuid"}),
    "PauseCheck": Link("pause_check", {"key": "$response.body#/uuid"}),
    "ListPings": Link("list_pings", {"key": "$response.body#/uuid"}),
    "ListFlips": Link("list_flips", {"key": "$response.body#/uuid"}),
    "ListRuns": Link("list_runs", {"key": "$response.body#/uuid"}),
    "DeleteCheck": Link("delete_check", {"key": "$response.body#/uuid"}),
}


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).replace(microsecond=0).isoformat()


def _check_url(key: str, version: int = 3) -> str:
    return f"{runtime().settings.site_url}/api/v{version}/checks/{key}"


def check_json(
    view: service.CheckView, caller: ApiCaller, now: datetime, version: int = 3
) -> schemas.CheckOut:
    """A check as Healthchecks shows it (+ srvpulse's fields)."""
    c = view.check
    body: schemas.CheckOut = {
        "name": c.name,
        "slug": c.slug,
        "tags": c.tags,
        "desc": c.desc,
        "grace": c.grace,
        "n_pings": c.n_pings,
        "status": status_at(c, now),
        "started": c.last_start is not None and c.status is not Status.PAUSED,
        "last_ping": _iso(c.last_ping),
        "next_ping": _iso(next_expected_ping(c)),
        "manual_resume": c.manual_resume,
        "methods": c.methods,
        "recovery_threshold": c.recovery_threshold,
        "subject": c.success_kw if c.filter_subject else "",
        "subject_fail": c.failure_kw if c.filter_subject else "",
        "start_kw": c.start_kw,
        "success_kw": c.success_kw,
        "failure_kw": c.failure_kw,
        "filter_subject": c.filter_subject,
        "filter_body": c.filter_body,
        "filter_http_body": c.filter_http_body,
        "filter_default_fail": c.filter_default_fail,
        "badge_url": badge_service.check_badge_url(runtime().settings.site_url, c.uuid),
        "detection": c.detection,
        "sensitivity": cast(schemas.Sensitivity, c.sensitivity),
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
    if c.kind in (ScheduleKind.CRON, ScheduleKind.ONCALENDAR):
        body["schedule"] = c.schedule
        body["tz"] = c.tz
    else:
        body["timeout"] = c.timeout
    return _with_rule_settings(body, c)


def _with_rule_settings(body: schemas.CheckOut, check: Check) -> schemas.CheckOut:
    """``body`` with every check rule's setting (null when off). CheckOut's schema has
    the same fields from the same registry (schemas.py), which a static TypedDict
    cannot name: hence the one cast."""
    answer: dict[str, object] = dict(body)
    answer.update(check_rules.values(check.rule_settings))
    return cast(schemas.CheckOut, answer)


def ping_json(ping: StoredPing, key: str, version: int = 3) -> schemas.PingOut:
    body: schemas.PingOut = {
        "type": cast(schemas.PingType, ping.kind),
        "date": ping.created.astimezone(UTC),
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


def flip_json(flip: Flip) -> schemas.FlipOut:
    return {
        "timestamp": _iso(flip.created),
        "up": 1 if flip.new_status is Status.UP else 0,
        "status": flip.new_status,
        "old_status": flip.old_status,
        "reason": flip.reason,
    }


def _now() -> datetime:
    return datetime.now(UTC)


def _targets_changed() -> None:
    """Tell the ping edge (before answering, so a created check is pinged at once)."""
    rt = runtime()
    ping_targets.publish(rt.check_store, rt.ping_targets)


@bp.route("/checks", methods=["GET"])
@documented("List the project's checks", ok=schemas.CheckList, query=ChecksQuery)
@api_view
def list_checks() -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=False)
    query = parse_query(request, ChecksQuery)
    views = service.list_checks(
        runtime().check_store,
        caller.project_id,
        tags=query.tag,
        slug=query.slug or None,  # an empty ?slug= filters nothing (Healthchecks)
        limit=query.limit,
        offset=query.offset,
    )
    now, version = _now(), api_version(request)
    body = {"checks": [check_json(v, caller, now, version) for v in views]}
    return with_etag(request, json_response(body))


@bp.route("/checks", methods=["POST"], content_types=ANY_CONTENT)
@documented(
    "Create a check (201), or with `unique` update the matching one (200)",
    ok=schemas.CheckOut,
    status=201,
    also=(200,),
    body=CheckIn,
    errors=(409,),
    links=_CHECK_LINKS,
)
@api_view
def create_check() -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    body = parse_body(request, CheckIn)
    view, created = service.create_check(
        runtime().check_store,
        caller.project_id,
        body.fields(api_version(request)),
        _now(),
        channels=body.channels,
        unique=body.unique,
        check_uuid=body.uuid,
    )
    if created or "slug" in body.fields(api_version(request)):
        _targets_changed()
    return json_response(
        check_json(view, caller, _now(), api_version(request)), status=201 if created else 200
    )


@bp.route("/checks/{key}", methods=["GET"])
@documented("One check (by uuid, or unique_key for read-only keys)", ok=schemas.CheckOut)
@api_view
def get_check(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=False)
    view = service.get_check(runtime().check_store, caller.project_id, key)
    return json_response(check_json(view, caller, _now(), api_version(request)))


@bp.route("/checks/{key}", methods=["POST"], content_types=ANY_CONTENT)
@documented(
    "Change a check (omitted fields keep their value)",
    ok=schemas.CheckOut,
    body=CheckIn,
    errors=(409,),
)
@api_view
def update_check(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    body = parse_body(request, CheckIn)
    if body.unique:
        raise InvalidInput("unique: only when creating a check", "unique")
    if body.uuid is not None:
        raise InvalidInput("uuid: only when creating a check", "uuid")
    view = service.update_check(
        runtime().check_store,
        caller.project_id,
        key,
        body.fields(api_version(request)),
        channels=body.channels,
    )
    if "slug" in body.fields(api_version(request)):
        _targets_changed()
    return json_response(check_json(view, caller, _now(), api_version(request)))


@bp.route("/checks/{key}", methods=["DELETE"])
@documented("Delete a check (answers the deleted check)", ok=schemas.CheckOut)
@api_view
def delete_check(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    view = service.delete_check(runtime().check_store, caller.project_id, key)
    _targets_changed()
    return json_response(check_json(view, caller, _now(), api_version(request)))


@bp.route("/checks/{key}/pause", methods=["POST"], content_types=ANY_CONTENT)
@documented("Pause a check: no alerts until it is pinged or resumed", ok=schemas.CheckOut)
@api_view
def pause_check(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    view = service.pause_check(runtime().check_store, caller.project_id, key, _now())
    return json_response(check_json(view, caller, _now(), api_version(request)))


@bp.route("/checks/{key}/resume", methods=["POST"], content_types=ANY_CONTENT)
@documented("Resume a paused check (409 unless paused)", ok=schemas.CheckOut, errors=(409,))
@api_view
def resume_check(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=True)
    view = service.resume_check(runtime().check_store, caller.project_id, key, _now())
    return json_response(check_json(view, caller, _now(), api_version(request)))


@bp.route("/checks/{key}/pings", methods=["GET"])
@documented("The check's last pings, newest first", ok=schemas.PingList, query=PingsQuery)
@api_view
def list_pings(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=False)
    query = parse_query(request, PingsQuery)
    check, found = service.list_pings(runtime().check_store, caller.project_id, key, query.limit)
    path_key = service.unique_key(check) if caller.read_only else check.uuid
    version = api_version(request)
    return json_response({"pings": [ping_json(p, path_key, version) for p in found]})


@bp.route("/checks/{key}/pings/{n}/body", methods=["GET"])
@documented("A ping's body (the job's report), as text", ok=str, content_type="text/plain")
@api_view
def ping_body(key: str, n: str) -> Response:
    caller = require_api_key(bp.current_request, write=False)
    if not n.isdigit() or len(n) > 9:
        raise InvalidInput("n: must be a ping number", "n")
    body = service.ping_body(runtime().check_store, caller.project_id, key, int(n))
    return text_response(body)


def _timestamp(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


@bp.route("/checks/{key}/flips", methods=["GET"])
@documented("The check's status changes, newest first", ok=schemas.FlipList, query=FlipsQuery)
@api_view
def list_flips(key: str) -> Response:
    request = bp.current_request
    caller = require_api_key(request, write=False)
    query = parse_query(request, FlipsQuery)
    start, end = _timestamp(query.start), _timestamp(query.end)
    if query.seconds:  # 0 means no limit, as in Healthchecks
        since = _now() - timedelta(seconds=query.seconds)
        start = since if start is None else max(start, since)
    found = service.list_flips(
        runtime().check_store, caller.project_id, key, start=start, end=end, limit=query.limit
    )
    # The shape Healthchecks' server answers (its docs show a bare list).
    return json_response({"flips": [flip_json(f) for f in found]})


def rule_json(rule: check_rules.CheckRule) -> schemas.CheckRuleOut:
    return {
        "name": rule.name,
        "summary": rule.summary,
        "settings": [
            {
                "name": s.name,
                "title": s.title,
                "label": s.label,
                "hint": s.hint,
                "unit": s.unit,
                "default": s.default,
                "minimum": s.low,
                "maximum": s.high,
                "optional": s.optional,
            }
            for s in rule.settings
        ],
        "reasons": [{"reason": r.reason, "describes": r.describes} for r in rule.reasons],
    }


@v3_bp.route("/api/v3/check-rules", methods=["GET"])
@documented(
    "The check rules: each one's settings (fields of a check) and flip reasons",
    ok=schemas.CheckRuleList,
)
@api_view
def list_check_rules() -> Response:
    require_api_key(v3_bp.current_request, write=False)
    body: schemas.CheckRuleList = {"rules": [rule_json(r) for r in check_rules.RULES]}
    return json_response(body)


def run_json(run: Run) -> schemas.RunOut:
    return {
        "outcome": cast(Literal["success", "fail", "started"], run.outcome),
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "duration": None if run.duration_ms is None else run.duration_ms / 1000,
        "exit_status": run.exit_status,
        "rid": run.rid,
        "summary": run.summary,
    }


@v3_bp.route("/api/v3/checks/{key}/runs", methods=["GET"])
@documented(
    "The check's runs (start, end, duration, outcome) from its whole history, newest first",
    ok=schemas.RunList,
    query=RunsQuery,
    errors=(503,),
)
@api_view
def list_runs(key: str) -> Response:
    request = v3_bp.current_request
    caller = require_api_key(request, write=False)
    query = parse_query(request, RunsQuery)
    rt = runtime()
    try:
        page = series_service.list_runs(
            rt.check_store,
            rt.series_store,
            rt.series_outbox,
            caller.project_id,
            key,
            since=query.since,
            until=query.until,
            before=query.before,
            limit=query.limit,
        )
    except SeriesUnavailable as exc:
        raise Unavailable("run history is unavailable right now; retry shortly") from exc
    body: schemas.RunList = {
        "runs": [run_json(r) for r in page.runs],
        "next_before": page.next_before,
        "complete_until": page.complete_until,
    }
    return json_response(body)
