"""Pinging as a Healthchecks user meets it: `curl -fsS` notices a typo (404), a new
slug with ?create=1 answers 201, answers are never cached, and the client address is
the one the proxy saw."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.compat.conftest import eventually
from tests.e2e.local_mode import LocalMode

pytestmark = pytest.mark.e2e


def _check(api: httpx.Client, **fields: object) -> dict[str, object]:
    r = api.post("/api/v3/checks/", json={"name": f"p-{uuid.uuid4().hex[:8]}", **fields})
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


def test_a_check_is_pingable_the_moment_its_creation_is_answered(
    api: httpx.Client, hc: LocalMode
) -> None:
    check = _check(api)
    r = httpx.get(f"{hc.base}/ping/{check['uuid']}")
    assert (r.status_code, r.text) == (200, "OK")


@pytest.mark.parametrize("suffix", ["", "/start", "/fail", "/log", "/0", "/3"])
def test_an_unknown_uuid_is_404_not_found(hc: LocalMode, suffix: str) -> None:
    r = httpx.get(f"{hc.base}/ping/{uuid.uuid4()}{suffix}")
    assert (r.status_code, r.text) == (404, "not found")


def test_a_deleted_check_is_404_afterwards(api: httpx.Client, hc: LocalMode) -> None:
    check = _check(api)
    assert api.delete(f"/api/v3/checks/{check['uuid']}").status_code == 200
    assert httpx.get(f"{hc.base}/ping/{check['uuid']}").status_code == 404


def test_slug_urls_are_404_for_an_unknown_slug_or_a_wrong_ping_key(
    api: httpx.Client, hc: LocalMode
) -> None:
    slug = f"s-{uuid.uuid4().hex[:8]}"
    _check(api, slug=slug)
    key = hc.ping_key()
    assert httpx.get(f"{hc.base}/ping/{key}/{slug}").status_code == 200
    assert httpx.get(f"{hc.base}/ping/{key}/{slug}-typo").status_code == 404
    assert httpx.get(f"{hc.base}/ping/wrongkey{key[8:]}/{slug}").status_code == 404
    renamed = f"{slug}-renamed"
    check = api.get("/api/v3/checks/", params={"slug": slug}).json()["checks"][0]
    assert api.post(f"/api/v3/checks/{check['uuid']}", json={"slug": renamed}).status_code == 200
    assert httpx.get(f"{hc.base}/ping/{key}/{renamed}").status_code == 200
    assert httpx.get(f"{hc.base}/ping/{key}/{slug}").status_code == 404


def test_create_1_on_a_new_slug_answers_201_created_and_makes_the_check(
    api: httpx.Client, hc: LocalMode
) -> None:
    slug = f"auto-{uuid.uuid4().hex[:8]}"
    key = hc.ping_key()
    r = httpx.get(f"{hc.base}/ping/{key}/{slug}?create=1")
    assert (r.status_code, r.text) == (201, "Created")
    made = eventually(
        lambda: api.get("/api/v3/checks/", params={"slug": slug}).json()["checks"],
        lambda found: len(found) == 1,
    )
    assert made[0]["n_pings"] == 1
    # The edge learns a slug made by ingest within its refresh (docs: consistency window).
    log = eventually(
        lambda: httpx.get(f"{hc.base}/ping/{key}/{slug}/log").status_code, lambda s: s == 200
    )
    assert log == 200
    again = httpx.get(f"{hc.base}/ping/{key}/{slug}/start?create=1")
    assert (again.status_code, again.text) == (200, "OK")
    assert httpx.get(f"{hc.base}/ping/wrong{key[5:]}/{slug}?create=1").status_code == 404


def test_an_upper_case_slug_is_400_and_a_path_that_is_no_ping_url_404(hc: LocalMode) -> None:
    key = hc.ping_key()
    assert httpx.get(f"{hc.base}/ping/{key}/Backups").status_code == 400
    assert httpx.get(f"{hc.base}/ping/{key}/Backups?create=1").status_code == 400
    assert httpx.get(f"{hc.base}/ping/not-a-uuid").status_code == 404
    assert httpx.get(f"{hc.base}/ping/{uuid.uuid4()}/restart").status_code == 404
    assert httpx.get(f"{hc.base}/ping/{uuid.uuid4()}/256").status_code == 400


def test_ping_answers_are_never_cached(api: httpx.Client, hc: LocalMode) -> None:
    check = _check(api)
    for url in (f"{hc.base}/ping/{check['uuid']}", f"{hc.base}/ping/{uuid.uuid4()}"):
        assert "no-cache" in httpx.get(url).headers["cache-control"]


def test_the_address_and_scheme_a_trusted_proxy_forwards_are_recorded(
    api: httpx.Client, hc: LocalMode
) -> None:
    check = _check(api)
    headers = {"X-Forwarded-For": "203.0.113.9, 10.0.0.1", "X-Forwarded-Proto": "https"}
    assert httpx.get(f"{hc.base}/ping/{check['uuid']}", headers=headers).status_code == 200
    assert httpx.get(f"{hc.base}/ping/{check['uuid']}/log").status_code == 200
    pings = eventually(
        lambda: api.get(f"/api/v3/checks/{check['uuid']}/pings/").json()["pings"],
        lambda found: len(found) == 2,
    )
    direct, forwarded = pings
    assert (forwarded["remote_addr"], forwarded["scheme"]) == ("203.0.113.9", "https")
    assert (direct["remote_addr"], direct["scheme"]) == ("127.0.0.1", "http")


def test_keyword_filtering_takes_a_check_down_for_something_bad_in_the_body(
    api: httpx.Client, hc: LocalMode
) -> None:
    check = _check(
        api, filter_http_body=True, success_kw="SUCCESS", failure_kw="something bad", subject="x"
    )
    assert check["filter_http_body"] is True and check["failure_kw"] == "something bad"
    assert (check["subject"], check["success_kw"], check["filter_subject"]) == ("x", "x", True)
    code = check["uuid"]
    assert httpx.post(f"{hc.base}/ping/{code}", content=b"x: SUCCESS").status_code == 200
    up = eventually(lambda: api.get(f"/api/v3/checks/{code}").json(), lambda c: c["n_pings"] == 1)
    assert up["status"] == "up"
    assert httpx.post(f"{hc.base}/ping/{code}", content=b"something bad").status_code == 200
    down = eventually(lambda: api.get(f"/api/v3/checks/{code}").json(), lambda c: c["n_pings"] == 2)
    assert down["status"] == "down"
    assert httpx.post(f"{hc.base}/ping/{code}", content=b"no keyword").status_code == 200
    pings = eventually(
        lambda: api.get(f"/api/v3/checks/{code}/pings/").json()["pings"], lambda p: len(p) == 3
    )
    assert [p["type"] for p in pings] == ["ign", "fail", "success"]
