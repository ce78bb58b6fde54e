"""Lambda entry point of the management API: a greedy REST API route -> the Chalice app.

Chalice dispatches on ``requestContext.resourcePath``, the API Gateway *resource* that
matched (``/api/v3/checks/{uuid}``), so it needs one API Gateway resource per route. The
template instead sends everything through one greedy ``/{proxy+}`` resource: no route list
to keep in sync with chalicelib/, and the REST API stays a fixed, small resource. This
module finds the Chalice route for the request path and rewrites the event the way API
Gateway would have written it for that route, then calls ``app.app``.

The build (infra/api-build/Makefile) copies this file next to app.py and chalicelib/.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

NOT_FOUND = {"error": "not found"}


def handler(event: dict[str, Any], context: Any) -> Any:
    from app import app  # imported on first use, like every dependency of a handler

    return route(app, event, context)


def route(app: Any, event: dict[str, Any], context: Any) -> Any:
    """Call the Chalice ``app`` with ``event`` rewritten for the route its path matches."""
    if event.get("requestContext", {}).get("resourcePath") in app.routes:
        return app(event, context)  # already a per-route event (tests, local emulator)
    match = match_route(app.routes, event.get("path") or "/")
    if match is None:
        return {
            "statusCode": 404,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(NOT_FOUND),
        }
    pattern, params = match
    routed = dict(event)
    routed["resource"] = pattern
    routed["pathParameters"] = params or None
    routed["requestContext"] = {**event.get("requestContext", {}), "resourcePath": pattern}
    return app(routed, context)


def match_route(patterns: Iterable[str], path: str) -> tuple[str, dict[str, str]] | None:
    """The Chalice route pattern that ``path`` matches, and its path parameters.

    Literal segments win over ``{parameters}`` left to right, as in API Gateway:
    ``/api/v3/checks/stats`` prefers a literal ``stats`` route to ``{uuid}``. A trailing
    slash does not change the route (API Gateway may strip it; Healthchecks-style routes
    keep it), but of two routes differing only by it, the one written like the path wins.
    """
    segments = _split(path)
    best: tuple[tuple[bool, ...], str, dict[str, str]] | None = None
    for pattern in patterns:
        params = _match(_split(pattern), segments)
        if params is None:
            continue
        literal_rank = tuple(not p.startswith("{") for p in _split(pattern))
        rank = (*literal_rank, pattern.endswith("/") == path.endswith("/"))
        if best is None or rank > best[0]:
            best = (rank, pattern, params)
    return None if best is None else (best[1], best[2])


def _split(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _match(pattern: list[str], segments: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for want, got in zip(pattern, segments, strict=True):
        if want.startswith("{") and want.endswith("}"):
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params
