"""Lambda entry point of the management API: a greedy REST API route -> the Chalice app.

Chalice dispatches on ``requestContext.resourcePath``, the API Gateway *resource* that
matched (``/api/v3/checks/{uuid}``), so it needs one API Gateway resource per route. The
template instead sends everything through one greedy ``/{proxy+}`` resource: no route list
to keep in sync with chalicelib/, and the REST API stays a fixed, small resource. This
module finds the Chalice route for the request path with the local mode's matcher
(``srvpulse.local.gateway.RestRoutes``: literal segments beat ``{parameters}``, a trailing
slash is ignored), so both modes pick routes the same way, rewrites the event the way API
Gateway would have written it for that route, and calls ``app.app``.

The build (infra/api-build/Makefile) copies this file next to app.py and chalicelib/.
"""

from __future__ import annotations

import json
from typing import Any
from weakref import WeakKeyDictionary

from srvpulse.local.gateway import RestRoutes

NOT_FOUND = {"error": "not found"}

_matchers: WeakKeyDictionary[Any, RestRoutes] = WeakKeyDictionary()


def handler(event: dict[str, Any], context: Any) -> Any:
    from app import app  # imported on first use, like every dependency of a handler

    return route(app, event, context)


def route(app: Any, event: dict[str, Any], context: Any) -> Any:
    """Call the Chalice ``app`` with ``event`` rewritten for the route its path matches."""
    if event.get("requestContext", {}).get("resourcePath") in app.routes:
        return app(event, context)  # already a per-route event (tests, local emulator)
    match = routes_of(app).match(event.get("path") or "/")
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


def routes_of(app: Any) -> RestRoutes:
    """The route matcher of ``app``, built once per container."""
    if app not in _matchers:
        _matchers[app] = RestRoutes(app.routes)
    return _matchers[app]
