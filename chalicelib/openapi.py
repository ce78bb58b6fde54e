"""The OpenAPI 3.1 document of every route the Chalice app serves, built from the app's
route table and the pydantic models and TypedDicts the routes use.

Each route says what it takes and answers with ``@documented`` (right under
``@bp.route``): a summary, the request body model (the one ``parse_body`` validates
with), the query model (the one ``parse_query`` validates with), the answer's type
(chalicelib/schemas.py) and status, who may call it, and extra error codes. ``build``
walks ``app.routes``, so a new route without ``@documented`` fails the build (and the
test that compares the document with the committed copy) instead of silently missing.

Served at ``GET /api/v3/openapi.json`` (no authentication); the dashboard's generated
client reads the committed copy, frontend/src/api/openapi.json, written by
``make openapi`` (``python -m chalicelib.openapi frontend/src/api/openapi.json``;
``--check`` only compares).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from chalice.app import Blueprint, Chalice, Response
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from . import schemas
from .session_auth import CSRF_COOKIE, PROJECT_HEADER, SESSION_COOKIE

OPENAPI_VERSION = "3.1.0"
DOCUMENT_PATH = "/api/v3/openapi.json"
REF_TEMPLATE = "#/components/schemas/{model}"

Auth = Literal["api_key", "session", "none"]
F = TypeVar("F", bound=Callable[..., Any])

_ERROR_TEXT = {
    400: "Bad input: the message names the field",
    401: "Not authenticated",
    403: "Not allowed (read-only key or member, missing CSRF token)",
    404: "Not found (or not yours)",
    409: "Conflict with the current state (e.g. a slug another check has)",
    413: "Request body too large",
    415: "The body must be JSON (Content-Type: application/json)",
    429: "Too many attempts: retry after Retry-After seconds",
    503: "Temporarily unavailable (e.g. the database): retry after Retry-After seconds",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer", "minimum": 1},
    }
}
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True, slots=True)
class Link:
    """An OpenAPI link: ``parameters`` maps the target's parameter names to runtime
    expressions such as ``$response.body#/uuid`` (used by the stateful fuzzer)."""

    operation: str
    parameters: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Operation:
    summary: str
    ok: Any = None  # the success answer's type; None: no body
    status: int = 200
    also: tuple[int, ...] = ()  # other success statuses with the same answer
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    auth: Auth = "api_key"
    errors: tuple[int, ...] = ()
    content_type: str = "application/json"
    description: str = ""
    links: Mapping[str, Link] = field(default_factory=dict)


def documented(
    summary: str,
    *,
    method: str | None = None,
    ok: Any = None,
    status: int = 200,
    also: tuple[int, ...] = (),
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    auth: Auth = "api_key",
    errors: tuple[int, ...] = (),
    content_type: str = "application/json",
    description: str = "",
    links: Mapping[str, Link] | None = None,
) -> Callable[[F], F]:
    """Describe a route for the OpenAPI document. A view serving several methods
    stacks one ``@documented(method=...)`` per method."""
    op = Operation(
        summary=summary,
        ok=ok,
        status=status,
        also=also,
        body=body,
        query=query,
        auth=auth,
        errors=errors,
        content_type=content_type,
        description=description,
        links=dict(links or {}),
    )

    def mark(view: F) -> F:
        ops: dict[str | None, Operation] = dict(getattr(view, "__openapi__", {}))
        ops[method.upper() if method else None] = op
        view.__openapi__ = ops  # type: ignore[attr-defined]
        return view

    return mark


class DocumentError(Exception):
    """The app cannot be described truthfully: see the message."""


class UndocumentedRoute(DocumentError):
    """A route of the app has no ``@documented``."""


def _operation_of(view: Callable[..., Any], method: str) -> Operation | None:
    ops: Mapping[str | None, Operation] = getattr(view, "__openapi__", {})
    return ops.get(method) or ops.get(None)


# The Healthchecks routes app.py also mounts under /api/v1 and /api/v2: the same
# operations for old clients, documented once, under /api/v3.
ALIAS_PREFIXES = ("/api/v1/", "/api/v2/")


def routes(app: Chalice) -> list[tuple[str, str]]:
    """Every (path, method) the app serves, but for the /api/v1 and /api/v2 aliases."""
    return sorted(
        (path, method)
        for path, methods in app.routes.items()
        if not path.startswith(ALIAS_PREFIXES)
        for method in methods
    )


