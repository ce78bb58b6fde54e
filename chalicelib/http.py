"""The one place where HTTP meets the services: errors -> JSON, bodies -> pydantic models,
X-Api-Key -> caller. Every blueprint builds on these helpers.

Usage in a blueprint::

    bp = Blueprint(__name__)

    @bp.route("/api/v3/things", methods=["POST"], content_types=ANY_CONTENT)
    @api_view
    def create_thing() -> Response:
        caller = require_api_key(bp.current_request, write=True)
        body = parse_body(bp.current_request, ThingIn)
        thing = things.create(runtime().check_store, caller.project_id, body)
        return json_response(thing_json(thing), status=201)

Errors: a service raises ``srvpulse.errors`` types; ``api_view`` turns them into
``{"error": "...", "field": "..."}`` with the error's status code (plus ``Retry-After``
for 429/503). Anything unexpected is logged and becomes a JSON 500 without details.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from chalice.app import Blueprint, Request, Response
from pydantic import BaseModel, ValidationError
from srvpulse.bootstrap import runtime, service_error
from srvpulse.errors import (
    InvalidInput,
    RateLimited,
    SrvpulseError,
    Unauthorized,
    Unavailable,
)
from srvpulse.services.projects import ApiCaller, verify_api_key

from .session_auth import has_session_cookie, session_caller

logger = logging.getLogger("srvpulse.api")

# Accept any request content type: Healthchecks clients often POST JSON with curl's
# default form content type, and Chalice would answer 415 before our code runs.
ANY_CONTENT = ["*/*"]
API_KEY_HEADER = "x-api-key"

P = ParamSpec("P")
M = TypeVar("M", bound=BaseModel)


class MountableBlueprint(Blueprint):  # type: ignore[misc]
    """A blueprint that may be registered more than once, each time under its own
    ``url_prefix`` (the Healthchecks routes under /api/v1, v2 and v3). Chalice pops a
    route's ``methods`` out of the kwargs it is given, so a second registration of a
    plain Blueprint would see every route as GET; this one hands each a fresh copy."""

    def _register_handler(
        self,
        handler_type: str,
        name: str,
        user_handler: Any,
        wrapped_handler: Any,
        kwargs: dict[str, Any],
        options: dict[Any, Any] | None = None,
    ) -> None:
        import_name = self._import_name

        def register(app: Any, app_options: dict[Any, Any]) -> None:
            once = Blueprint(import_name)
            Blueprint._register_handler(
                once, handler_type, name, user_handler, wrapped_handler, copy.deepcopy(kwargs)
            )
            once._deferred_registrations[0](app, app_options)

        self._deferred_registrations.append(register)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (datetimes as ISO 8601)."""
    all_headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return Response(
        body=json.dumps(body, default=_default, separators=(",", ":")),
        status_code=status,
        headers=all_headers,
    )


def with_etag(request: Request, response: Response) -> Response:
    """Tag a GET answer with an ETag (a hash of its body) and answer ``304 Not Modified``
    with no body when the request's ``If-None-Match`` carries that tag, so the
    dashboard's list poll costs a round trip and nothing else while nothing changed.
    ``Vary`` keeps a browser cache from mixing the answers of two projects or users."""
    body = response.body if isinstance(response.body, str) else json.dumps(response.body)
    tag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Cookie, X-Project, X-Api-Key"
    wanted = request.headers.get("if-none-match") if request.headers else None
    if wanted and tag in [t.strip() for t in str(wanted).split(",")]:
        headers = {k: v for k, v in response.headers.items() if k != "Content-Type"}
        return Response(body="", status_code=304, headers=headers)
    return response


def text_response(body: str, status: int = 200) -> Response:
    return Response(
        body=body, status_code=status, headers={"Content-Type": "text/plain; charset=utf-8"}
    )


def error_response(exc: SrvpulseError) -> Response:
    """Map a service error to ``{"error": message, "field": name}`` + its status code."""
    body: dict[str, Any] = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited | Unavailable):
        headers["Retry-After"] = str(max(1, int(exc.retry_after)))
    return json_response(body, status=exc.status_code, headers=headers)


def api_view(view: Callable[P, Response]) -> Callable[P, Response]:
    """Wrap a route: the one error policy of the API.

    Service errors become their JSON error. What the stores let through is translated
    by ``bootstrap.service_error``: a unique value another row holds -> 409 naming the
    field, the database unreachable -> 503 with Retry-After. Text that cannot be stored
    (lone surrogates from a JSON escape) that slipped past ``json_body`` -> 400. Anything
    else is a bug: logged, and a JSON 500 without details.
    """

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return view(*args, **kwargs)
        except SrvpulseError as exc:
            return error_response(exc)
        except UnicodeEncodeError:
            return error_response(InvalidInput(f"text is not valid Unicode: {_SURROGATE_HINT}"))
        except Exception as exc:
            mapped = service_error(exc)
            if mapped is not None:
                if isinstance(mapped, Unavailable):
                    logger.warning("%s: database unavailable: %s", view.__name__, exc)
                return error_response(mapped)
            logger.exception("unhandled error in %s", view.__name__)
            return json_response({"error": "internal error"}, status=500)

    return wrapper


