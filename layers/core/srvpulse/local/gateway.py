"""API Gateway emulator: a WSGI app that turns HTTP requests into the Lambda events AWS
would send, calls the very same handlers, and turns their replies back into HTTP.

- ``/ping/...``   -> HTTP API payload 2.0 event (route ``ANY /ping/{proxy+}``) -> the ping
  function (functions/ping/handler.handler).
- everything else -> REST API payload 1.0 event (resource path matched against the
  Chalice app's routes, like API Gateway does) -> the Chalice app (``app.app``).

It is not a second implementation of any route: only the event envelope is built here.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from .lambda_context import LocalLambdaContext
from .spa import SpaFiles

log = logging.getLogger("srvpulse.local.gateway")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
StartResponse = Callable[..., Any]

PING_PREFIX = "/ping/"
# What reaches a Lambda on AWS: API Gateway takes 10 MB, but a synchronous invocation
# carries at most 6 MB (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html),
# so a bigger body never reaches the handler there; refusing it here (413) keeps the
# local mode from accepting what AWS would not.
MAX_BODY_BYTES = 6 * 1024 * 1024
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class _Route:
    pattern: str  # as Chalice declares it: /api/v3/checks/{uuid}
    regex: re.Pattern[str]
    literal_segments: int


class RestRoutes:
    """Matches a path to a Chalice route the way API Gateway picks a resource: literal
    segments beat path variables; ``{name+}`` is greedy."""

    def __init__(self, patterns: Iterable[str]) -> None:
        routes = []
        for pattern in patterns:
            parts = []
            literals = 0
            for segment in pattern.strip("/").split("/"):
                if segment.startswith("{") and segment.endswith("+}"):
                    parts.append(f"(?P<{segment[1:-2]}>.+)")
                elif segment.startswith("{") and segment.endswith("}"):
                    parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
                else:
                    parts.append(re.escape(segment))
                    literals += 1
            regex = re.compile("^/" + "/".join(parts) + "$")
            routes.append(_Route(pattern, regex, literals))
        # Most literal segments first, then longer patterns: /checks/new before /checks/{id}.
        self._routes = sorted(routes, key=lambda r: (-r.literal_segments, -len(r.pattern)))

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        # API Gateway treats /a/b/ like /a/b.
        if path != "/" and path.endswith("/"):
            path = path[:-1]
        for route in self._routes:
            m = route.regex.match(path)
            if m:
                return route.pattern, m.groupdict()
        return None


class ApiGatewayEmulator:
    """The WSGI application of the local mode."""

    def __init__(self, ping_handler: Handler, api_app: Any, spa: SpaFiles | None = None) -> None:
        self.ping_handler = ping_handler
        self.api_app = api_app
        self.spa = spa  # the dashboard's files, answered before any route (local/spa.py)
        self.routes = RestRoutes(api_app.routes)
        self.binary_types: list[str] = list(api_app.api.binary_types)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        body = self._respond(environ, start_response)
        # A HEAD reply keeps the GET's headers (Content-Length too) but sends no body;
        # waitress leaves that to the application.
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else body

    def _respond(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            request = _read_request(environ)
        except _TooLarge:
            return _send(
                start_response,
                413,
                {"content-type": "application/json"},
                b'{"error": "request body too large"}',
            )
        if self.spa is not None:
            page = self.spa.answer(
                request.method, request.path, _header(request.headers, "if-none-match")
            )
            if page is not None:
                return _send(start_response, page.status, page.headers, page.content())
        try:
            if request.path.startswith(PING_PREFIX):
                reply = self.ping_handler(http_api_v2_event(request), LocalLambdaContext("ping"))
            else:
                match = self.routes.match(request.path)
                if match is None:
                    return _send(
                        start_response,
                        404,
                        {"content-type": "application/json"},
                        b'{"error": "not found"}',
                    )
                event = rest_api_v1_event(request, *match, self.binary_types)
                reply = self.api_app(event, LocalLambdaContext("api"))
        except Exception:
            # What API Gateway answers when the function itself crashes.
            log.exception("handler failed for %s %s", request.method, request.path)
            return _send(
                start_response,
                502,
                {"content-type": "application/json"},
                b'{"message": "Internal Server Error"}',
            )
        return _send_reply(start_response, reply)


# --- requests --------------------------------------------------------------------------
class _TooLarge(Exception):
    pass


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str  # decoded
    raw_path: str  # as sent
    query_string: str
    headers: list[tuple[str, str]]  # original names, in order
    body: bytes
    source_ip: str
    scheme: str
    protocol: str


def _read_request(environ: Mapping[str, Any]) -> HttpRequest:
    # WSGI gives the path as latin-1-decoded bytes; URLs are UTF-8.
    path = str(environ.get("PATH_INFO", "/")).encode("latin-1").decode("utf-8", "replace")
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or path)
    headers: list[tuple[str, str]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").title()
        else:
            continue
        if value:
            headers.append((name, str(value)))
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > MAX_BODY_BYTES:
        raise _TooLarge
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    return HttpRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        path=path,
        raw_path=raw_uri.split("?", 1)[0],
        query_string=str(environ.get("QUERY_STRING", "")),
        headers=headers,
        body=body,
        source_ip=str(environ.get("REMOTE_ADDR", "")),
        scheme=str(environ.get("wsgi.url_scheme", "http")),
        protocol=str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")),
    )


def _body_field(body: bytes, force_base64: bool = False) -> tuple[str | None, bool]:
    if not body:
        return None, False
    if not force_base64:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def _common_context(request: HttpRequest, now: float) -> dict[str, Any]:
    host = dict((k.lower(), v) for k, v in request.headers).get("host", "localhost")
    return {
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "requestId": uuid.uuid4().hex,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
    }


def http_api_v2_event(request: HttpRequest) -> dict[str, Any]:
    """The payload 2.0 event API Gateway HTTP API sends for route ANY /ping/{proxy+}."""
    now = time.time()
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        lname = name.lower()
        if lname == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        # HTTP API joins repeated headers with commas.
        headers[lname] = f"{headers[lname]},{value}" if lname in headers else value
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", request.scheme)
    query: dict[str, str] = {}
    for k, v in parse_qsl(request.query_string, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    body, is_b64 = _body_field(request.body)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "ANY /ping/{proxy+}",
        "rawPath": request.raw_path,
        "rawQueryString": request.query_string,
        "headers": headers,
        "requestContext": {
            **_common_context(request, now),
            "routeKey": "ANY /ping/{proxy+}",
            "timeEpoch": int(now * 1000),
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
        },
        "pathParameters": {"proxy": request.path[len(PING_PREFIX) :]},
        "isBase64Encoded": is_b64,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body
    return event


def rest_api_v1_event(
    request: HttpRequest,
    resource: str,
    path_params: dict[str, str],
    binary_types: Iterable[str] = (),
) -> dict[str, Any]:
    """The payload 1.0 event API Gateway REST API sends to a Chalice app."""
    now = time.time()
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value  # REST API keeps the last value here...
        multi_headers.setdefault(name, []).append(value)  # ...and all of them here
    multi_query: dict[str, list[str]] = {}
    for k, v in parse_qsl(request.query_string, keep_blank_values=True):
        multi_query.setdefault(k, []).append(v)
    content_type = headers.get("Content-Type", "").split(";")[0].strip()
    body, is_b64 = _body_field(request.body, force_base64=content_type in set(binary_types))
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            **_common_context(request, now),
            "resourcePath": resource,
            "httpMethod": request.method,
            "path": request.path,
            "protocol": request.protocol,
            "requestTimeEpoch": int(now * 1000),
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": headers.get("User-Agent", ""),
            },
        },
        "body": body,
        "isBase64Encoded": is_b64,
    }


# --- replies ---------------------------------------------------------------------------
def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def _send(
    start_response: StartResponse, status: int, headers: Mapping[str, str], body: bytes
) -> list[bytes]:
    header_list = [(k, v) for k, v in headers.items() if k.lower() != "content-length"]
    header_list.append(("Content-Length", str(len(body))))
    start_response(f"{status} {_STATUS_TEXT.get(status, 'Unknown')}", header_list)
    return [body]


def _send_reply(start_response: StartResponse, reply: Mapping[str, Any]) -> list[bytes]:
    status = int(reply.get("statusCode", 200))
    body_field = reply.get("body") or ""
    if reply.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body_field)
        except (binascii.Error, ValueError):
            body = b""
    else:
        body = str(body_field).encode("utf-8")
    header_list: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, values in (reply.get("multiValueHeaders") or {}).items():
        seen.add(name.lower())
        header_list += [(name, str(v)) for v in values]
    for name, value in (reply.get("headers") or {}).items():
        if name.lower() not in seen and name.lower() != "content-length":
            header_list.append((name, str(value)))
    for cookie in reply.get("cookies") or []:  # payload 2.0 replies
        header_list.append(("Set-Cookie", str(cookie)))
    header_list = [(k, v) for k, v in header_list if k.lower() != "content-length"]
    header_list.append(("Content-Length", str(len(body))))
    start_response(f"{status} {_STATUS_TEXT.get(status, 'Unknown')}", header_list)
    return [body]
