"""The local API Gateway emulator picks routes and builds events like API Gateway."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice
from srvpulse.local.gateway import ApiGatewayEmulator, HttpReply, HttpRequest, RestRoutes


def test_literal_segments_beat_path_variables_and_a_trailing_slash_is_ignored() -> None:
    routes = RestRoutes(["/api/v3/checks/{key}", "/api/v3/checks/new", "/api/v3/checks"])
    assert routes.match("/api/v3/checks/new") == ("/api/v3/checks/new", {})
    assert routes.match("/api/v3/checks/abc/") == ("/api/v3/checks/{key}", {"key": "abc"})
    assert routes.match("/api/v3/checks/") == ("/api/v3/checks", {})
    assert routes.match("/api/v3/other") is None


def test_a_greedy_variable_takes_the_rest_of_the_path() -> None:
    routes = RestRoutes(["/static/{proxy+}"])
    assert routes.match("/static/a/b.js") == ("/static/{proxy+}", {"proxy": "a/b.js"})


def call(
    gw: ApiGatewayEmulator,
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> HttpReply:
    request = HttpRequest(
        method=method,
        path=path,
        query_string=query,
        headers=[(k.title(), v) for k, v in (headers or {}).items()],
        body=body,
        source_ip="127.0.0.1",
        scheme="http",
        protocol="HTTP/1.1",
    )
    return gw.handle(request)


def test_api_requests_reach_the_chalice_app_as_rest_v1_events() -> None:
    api = Chalice(app_name="t")

    @api.route("/api/v3/checks/{key}", methods=["POST"])
    def update(key: str) -> dict[str, Any]:
        r = api.current_request
        assert r is not None
        return {"key": key, "q": r.query_params, "body": r.json_body, "h": r.headers["x-api-key"]}

    gw = ApiGatewayEmulator(api)
    reply = call(
        gw,
        "POST",
        "/api/v3/checks/abc",
        "tags=a&tags=b",
        b'{"name": "x"}',
        {"content-type": "application/json", "x-api-key": "k"},
    )
    assert reply.status == 200
    assert reply.body == b'{"key":"abc","q":{"tags":"b"},"body":{"name":"x"},"h":"k"}'
    assert ("Content-Length", str(len(reply.body))) in reply.headers
    assert call(gw, "GET", "/api/v3/checks/abc").status == 405
    assert call(gw, "GET", "/nowhere").status == 404


def test_a_crashing_handler_is_a_502_not_a_dropped_connection() -> None:
    api = Chalice(app_name="t")

    @api.route("/boom")
    def boom() -> None:
        raise RuntimeError("bug")

    def crashing_function(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("the function crashed before answering")

    gw = ApiGatewayEmulator(api)
    gw.api_app = crashing_function  # as if the Lambda itself died
    reply = call(gw, "GET", "/boom")
    assert reply.status == 502 and b"Internal Server Error" in reply.body
