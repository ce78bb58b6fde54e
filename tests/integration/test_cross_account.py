"""Nobody sees or touches another account's data: walk EVERY route of the app (taken
from app.app.routes, so a new route is covered the day it is added) with a second
account's credentials and the first account's ids, on SQLite and MariaDB.

Expected: 404 (the object or project "does not exist" for the caller), 401 where the
route does not take that kind of credential, and never any of the first account's data.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import insert, select
from srvpulse.adapters.sql.tables import anomalies, checks
from srvpulse.domain.model import PingKind, PingMessage
from srvpulse.services.accounts import csrf_token_for
from srvpulse.services.ingesting import ingest_ping
from srvpulse.services.tokens import digest

import app as chalice_app

from .account_helpers import SESSION, Browser, Env, body, env, register, smtp, verify

__all__ = ["env", "smtp"]  # fixtures

# Routes anyone may call without credentials (sign-up, sign-in, reset). Every other
# route must answer 401 to an anonymous caller. Add a route here only on purpose.
PUBLIC_ROUTES = {
    "/api/v3/auth/register",
    "/api/v3/auth/signin",
    "/api/v3/auth/signin/totp",
    "/api/v3/auth/password-reset",
    "/api/v3/auth/password-reset/confirm",
    "/api/v3/auth/verify-email",  # the mailed link may be opened in any browser
}
# Public and the same for everyone (no account data): the OpenAPI document.
PUBLIC_DOCUMENTS = {"/api/v3/openapi.json", *(f"/api/v{v}/status" for v in (1, 2, 3))}
# Listings that need query parameters (a 400 naming them holds no one's data).
QUERY_REQUIRED = {"/api/v3/schedule-preview"}
# Healthchecks' capability URLs (badges, Prometheus metrics): the key in the path is the
# credential, so they are tested on their own below.
CAPABILITY_ROUTES = {
    "/badge/{key}/{filename}",
    "/badge/{key}/{sig}/{filename}",
    "/b/{states}/{filename}",
    "/projects/{project}/metrics/{key}",
    "/projects/{project}/metrics",
}

# Routes authenticated by X-Api-Key or session + X-Project (chalicelib/http.py's
# require_api_key); the account and project-management routes take sessions only.
PROJECT_SCOPED = tuple(
    f"/api/v{v}/{area}" for v in (1, 2, 3) for area in ("checks", "channels", "maintenance")
)

ALICE_SECRETS = (
    "alice-secret-job",
    "alice-secret-report",
    "alice-secret-channel",
    "alice-secret-anomaly",
    "ops@alice.test",
    "alice@example.com",
    "alice-secret-window",
)


@dataclass
class World:
    env: Env
    alice_ids: dict[str, str]  # path parameter -> Alice's object id
    alice_project: str
    alice_markers: tuple[str, ...]
    bob_id: int
    bob_project: str
    bob_key: str


def _fill(route: str, ids: dict[str, str]) -> str:
    """Put Alice's ids into a route's {parameters}, chosen by the segment before each."""

    def one(match: re.Match[str]) -> str:
        before = route[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        name = f"{before}/{match.group(1)}"
        if name not in ids:
            pytest.fail(f"no id of the first account for {{{match.group(1)}}} in {route}: add one")
        return ids[name]

    return re.sub(r"\{(\w+)\}", one, route)


@pytest.fixture
def world(env: Env) -> World:
    alice = register(env, "alice@example.com")
    verify(env, "alice@example.com")  # she invites Bob in a test below
    project = body(alice.get("/api/v3/projects"))["projects"][0]["uuid"]
    created = alice.post(f"/api/v3/projects/{project}/keys", {"name": "alice-key"})
    key_id, alice_key = body(created)["id"], body(created)["key"]
    check = alice.client.http.post(
        "/api/v3/checks",
        headers={"X-Api-Key": alice_key, "Content-Type": "application/json"},
        body=json.dumps({"name": "alice-secret-job"}),
    )
    assert check.status_code == 201, check.body
    check_uuid = body(check)["uuid"]
    ingest_ping(
        env.runtime.check_store,
        PingMessage(
            ping_id=str(uuid.uuid4()),
            received_at=env.clock.now,
            kind=PingKind.SUCCESS,
            check_uuid=check_uuid,
            body="alice-secret-report",
        ),
    )
    ping_key = body(alice.get(f"/api/v3/projects/{project}/ping-key"))["ping_key"]
    channel = alice.client.http.post(
        "/api/v3/channels",
        headers={"X-Api-Key": alice_key, "Content-Type": "application/json"},
        body=json.dumps(
            {"kind": "email", "name": "alice-secret-channel", "config": {"to": "ops@alice.test"}}
        ),
    )
    assert channel.status_code == 201, channel.body
    channel_id = body(channel)["id"]
    assigned = alice.client.http.put(
        f"/api/v3/checks/{check_uuid}/channels/{channel_id}",
        headers={"X-Api-Key": alice_key, "Content-Type": "application/json"},
        body=b"{}",
    )
    assert assigned.status_code in (200, 201, 204), assigned.body

    window = alice.client.http.post(
        "/api/v3/maintenance",
        headers={"X-Api-Key": alice_key, "Content-Type": "application/json"},
        body=json.dumps({"name": "alice-secret-window", "schedule": "0 2 * * *", "duration": 3600}),
    )
    assert window.status_code == 201, window.body
    window_uuid = body(window)["uuid"]

    anomaly_uuid = str(uuid.uuid4())
    with env.runtime.engine.begin() as conn:
        check_id = conn.execute(select(checks.c.id).where(checks.c.uuid == check_uuid)).scalar()
        conn.execute(
            insert(anomalies).values(
                uuid=anomaly_uuid,
                check_id=check_id,
                kind="duration_long",
                created=env.clock.now,
                run_started=env.clock.now,
                explanation="alice-secret-anomaly",
                facts="{}",
            )
        )

    bob = register(env, "bob@example.com")
    verify(env, "bob@example.com")
    bob_project = body(bob.get("/api/v3/projects"))["projects"][0]["uuid"]
    bob_key = body(bob.post(f"/api/v3/projects/{bob_project}/keys", {"name": "bob"}))["key"]
    bob_user = env.runtime.account_stores.users.user_by_email("bob@example.com")
    assert bob_user is not None

    ids = {
        "projects/project": project,
        "checks/key": check_uuid,
        "checks/check": check_uuid,
        "channels/channel": channel_id,
        "keys/key_id": str(key_id),
        "pings/n": "1",
        "maintenance/uuid": window_uuid,
        "anomalies/anomaly": anomaly_uuid,
    }
    markers = (
        *ALICE_SECRETS, check_uuid, channel_id, window_uuid, anomaly_uuid, ping_key, alice_key
    )  # fmt: skip
    return World(env, ids, project, markers, bob_user.id, bob_project, bob_key)


def _bob_session(w: World) -> str:
    """A fresh session of Bob's for each request, so routes that sign out cannot
    change what the next request sees."""
    token = secrets.token_urlsafe(32)
    w.env.runtime.account_stores.sessions.create_session(
        digest(token), w.bob_id, True, w.env.clock.now, "127.0.0.1", "test"
    )
    return token


def _call(w: World, method: str, path: str, credential: str, project: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if credential == "key":
        headers["X-Api-Key"] = w.bob_key
    elif credential == "session":
        token = _bob_session(w)
        headers["Cookie"] = f"{SESSION}={token}"
        headers["X-CSRF-Token"] = csrf_token_for(token)
        if project:
            headers["X-Project"] = project
    body_bytes = b"{}" if method in ("POST", "PUT", "PATCH") else b""
    return w.env.client.http.request(method, path, headers=headers, body=body_bytes)


def _routes() -> list[tuple[str, str]]:
    return sorted(
        (path, method) for path, methods in chalice_app.app.routes.items() for method in methods
    )


def _assert_no_data(w: World, response: Any, what: str) -> None:
    text = response.body.decode(errors="replace")
    leaked = [m for m in w.alice_markers if m in text]
    assert not leaked, f"{what}: leaked {leaked} in {text[:300]}"


def test_the_walk_covers_every_route_of_the_app() -> None:
    routes = _routes()
    assert ("/api/v3/checks/{key}", "DELETE") in routes
    assert ("/api/v3/projects/{project}/keys/{key_id}", "DELETE") in routes
    assert len(routes) >= 30


def test_anonymous_callers_get_401_everywhere_but_the_sign_in_routes(world: World) -> None:
    failures = []
    for path, method in _routes():
        if path in CAPABILITY_ROUTES:
            continue
        filled = _fill(path, world.alice_ids)
        r = _call(world, method, filled, "none", None)
        _assert_no_data(world, r, f"anonymous {method} {filled}")
        expected = {400, 401} if path in PUBLIC_ROUTES else {401}
        if path in PUBLIC_DOCUMENTS:
            expected = {200}
        if r.status_code not in expected:
            failures.append(f"{method} {filled}: {r.status_code} {r.body[:120]!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("credential", ["key", "session"])
def test_a_second_account_gets_404_for_the_first_accounts_ids(
    world: World, credential: str
) -> None:
    """Bob, with his own key or his own session (acting in his own project), asks for
    Alice's project, checks, pings and keys by id."""
    failures = []
    for path, method in _routes():
        if "{" not in path or path in CAPABILITY_ROUTES:
            continue
        filled = _fill(path, world.alice_ids)
        r = _call(world, method, filled, credential, world.bob_project)
        _assert_no_data(world, r, f"{credential} {method} {filled}")
        session_only = not path.startswith(PROJECT_SCOPED)
        allowed = {401} if credential == "key" and session_only else {404}
        if r.status_code not in allowed:
            failures.append(f"{method} {filled}: {r.status_code} {r.body[:120]!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "path",
    [
        "/badge/0123456789abcdef0123456789abcdef/00000000.json",
        "/badge/0123456789abcdef0123456789abcdef/00000000-2/prod.svg",
        "/b/2/00000000-0000-0000-0000-000000000000.shields",
        "/b/7/00000000-0000-0000-0000-000000000000.svg",
        "/projects/{project}/metrics/wrong-key-0123456789abcdefghijk",
        "/projects/{project}/metrics",
    ],
)
def test_capability_urls_with_a_made_up_key_show_nothing(world: World, path: str) -> None:
    filled = path.replace("{project}", world.alice_project)
    for credential in ("none", "key"):
        r = _call(world, "GET", filled, credential, None)
        _assert_no_data(world, r, f"{credential} GET {filled}")
        assert r.status_code in (401, 404), (credential, filled, r.status_code)


