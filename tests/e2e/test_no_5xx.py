"""No 5xx on any input: schemathesis over the OpenAPI document and a random fuzzer over
the ping URLs, against the local mode started as a subprocess (the real HTTP server,
gateway, app and database). Both fail on any 5xx or an answer slower than 5 s.

Bounded and reproducible: a fixed number of examples per operation, derandomized
(the same examples every run), a seeded generator for the ping URLs.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.local_mode import API_KEY, ROOT, LocalMode, running_local_mode

pytestmark = pytest.mark.e2e

DOCUMENT = ROOT / "frontend" / "src" / "api" / "openapi.json"
SCHEMA = schemathesis.openapi.from_path(DOCUMENT)
SLOW = 5.0  # seconds: any answer slower than this fails the run
EXAMPLES = 8  # per operation and credential
PASSWORD = "fuzzing passphrase 42"


def answers_quickly(ctx: Any, response: Any, case: Any) -> bool | None:
    assert response.elapsed < SLOW, f"{case.method} {case.path}: {response.elapsed:.1f} s"
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    answers_quickly,
]


@dataclass
class Target:
    """The running local mode with both credentials and a few real resources, whose ids
    replace the fuzzer's path parameters, so requests reach the code behind the 404."""

    mode: LocalMode
    session_headers: dict[str, str]
    ids: dict[str, str]
    # Signing out ends a session: those operations get a session of their own.
    throwaway_session: dict[str, str]
    stale: bool = True

    def session_for(self, case: Any) -> dict[str, str]:
        ends_session = case.path in ("/api/v3/auth/signout", "/api/v3/auth/signout-everywhere")
        return self.throwaway_session if ends_session else self.session_headers

    def refresh(self) -> None:
        """Recreate what an earlier DELETE may have deleted (once per operation at most:
        each costs a few requests)."""
        if not self.stale:
            return
        self.stale = False
        api = self.mode.api
        checks = api.get("/api/v3/checks/").json()["checks"]
        if not checks:
            made = api.post("/api/v3/checks/", json={"name": "fuzzed", "slug": "fuzzed"})
            checks = [made.json()]
        check = checks[0]["uuid"]
        channels = api.get("/api/v3/channels").json()["channels"]
        if not channels:
            channels = [
                api.post(
                    "/api/v3/channels", json={"kind": "email", "config": {"to": "a@example.com"}}
                ).json()
            ]
        windows = api.get("/api/v3/maintenance").json()["windows"]
        if not windows:
            windows = [
                api.post(
                    "/api/v3/maintenance",
                    json={"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-02T00:00:00Z"},
                ).json()
            ]
        self.ids.update(key=check, check=check, channel=channels[0]["id"], uuid=windows[0]["uuid"])
        # Project routes get a scratch project (the fuzzer may delete it), never the
        # default project whose API key the other run uses.
        http, session = self.mode.http, self.session_headers
        projects = http.get("/api/v3/projects", headers=session).json()["projects"]
        scratch = [p["uuid"] for p in projects if p["name"] == "scratch"]
        if not scratch:
            made = http.post("/api/v3/projects", json={"name": "scratch"}, headers=session)
            scratch = [made.json()["uuid"]]
        self.ids["project"] = scratch[0]
        if self.mode.http.get("/api/v3/account", headers=self.session_headers).status_code != 200:
            self.session_headers.update(_sign_in(self.mode))