class _NoFieldTitles(GenerateJsonSchema):
    """Models keep their titles; fields do not repeat their own name as one."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


class _Schemas:
    """Collects the types the document refers to and renders them in one pass, so
    nested models become shared ``components.schemas`` entries."""

    def __init__(self) -> None:
        self._wanted: dict[tuple[str, str], TypeAdapter[Any]] = {}

    def want(self, tp: Any, mode: Literal["validation", "serialization"]) -> tuple[str, str]:
        key = (_type_name(tp), mode)
        self._wanted.setdefault(key, TypeAdapter(tp))
        return key

    def render(self) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        inputs = [(key, key[1], adapter) for key, adapter in self._wanted.items()]
        # The answer is keyed by (our key, mode); our key already names the type.
        by_key, defs = TypeAdapter.json_schemas(
            inputs,  # type: ignore[arg-type]
            ref_template=REF_TEMPLATE,
            schema_generator=_NoFieldTitles,
        )  # type: ignore[arg-type]
        return {k[0][0]: v for k, v in by_key.items()}, defs.get("$defs", {})


def _type_name(tp: Any) -> str:
    return str(getattr(tp, "__qualname__", None) or repr(tp))


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"\{([^}+]+)\+?\}", path)
    ]


def _security(auth: Auth, method: str) -> list[dict[str, list[str]]]:
    if auth == "none":
        return []
    session: dict[str, list[str]] = {"Session": []}
    if method in _UNSAFE:
        session["Csrf"] = []
    return [{"ApiKey": []}, session] if auth == "api_key" else [session]


def _error_codes(op: Operation, path: str, method: str, content_types: list[str]) -> list[int]:
    codes = set(op.errors) | {503}
    if method in _UNSAFE and "*/*" not in content_types:
        codes.add(415)  # Chalice refuses other content types before the view runs
    if op.auth != "none":
        codes |= {401, 403}
    if op.body is not None or op.query is not None or "{" in path:
        codes.add(400)
    if "{" in path or op.auth != "none":
        # An unknown id, or (session auth) a project the caller is not a member of.
        codes.add(404)
    if method in _UNSAFE and op.body is not None:
        codes.add(413)
    return sorted(codes)


def _operation_id(app: Chalice, path: str, method: str) -> str:
    """The view function's own name (not Chalice's view_name, which carries a mounted
    blueprint's prefix), suffixed with the method when one view serves several."""
    entry = app.routes[path][method]
    name = str(entry.view_function.__name__)
    shared = [m for m, e in app.routes[path].items() if e.view_function is entry.view_function]
    return name if len(shared) == 1 else f"{name}_{method.lower()}"


def _tag(view: Callable[..., Any]) -> str:
    module = str(getattr(view, "__module__", ""))
    return module.rsplit(".", 1)[-1].removeprefix("api_")


