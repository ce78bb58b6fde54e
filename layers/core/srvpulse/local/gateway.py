"""API Gateway emulator for the management and dashboard API: an HTTP request becomes
the REST API payload 1.0 event AWS would send (resource path matched against the Chalice
app's routes, like API Gateway does), the Chalice app (``app.app``) handles it, and its
reply becomes HTTP again.

It is not a second implementation of any route: only the event envelope is built here.
The ping path does not come here: the local edge (edge.py) calls the ping service the
ping function calls, without an event envelope in between.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from .lambda_context import LocalLambdaContext

log = logging.getLogger("srvpulse.local.gateway")

# What reaches a Lambda on AWS: API Gateway takes 10 MB, but a synchronous invocation
# carries at most 6 MB (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html),
# so a bigger body never reaches the handler there; refusing it here (413) keeps the
# local mode from accepting what AWS would not.
MAX_BODY_BYTES = 6 * 1024 * 1024


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


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    headers: list[tuple[str, str]]  # Content-Length included
    body: bytes


def json_reply(status: int, body: bytes) -> HttpReply:
    return _reply(status, {"content-type": "application/json"}, body)


class ApiGatewayEmulator:
    """Every non-ping request of the local mode: REST API v1 event -> Chalice app."""

    def __init__(self, api_app: Any) -> None:
        self.api_app = api_app
        self.routes = RestRoutes(api_app.routes)
        self.binary_types: list[str] = list(api_app.api.binary_types)

    def handle(self, request: HttpRequest) -> HttpReply:
        """Blocking (the Chalice app is synchronous): call it from a worker thread."""
        match = self.routes.match(request.path)
        if match is None:
            return json_reply(404, b'{"error": "not found"}')
        try:
            event = rest_api_v1_event(request, *match, self.binary_types)
            reply = self.api_app(event, LocalLambdaContext("api"))
        except Exception:
            # What API Gateway answers when the function itself crashes.
            log.exception("handler failed for %s %s", request.method, request.path)
            return json_reply(502, b'{"message": "Internal Server Error"}')
        return _reply_from_lambda(reply)


# --- requests --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str  # decoded
    query_string: str
    headers: list[tuple[str, str]]  # original names, in order
    body: bytes
    source_ip: str
    scheme: str
    protocol: str


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
def _reply(status: int, headers: Mapping[str, str], body: bytes) -> HttpReply:
    header_list = [(k, v) for k, v in headers.items() if k.lower() != "content-length"]
    header_list.append(("Content-Length", str(len(body))))
    return HttpReply(status, header_list, body)


def _reply_from_lambda(reply: Mapping[str, Any]) -> HttpReply:
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
        if name.lower() not in seen:
            header_list.append((name, str(value)))
    header_list = [(k, v) for k, v in header_list if k.lower() != "content-length"]
    header_list.append(("Content-Length", str(len(body))))
    return HttpReply(status, header_list, body)
