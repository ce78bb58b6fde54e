"""The local API Gateway emulator picks routes and builds events like API Gateway."""

from __future__ import annotations

import io
from typing import Any

from chalice.app import Chalice
from srvpulse.local.gateway import ApiGatewayEmulator, RestRoutes


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
    app: Any,
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[str, dict[str, str], bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "SERVER_PROTOCOL": "HTTP/1.1",
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()},
    }
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    out = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], out


def test_api_requests_reach_the_chalice_app_as_rest_v1_events() -> None:
    api = Chalice(app_name="t")

    @api.route("/api/v3/checks/{key}", methods=["POST"])
    def update(key: str) -> dict[str, Any]:
        r = api.current_request
        assert r is not None
        return {"key": key, "q": r.query_params, "body": r.json_body, "h": r.headers["x-api-key"]}

    def ping_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200, "headers": {}, "body": event["pathParameters"]["proxy"]}

    gw = ApiGatewayEmulator(ping_handler, api)
    status, headers, body = call(
        gw,
        "POST",
        "/api/v3/checks/abc",
        "tags=a&tags=b",
        b'{"name": "x"}',
        {"content-type": "application/json", "x-api-key": "k"},
    )
    assert status.startswith("200")
    assert body == b'{"key":"abc","q":{"tags":"b"},"body":{"name":"x"},"h":"k"}'
    assert call(gw, "GET", "/api/v3/checks/abc")[0].startswith("405")
    assert call(gw, "GET", "/nowhere")[0].startswith("404")
    assert call(gw, "GET", "/ping/some/path")[2] == b"some/path"
    status, headers, body = call(gw, "HEAD", "/ping/x")
    assert status.startswith("200") and body == b"" and headers["Content-Length"] == "1"


def test_a_crashing_handler_is_a_502_not_a_dropped_connection() -> None:
    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("bug")

    status, _, body = call(ApiGatewayEmulator(broken, Chalice(app_name="t")), "GET", "/ping/x")
    assert status.startswith("502") and b"Internal Server Error" in body


def test_a_body_too_big_for_a_lambda_is_refused_with_413_before_any_handler_runs() -> None:
    called: list[str] = []

    def ping_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        called.append(event["rawPath"])
        return {"statusCode": 200, "body": "OK"}

    gw = ApiGatewayEmulator(ping_handler, Chalice(app_name="t"))
    status, _, _ = call(gw, "POST", "/ping/x", body=b"x" * (6 * 1024 * 1024 + 1))
    assert status.startswith("413")
    assert called == []
    status, _, _ = call(gw, "POST", "/ping/x", body=b"x" * (6 * 1024 * 1024))
    assert status.startswith("200") and called == ["/ping/x"]