def test_a_second_account_cannot_act_in_the_first_accounts_project_by_naming_it(
    world: World,
) -> None:
    """Bob's session with X-Project set to Alice's project: every project-scoped route
    (all of /api/v3 outside the account and project management routes) answers 404."""
    failures = []
    for path, method in _routes():
        if not path.startswith(PROJECT_SCOPED):
            continue
        filled = _fill(path, world.alice_ids)
        r = _call(world, method, filled, "session", world.alice_project)
        _assert_no_data(world, r, f"X-Project {method} {filled}")
        if r.status_code != 404:
            failures.append(f"{method} {filled}: {r.status_code} {r.body[:120]!r}")
    assert not failures, "\n".join(failures)


def test_listings_show_a_second_account_only_its_own_data(world: World) -> None:
    for path, method in _routes():
        if method != "GET" or "{" in path:
            continue
        for credential in ("key", "session"):
            r = _call(world, method, path, credential, world.bob_project)
            _assert_no_data(world, r, f"{credential} GET {path}")
            expected = (200, 400, 401) if path in QUERY_REQUIRED else (200, 401)
            assert r.status_code in expected, f"{credential} GET {path}: {r.status_code}"


def test_a_members_session_works_on_the_checks_api_like_a_key(world: World) -> None:
    w = world
    bob = Browser(w.env.client)
    r = bob.post(
        "/api/v3/auth/signin", {"email": "bob@example.com", "password": "correct horse battery"}
    )
    assert r.status_code == 200
    mine = {"X-Project": w.bob_project}
    created = bob.post("/api/v3/checks", {"name": "bob-job"}, headers=mine)
    assert created.status_code == 201, created.body
    listed = body(bob.get(f"/api/v3/checks?project={w.bob_project}"))["checks"]
    assert [c["name"] for c in listed] == ["bob-job"]
    no_project = bob.get("/api/v3/checks")
    assert no_project.status_code == 400
    assert body(no_project)["field"] == "project"
    no_csrf = bob.post("/api/v3/checks", {"name": "x"}, headers=mine, csrf=False)
    assert no_csrf.status_code == 403