def build(app: Chalice) -> dict[str, Any]:
    """The OpenAPI document of ``app``; UndocumentedRoute names any route without
    ``@documented``."""
    schemas_ = _Schemas()
    error_ref = schemas_.want(schemas.ErrorOut, "serialization")
    missing = [
        f"{method} {path}"
        for path, method in routes(app)
        if _operation_of(app.routes[path][method].view_function, method) is None
    ]
    if missing:
        raise UndocumentedRoute(
            "routes without @documented (chalicelib/openapi.py): " + ", ".join(missing)
        )

    # First pass: ask for every schema; second: fill the operations in.
    planned: list[tuple[str, str, Operation, Callable[..., Any]]] = []
    for path, method in routes(app):
        view = app.routes[path][method].view_function
        op = _operation_of(view, method)
        assert op is not None
        if op.body is not None:
            schemas_.want(op.body, "validation")
        if op.query is not None:
            schemas_.want(op.query, "validation")
        if op.ok is not None:
            schemas_.want(op.ok, "serialization")
        planned.append((path, method, op, view))
    rendered, components = schemas_.render()

    paths: dict[str, dict[str, Any]] = {}
    used_errors: set[int] = set()
    for path, method, op, view in planned:
        doc: dict[str, Any] = {
            "operationId": _operation_id(app, path, method),
            "summary": op.summary,
            "tags": [_tag(view)],
        }
        if op.description:
            doc["description"] = op.description
        parameters = _path_parameters(path)
        if op.query is not None:
            query_schema = components[_type_name(op.query)]
            required = set(query_schema.get("required", []))
            for name, prop in query_schema.get("properties", {}).items():
                param: dict[str, Any] = {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": prop,
                }
                if "description" in prop:
                    param["description"] = prop["description"]
                parameters.append(param)
        if op.auth == "api_key":
            parameters.append(
                {
                    "name": PROJECT_HEADER.title(),
                    "in": "header",
                    "required": False,
                    "description": "With a session cookie: the project (uuid) to act in",
                    "schema": {"type": "string"},
                }
            )
        if parameters:
            doc["parameters"] = parameters
        if op.body is not None:
            body_required = bool(components[_type_name(op.body)].get("required"))
            doc["requestBody"] = {
                "required": body_required,
                "content": {"application/json": {"schema": rendered[_type_name(op.body)]}},
            }
        ok: dict[str, Any] = {"description": op.summary}
        if op.ok is not None:
            ok["content"] = {op.content_type: {"schema": rendered[_type_name(op.ok)]}}
        if op.links:
            ok["links"] = {
                name: {"operationId": link.operation, "parameters": dict(link.parameters)}
                for name, link in op.links.items()
            }
        responses: dict[str, Any] = {str(op.status): ok}
        for code in op.also:
            responses[str(code)] = ok
        content_types = list(app.routes[path][method].content_types)
        for code in _error_codes(op, path, method, content_types):
            responses[str(code)] = {"$ref": f"#/components/responses/Error{code}"}
            used_errors.add(code)
        doc["responses"] = responses
        doc["security"] = _security(op.auth, method)
        paths.setdefault(path, {})[method.lower()] = doc

    ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise DocumentError(f"operation ids used twice (rename a view): {twice}")
    dangling = sorted(
        link["operationId"]
        for ops in paths.values()
        for op in ops.values()
        for answer in op["responses"].values()
        for link in answer.get("links", {}).values()
        if link["operationId"] not in ids
    )
    if dangling:
        raise DocumentError(f"links to operations that do not exist: {dangling}")

    error_responses: dict[str, Any] = {}
    for code in sorted(used_errors):
        error: dict[str, Any] = {
            "description": _ERROR_TEXT[code],
            "content": {"application/json": {"schema": rendered[error_ref[0]]}},
        }
        if code in (429, 503):
            error["headers"] = _RETRY_AFTER
        error_responses[f"Error{code}"] = error

    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "srvpulse API",
            "version": "3",
            "description": (
                "The management API (Healthchecks.io's v3 paths and fields, plus srvpulse's) "
                "and the dashboard's account API. Authenticate with X-Api-Key, or with the "
                "session cookie (and X-CSRF-Token on unsafe methods) that sign-in sets. "
                "Errors are JSON: {error, field?}."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": error_responses,
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                "Session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": f"__Host-{SESSION_COOKIE} when served over HTTPS",
                },
                "Csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": f"The value of the {CSRF_COOKIE} cookie (or the sign-in "
                    "answer's csrf_token), on unsafe methods",
                },
            },
        },
    }


def render(document: Mapping[str, Any]) -> str:
    """The document as committed: stable order, 2-space indent, trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- the route serving it -----------------------------------------------------------------

bp = Blueprint(__name__)
_cache: dict[int, str] = {}


@bp.route(DOCUMENT_PATH, methods=["GET"])
@documented("This OpenAPI document", ok=schemas.OpenApiDocument, auth="none")
def openapi_document() -> Response:
    app = bp.current_app
    if id(app) not in _cache:
        _cache[id(app)] = render(build(app))
    return Response(
        body=_cache[id(app)],
        status_code=200,
        headers={"Content-Type": "application/json", "Cache-Control": "no-cache"},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.openapi", description="Write the API's OpenAPI document."
    )
    parser.add_argument(
        "path", type=Path, help="where to write it (e.g. frontend/src/api/openapi.json)"
    )
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if it differs")
    args = parser.parse_args(argv)

    import app as app_module  # the assembled app; imported here, not by the routes

    text = render(build(app_module.app))
    path: Path = args.path
    if args.check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path} ({len(text.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
