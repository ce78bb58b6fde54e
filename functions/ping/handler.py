"""Ping function: API Gateway HTTP API (payload 2.0) or Function URL -> PingQueue.

Answers "OK" at once and never touches the database. Its imports are its cold start:
no SQLAlchemy, pydantic or Powertools here (tests/unit/test_ping_handler.py checks).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from srvpulse import bootstrap
from srvpulse.domain.model import MAX_REPORT_BYTES
from srvpulse.domain.pinging import PingRequest
from srvpulse.errors import InvalidInput, NotFound, Unavailable
from srvpulse.services.pinging import receive_ping

_HEADERS = {
    "content-type": "text/plain; charset=utf-8",
    # Like Healthchecks: pings may come from browsers, and clients may read the limit.
    "access-control-allow-origin": "*",
    "ping-body-limit": str(MAX_REPORT_BYTES),
    # Like Healthchecks (Django's never_cache): no proxy may answer a ping for us.
    "cache-control": "max-age=0, no-cache, no-store, must-revalidate, private",
}


# A browser sending a JSON completion body (Content-Type: application/json) asks first.
_PREFLIGHT = {
    "access-control-allow-methods": "GET, HEAD, POST",
    "access-control-allow-headers": "content-type",
    "access-control-max-age": "86400",
}


def handler(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    if method == "OPTIONS":
        return _reply(204, "", _PREFLIGHT)
    rt = bootstrap.runtime()
    try:
        reply = receive_ping(
            request_from_event(event),
            rt.ping_queue,
            datetime.now(UTC),
            rt.ping_targets,
            trusted_proxies=rt.settings.trusted_proxies,
        )
    except InvalidInput as exc:
        return _reply(400, exc.message)
    except NotFound as exc:
        return _reply(404, exc.message)
    except Unavailable as exc:
        return _reply(503, "service unavailable, try again", {"retry-after": str(exc.retry_after)})
    return _reply(reply.status, reply.text)


def request_from_event(event: dict[str, Any]) -> PingRequest:
    """An HTTP API v2 / Function URL event as a PingRequest (path relative to /ping/)."""
    http = event.get("requestContext", {}).get("http", {})
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    proxy = (event.get("pathParameters") or {}).get("proxy")
    if proxy is None:
        # Function URL (no route): the raw path, with or without the /ping/ prefix.
        raw = event.get("rawPath", "/")
        proxy = raw[len("/ping/") :] if raw.startswith("/ping/") else raw.lstrip("/")
    query = event.get("queryStringParameters") or {}
    # API Gateway joins repeated parameters with commas; the first value wins.
    query = {k: v.split(",")[0] for k, v in query.items()}
    body = event.get("body") or ""
    raw_body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    return PingRequest(
        method=http.get("method", "GET"),
        path=proxy,
        query=query,
        headers=headers,
        body=raw_body,
        remote_addr=http.get("sourceIp", ""),
        scheme=headers.get("x-forwarded-proto", "https").split(",")[0].strip(),
    )


def _reply(status: int, text: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "headers": {**_HEADERS, **(extra or {})}, "body": text}
