"""The OpenAPI document: every route of app.app is in it, the committed copy the
dashboard's types are generated from is current, and the server serves it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chalice.app import Blueprint, Chalice, Response
from chalice.test import Client

import app as app_module
from chalicelib import openapi

COMMITTED = Path(__file__).parents[2] / "frontend" / "src" / "api" / "openapi.json"


def test_every_route_of_the_app_is_in_the_document_with_its_methods() -> None:
    document = openapi.build(app_module.app)
    served = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    assert set(openapi.routes(app_module.app)) == served


def test_the_committed_document_is_the_one_the_code_generates() -> None:
    generated = openapi.render(openapi.build(app_module.app))
    assert COMMITTED.read_text(encoding="utf-8") == generated, "run `make openapi`"


def test_the_server_serves_the_document_without_authentication() -> None:
    with Client(app_module.app) as client:
        response = client.http.get("/api/v3/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body) == json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_a_route_without_documentation_fails_the_build_and_is_named() -> None:
    bp = Blueprint(__name__)

    @bp.route("/api/v3/things/{thing}", methods=["DELETE"])
    def forget_thing(thing: str) -> Response:
        return Response(body="")

    small = Chalice(app_name="undocumented")
    small.register_blueprint(bp)
    with pytest.raises(openapi.UndocumentedRoute, match=r"DELETE /api/v3/things/\{thing\}"):
        openapi.build(small)


def test_checks_pings_and_flips_have_typed_answers_and_both_credentials() -> None:
    document = openapi.build(app_module.app)
    schemas = document["components"]["schemas"]
    check = schemas["CheckOut"]
    assert check["properties"]["status"] == {"$ref": "#/components/schemas/Status"}
    assert set(schemas["Status"]["enum"]) == {"new", "up", "started", "grace", "down", "paused"}
    assert "uuid" not in check["required"] and "name" in check["required"]
    get_check = document["paths"]["/api/v3/checks/{key}"]["get"]
    assert get_check["security"] == [{"ApiKey": []}, {"Session": []}]
    update = document["paths"]["/api/v3/checks/{key}"]["post"]
    assert {"Session": [], "Csrf": []} in update["security"]
    assert update["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CheckIn"
    }
    assert update["responses"]["409"] == {"$ref": "#/components/responses/Error409"}
    error = document["components"]["responses"]["Error503"]
    assert "Retry-After" in error["headers"]
    flips = document["paths"]["/api/v3/checks/{key}/flips"]["get"]
    assert [p["name"] for p in flips["parameters"] if p["in"] == "query"] == [
        "seconds",
        "start",
        "end",
        "limit",
    ]
    signin = document["paths"]["/api/v3/auth/signin"]["post"]
    assert signin["security"] == []


def test_two_views_of_the_same_name_or_a_link_to_nowhere_fail_the_build() -> None:
    first, second = Blueprint("first"), Blueprint("second")

    @first.route("/api/v3/a", methods=["GET"])
    @openapi.documented("a", links={"Next": openapi.Link("nowhere", {"x": "$response.body#/x"})})
    def thing() -> Response:
        return Response(body="")

    small = Chalice(app_name="dangling")
    small.register_blueprint(first)
    with pytest.raises(openapi.DocumentError, match="links to operations that do not exist"):
        openapi.build(small)

    @second.route("/api/v3/b", methods=["GET"])
    @openapi.documented("b")
    def thing_again() -> Response:
        return Response(body="")

    thing_again.__name__ = "thing"
    twice = Chalice(app_name="twice")
    twice.register_blueprint(second, url_prefix="")
    twice.register_blueprint(second, name_prefix="other", url_prefix="/x")
    with pytest.raises(openapi.DocumentError, match="used twice"):
        openapi.build(twice)