def _sign_in(mode: LocalMode) -> dict[str, str]:
    r = mode.http.post(
        "/api/v3/auth/signin", json={"email": "owner@example.com", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    mode.http.cookies.clear()  # sent explicitly, per credential
    return _session_headers(r)


def _session_headers(r: httpx.Response) -> dict[str, str]:
    cookie = "; ".join(f"{k}={v}" for k, v in r.cookies.items())
    return {"Cookie": cookie, "X-CSRF-Token": r.json()["csrf_token"]}


def _account(mode: LocalMode, email: str) -> dict[str, str]:
    """Register (the answer is the same for any address) and sign in with the password,
    which works before the address is confirmed."""
    r = mode.http.post("/api/v3/auth/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 202, r.text
    r = mode.http.post("/api/v3/auth/signin", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    mode.http.cookies.clear()  # sent explicitly, per credential
    return _session_headers(r)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with running_local_mode(tmp_path_factory.mktemp("fuzz")) as mode:
        # The first account registered owns the default project (the API key's).
        headers = _account(mode, "owner@example.com")
        # The session acts in the API key's project: the one that sees the key's check.
        marker = mode.api.post("/api/v3/checks/", json={"name": "fuzzed", "slug": "fuzzed"})
        projects = mode.http.get("/api/v3/projects", headers=headers).json()["projects"]
        for project in projects:
            scoped = {**headers, "X-Project": project["uuid"]}
            seen = mode.http.get("/api/v3/checks/", headers=scoped)
            if seen.status_code == 200 and seen.json()["checks"]:
                headers["X-Project"] = project["uuid"]
        assert "X-Project" in headers and marker.status_code == 201
        found = Target(mode, headers, {}, _account(mode, "other@example.com"))
        found.refresh()
        yield found
        assert "Traceback" not in mode.output(), mode.output()[-5000:]


def _with_real_ids(case: Any, target: Target) -> None:
    for name in list(case.path_parameters or {}):
        if name in target.ids:
            case.path_parameters[name] = target.ids[name]


_SETTINGS: dict[str, Any] = {
    "max_examples": EXAMPLES,
    "derandomize": True,
    "database": None,
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
}
# With an API key, also schemathesis' coverage cases (boundary values of every field,
# missing and extra fields, wrong methods: Hypothesis' explicit phase); with a session,
# random cases only (the same code behind another credential).
_FUZZ = settings(**_SETTINGS, phases=[Phase.explicit, Phase.generate])
_FUZZ_RANDOM_ONLY = settings(**_SETTINGS, phases=[Phase.generate])


def _call(case: Any, target: Target, headers: dict[str, str]) -> None:
    target.refresh()
    _with_real_ids(case, target)
    try:
        case.call_and_validate(base_url=target.mode.base, headers=headers, checks=CHECKS)
    finally:
        if case.method == "DELETE":
            target.stale = True


@SCHEMA.parametrize()
@_FUZZ
def test_with_an_api_key_no_operation_answers_5xx_or_off_its_document(
    case: Any, target: Target
) -> None:
    target.refresh()
    _with_real_ids(case, target)
    case.call_and_validate(base_url=target.mode.base, headers={"X-Api-Key": API_KEY}, checks=CHECKS)


@SCHEMA.parametrize()
@_FUZZ
def test_with_a_session_no_operation_answers_5xx_or_off_its_document(
    case: Any, target: Target
) -> None:
    target.refresh()
    _with_real_ids(case, target)
    case.call_and_validate(
        base_url=target.mode.base, headers=target.session_for(case), checks=CHECKS
    )


# --- the ping URLs ------------------------------------------------------------------------

PING_REQUESTS = 1000


def _random_text(rng: random.Random) -> str:
    alphabet = ["a", "é", "\u2028", "\x00", "%", "/", "?", "#", " ", "😀", "\ud800", "\\"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def _ping_request(
    rng: random.Random, check: str, ping_key: str
) -> tuple[str, str, dict[str, str], bytes]:
    base = rng.choice(
        [
            f"/ping/{check}",
            f"/ping/{uuid.uuid4()}",
            f"/ping/{ping_key}/fuzzed",
            f"/ping/{ping_key}/{_random_text(rng)}",
            f"/ping/{_random_text(rng)}",
            "/ping/",
        ]
    )
    suffix = rng.choice(
        [
            "",
            "/start",
            "/fail",
            "/log",
            f"/{rng.randint(-5, 300)}",
            "/" + _random_text(rng),
            "/start/x",
        ]
    )
    query = rng.choice(
        [
            "",
            "?rid=" + str(uuid.uuid4()),
            "?rid=" + _random_text(rng),
            "?create=1",
            "?create=x&rid=",
        ]
    )
    method = rng.choice(["GET", "POST", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"])
    headers: dict[str, str] = {}
    body = b""
    kind = rng.randrange(8)
    if kind == 0:
        headers["Content-Type"] = "application/json"
        body = json.dumps(
            {
                "status": rng.choice([0, 1, "fail", "ok", 256, -1, None, [], 1.5]),
                "summary": _random_text(rng),
                "report": _random_text(rng),
            }
        ).encode("utf-8", "surrogatepass")
    elif kind == 1:
        headers["Content-Type"] = "application/json"
        depth = rng.choice([10, 1000, 5000])
        body = (rng.choice(['{"a":', "["]) * depth).encode()
    elif kind == 2:
        headers["Content-Type"] = "application/json"
        body = b'{"status":0,"report":"\\ud800","summary":"ok \\ud83d"}'
    elif kind == 3:
        body = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
    elif kind == 4:
        headers["Content-Type"] = rng.choice(
            ["text/plain; charset=latin-1", "application/json; charset=utf-16", "*/*"]
        )
        body = _random_text(rng).encode("utf-8", "surrogatepass")
    # Sent percent-encoded as UTF-8 (lone surrogates too: "%ED%A0%80").
    url = quote(base + suffix + query, safe="/?=&%", errors="surrogatepass")
    return method, url, headers, body


def test_random_requests_to_the_ping_urls_never_get_a_5xx_or_a_slow_answer(target: Target) -> None:
    rng = random.Random(20261201)
    ping_key = target.mode.ping_key()
    failures: list[str] = []
    with httpx.Client(base_url=target.mode.base, timeout=30) as client:
        for _ in range(PING_REQUESTS):
            method, url, headers, body = _ping_request(rng, target.ids["check"], ping_key)
            try:
                r = client.request(method, url, headers=headers, content=body)
            except httpx.HTTPError as exc:
                failures.append(f"{method} {url!r}: {exc!r}")
                continue
            took = r.elapsed.total_seconds()
            if r.status_code >= 500 or took >= SLOW:
                answer = f"{r.status_code} in {took:.1f} s {r.text[:100]!r}"
                failures.append(f"{method} {url!r} {body[:60]!r}: {answer}")
    assert not failures, f"{len(failures)} of {PING_REQUESTS}:\n" + "\n".join(failures[:20])


# --- sequences along the document's links ---------------------------------------------------


def test_sequences_following_the_documents_links_never_get_a_5xx(target: Target) -> None:
    """Create a check, channel or window, then use its id (the document's links): the
    calls that need a real resource reach it, in random orders (delete, then edit...)."""

    class Sequences(SCHEMA.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": target.mode.base, "headers": {"X-Api-Key": API_KEY}}

        def validate_response(self, response: Any, case: Any, *args: Any, **kw: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    run_state_machine_as_test(
        Sequences,
        settings=settings(
            max_examples=10,
            stateful_step_count=6,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