def test_a_read_only_member_can_read_but_not_change_a_shared_project(world: World) -> None:
    w = world
    alice = Browser(w.env.client)
    alice.post(
        "/api/v3/auth/signin", {"email": "alice@example.com", "password": "correct horse battery"}
    )
    project = w.alice_project
    invited = alice.post(
        f"/api/v3/projects/{project}/members", {"email": "bob@example.com", "role": "readonly"}
    )
    assert invited.status_code == 201
    assert w.env.mail.to("bob@example.com")
    bob = Browser(w.env.client)
    bob.post(
        "/api/v3/auth/signin", {"email": "bob@example.com", "password": "correct horse battery"}
    )
    roles = {p["uuid"]: p["role"] for p in body(bob.get("/api/v3/projects"))["projects"]}
    assert roles[project] == "readonly"
    shared = {"X-Project": project}
    checks = body(bob.get("/api/v3/checks", headers=shared))["checks"]
    assert [c["name"] for c in checks] == ["alice-secret-job"]
    assert bob.post("/api/v3/checks", {"name": "x"}, headers=shared).status_code == 403
    assert bob.get(f"/api/v3/projects/{project}/keys").status_code == 403
    assert bob.post(f"/api/v3/projects/{project}", {"name": "mine"}).status_code == 403
    assert bob.get(f"/api/v3/projects/{project}/members").status_code == 200
    removed = alice.post(f"/api/v3/projects/{project}/members/remove", {"email": "bob@example.com"})
    assert removed.status_code == 204
    assert bob.get("/api/v3/checks", headers=shared).status_code == 404
