"""Ping function: API Gateway HTTP API (payload 2.0) or Function URL -> PingQueue.

Answers "OK" at once and never touches the database. Its imports are its cold start:
no SQLAlchemy, pydantic or Powertools here (tests/unit/test_ping_handler.py checks).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from srvpulse import bootstrap
from srvpulse.domain.pinging import PingRequest
from srvpulse.services.pinging import accept_ping


def handler(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    """Parse, validate and enqueue with ``services.pinging.accept_ping`` (the local edge
    runs the same code); only the event decoding and the reply shape are here."""
    rt = bootstrap.runtime()
    reply = accept_ping(
        request_from_event(event),
        rt.ping_queue,
        datetime.now(UTC),
        targets=rt.ping_targets,
        trusted_proxies=rt.settings.trusted_proxies,
    )
    return {"statusCode": reply.status, "headers": reply.headers, "body": reply.text}


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