def chalice_errors_as_ours(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: errors Chalice answers itself, before any view runs (405 wrong
    method, 415 content type, 400 bad body encoding), get the same ``{"error": ...}``
    shape as ours; their status code and headers (e.g. ``Allow``) are kept."""
    response = get_response(event)
    if response.status_code < 400:
        return response
    body = response.body
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError:
            return response
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        response.body = json.dumps({"error": str(body["Message"])})
        response.headers["Content-Type"] = "application/json"
    return response


def json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object ({} when empty). 400 naming ``body`` for
    malformed JSON, bytes that are not UTF-8, nesting too deep for the parser, or a
    non-object; 400 naming the field for a string no database can store."""
    raw = request.raw_body
    if not raw or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except RecursionError as exc:
        raise InvalidInput("body: the JSON is nested too deeply", "body") from exc
    except ValueError as exc:  # UnicodeDecodeError included
        raise InvalidInput(f"body: malformed JSON: {exc}", "body") from exc
    if not isinstance(data, dict):
        raise InvalidInput("body: the JSON body must be an object", "body")
    _refuse_lone_surrogates(data, ())
    return data


_SURROGATE_HINT = "a lone surrogate (e.g. \\ud800) has no UTF-8 form"
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_lone_surrogates(value: Any, path: tuple[str, ...]) -> None:
    """JSON's \\uXXXX escapes can spell half of a UTF-16 pair, which Python keeps as a
    lone surrogate and no database (nor UTF-8) can store: refuse it, naming the field."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            field = ".".join(path) or "body"
            raise InvalidInput(f"{field}: text is not valid Unicode: {_SURROGATE_HINT}", field)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = _SURROGATE.sub("\ufffd", key)
            if name != key:
                raise InvalidInput(
                    f"{name}: a field name is not valid Unicode: {_SURROGATE_HINT}", name
                )
            _refuse_lone_surrogates(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_lone_surrogates(item, (*path, str(i)))


def _field_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def validate(model: type[M], data: Any) -> M:
    """Validate ``data`` with a pydantic model; the first error names its field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = _field_name(tuple(first["loc"]))
        raise InvalidInput(f"{name}: {first['msg']}", name) from exc


def parse_body(request: Request, model: type[M]) -> M:
    """Parse and validate the JSON body: malformed JSON or a wrong field -> 400 that
    names the field."""
    return validate(model, json_body(request))


def parse_query(request: Request, model: type[M]) -> M:
    """Validate the query string with a pydantic model (lax: "5" is an int here); a
    list-typed field takes every value of a repeated name, others the last one; an
    empty value counts as absent. Errors -> 400 naming the parameter."""
    params = request.query_params
    data: dict[str, Any] = {}
    if params:
        for name in params:
            values = [v for v in params.getlist(name) if v != ""]
            info = model.model_fields.get(name)
            if not values or info is None:
                continue
            many = getattr(info.annotation, "__origin__", None) is list
            data[name] = values if many else values[-1]
    return validate(model, data)


def api_version(request: Request) -> int:
    """1, 2 or 3: the Healthchecks API version in the matched route (``/api/v1/...``).
    The three mount the same routes; v1 and v2 differ only where Healthchecks' do."""
    path = str((request.context or {}).get("resourcePath", ""))
    for version in (1, 2):
        if path.startswith(f"/api/v{version}/"):
            return version
    return 3


def _body_api_key(request: Request) -> str | None:
    """Healthchecks' documented alternative to the header: ``api_key`` in a POST's JSON
    body (hchk sends it there). A malformed body is left for the route to report."""
    if request.method != "POST" or not request.raw_body:
        return None
    try:
        data = json.loads(request.raw_body)
    except (ValueError, UnicodeDecodeError):
        return None
    key = data.get("api_key") if isinstance(data, dict) else None
    return key if isinstance(key, str) and key else None


def require_api_key(request: Request, *, write: bool) -> ApiCaller:
    """Authenticate by the ``X-Api-Key`` header (or, on POST, an ``api_key`` field in the
    JSON body, as Healthchecks accepts): 401 for a missing or wrong key, and 401 when a
    read-only key is used for a change (``write=True``), as Healthchecks answers.

    Without X-Api-Key, a dashboard session cookie is accepted instead, with the project
    named by ``X-Project`` (or ``?project=``) and, for unsafe methods, the session's
    ``X-CSRF-Token``: 404 when the user is not a member of that project, 403 when a
    read-only member writes (chalicelib/session_auth.py). Either way the caller is one
    project, and every query below filters by ``caller.project_id``.
    """
    key = request.headers.get(API_KEY_HEADER) if request.headers else None
    if not key and has_session_cookie(request):
        return session_caller(request, write=write)
    key = key or _body_api_key(request)
    caller = verify_api_key(runtime().account_stores.projects, key, datetime.now(UTC))
    if write and caller.read_only:
        raise Unauthorized("this API key is read-only: use a read-write key for changes")
    return caller


# CORS, as Healthchecks does it for its API: any origin may call with an API key, and a
# preflight is answered without running a view. Never ``Allow-Credentials``: a browser
# then neither sends nor exposes cookies cross-origin, so the dashboard's cookie-
# authenticated routes stay same-origin.
CORS_PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "X-Api-Key, Content-Type",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Max-Age": "600",
}
_CORS_PATHS = ("/api/v1/", "/api/v2/", "/api/v3/", "/badge/", "/b/")


def cors_for_api_keys(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: OPTIONS on an API path -> 204 with the CORS headers; a request
    authenticated by an API key (not by a session cookie) and the public badge routes
    get ``Access-Control-Allow-Origin: *``."""
    path = str((event.context or {}).get("resourcePath", ""))
    if not path.startswith(_CORS_PATHS):
        return get_response(event)
    if event.method == "OPTIONS":
        return Response(body="", status_code=204, headers=dict(CORS_PREFLIGHT_HEADERS))
    response = get_response(event)
    by_key = bool(event.headers and event.headers.get(API_KEY_HEADER))
    if by_key or not has_session_cookie(event):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response
