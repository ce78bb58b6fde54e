"""The Management API as a Healthchecks user meets it: their clients, scripts and
browser pages keep working against srvpulse's local mode with only the host changed."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.compat.conftest import eventually
from tests.e2e.local_mode import API_KEY, LocalMode

pytestmark = pytest.mark.e2e


def _new(api: httpx.Client, prefix: str = "/api/v3", **fields: object) -> dict[str, object]:
    fields.setdefault("name", f"job-{uuid.uuid4().hex[:8]}")
    r = api.post(f"{prefix}/checks/", json=fields)
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


@pytest.mark.parametrize("version", [1, 2, 3])
def test_every_api_version_serves_the_same_check_routes(
    api: httpx.Client, hc: LocalMode, version: int
) -> None:
    check = _new(api, f"/api/v{version}")
    assert check["update_url"] == f"{hc.base}/api/v{version}/checks/{check['uuid']}"
    listed = api.get(f"/api/v{version}/checks/").json()["checks"]
    assert check["uuid"] in [c["uuid"] for c in listed]
    assert api.get(f"/api/v{version}/checks/{check['uuid']}").status_code == 200
    assert api.post(f"/api/v{version}/checks/{check['uuid']}/pause").status_code == 200
    assert api.get(f"/api/v{version}/checks/{check['uuid']}/flips/").json()["flips"]
    assert api.get(f"/api/v{version}/channels/").status_code == 200
    assert api.delete(f"/api/v{version}/checks/{check['uuid']}").status_code == 200


def test_v1_and_v2_derive_the_slug_from_the_name_and_v3_does_not(api: httpx.Client) -> None:
    assert _new(api, "/api/v1", name="Nightly Backup (db)")["slug"] == "nightly-backup-db"
    assert _new(api, "/api/v2", name="Weekly Report")["slug"] == "weekly-report"
    assert _new(api, "/api/v3", name="Hourly Sync")["slug"] == ""


def test_the_api_key_may_travel_in_the_json_body(hc: LocalMode) -> None:
    r = httpx.post(f"{hc.base}/api/v1/checks/", json={"api_key": API_KEY, "name": "hchk"})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "hchk"


def test_a_read_only_key_gets_401_on_every_write(
    api: httpx.Client, hc: LocalMode, read_only_key: str
) -> None:
    check = _new(api)
    ro = httpx.Client(base_url=hc.base, headers={"X-Api-Key": read_only_key})
    for method, path in [
        ("POST", "/api/v3/checks/"),
        ("POST", f"/api/v3/checks/{check['uuid']}"),
        ("POST", f"/api/v3/checks/{check['uuid']}/pause"),
        ("DELETE", f"/api/v3/checks/{check['uuid']}"),
    ]:
        r = ro.request(method, path, json={"name": "x"} if method == "POST" else None)
        assert r.status_code == 401, (method, path, r.text)
    assert ro.get("/api/v3/checks/").status_code == 200


def test_a_read_only_key_lists_channels_without_their_configuration(
    api: httpx.Client, hc: LocalMode, read_only_key: str
) -> None:
    secret = f"ops-{uuid.uuid4().hex[:6]}@example.com"
    r = api.post(
        "/api/v3/channels", json={"kind": "email", "name": "ops", "config": {"to": secret}}
    )
    assert r.status_code == 201, r.text
    ro = httpx.Client(base_url=hc.base, headers={"X-Api-Key": read_only_key})
    listing = ro.get("/api/v3/channels/")
    assert listing.status_code == 200
    assert secret not in listing.text
    mine = [c for c in listing.json()["channels"] if c["id"] == r.json()["id"]]
    assert mine == [{"id": r.json()["id"], "name": "ops", "kind": "email"}]
    assert secret in api.get("/api/v3/channels/").text  # the read-write key still sees it


def test_a_browser_page_may_call_the_api_with_a_key_from_any_origin(hc: LocalMode) -> None:
    pre = httpx.options(
        f"{hc.base}/api/v3/checks/",
        headers={
            "Origin": "https://dashboard.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key, content-type",
        },
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "x-api-key" in pre.headers["access-control-allow-headers"].lower()
    got = httpx.get(
        f"{hc.base}/api/v3/checks/",
        headers={"X-Api-Key": API_KEY, "Origin": "https://dashboard.example"},
    )
    assert got.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in got.headers
    assert "access-control-allow-credentials" not in pre.headers


def test_cookie_authenticated_requests_get_no_cors_headers(hc: LocalMode) -> None:
    email = f"u{uuid.uuid4().hex[:8]}@example.com"
    browser = httpx.Client(base_url=hc.base)
    credentials = {"email": email, "password": "correct horse battery 9"}
    assert browser.post("/api/v3/auth/register", json=credentials).status_code == 202
    r = browser.post("/api/v3/auth/signin", json=credentials)
    assert r.status_code == 200, r.text
    listed = browser.get("/api/v3/checks/", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in listed.headers


def test_channels_may_be_named_instead_of_given_by_id(api: httpx.Client) -> None:
    name = f"pager-{uuid.uuid4().hex[:6]}"
    r = api.post(
        "/api/v3/channels", json={"kind": "email", "name": name, "config": {"to": "a@example.com"}}
    )
    assert r.status_code == 201, r.text
    check = _new(api, channels=name)
    assert check["channels"] == r.json()["id"]
    bad = api.post("/api/v3/checks/", json={"name": "x", "channels": "no-such-channel"})
    assert bad.status_code == 400
    empty = api.post("/api/v3/checks/", json={"name": "x", "channels": f"{name},,{name}"})
    assert empty.status_code == 400


def test_unique_naming_a_field_the_request_omits_creates_a_new_check(api: httpx.Client) -> None:
    name = f"upsert-{uuid.uuid4().hex[:6]}"
    first = _new(api, name=name, unique=["name"])
    same = api.post("/api/v3/checks/", json={"name": name, "unique": ["name"]})
    assert (same.status_code, same.json()["uuid"]) == (200, first["uuid"])
    other = api.post("/api/v3/checks/", json={"name": name, "unique": ["name", "slug"]})
    assert other.status_code == 201 and other.json()["uuid"] != first["uuid"]


def test_pings_always_carry_body_url_and_flips_come_as_the_server_answers(
    api: httpx.Client, hc: LocalMode
) -> None:
    check = _new(api)
    code = check["uuid"]
    assert httpx.get(f"{hc.base}/ping/{code}/fail").status_code == 200
    assert httpx.post(f"{hc.base}/ping/{code}", content=b"all good").status_code == 200
    pings = eventually(
        lambda: api.get(f"/api/v3/checks/{code}/pings/").json()["pings"], lambda p: len(p) == 2
    )
    with_body, without = pings
    assert with_body["body_url"] == f"{hc.base}/api/v3/checks/{code}/pings/2/body"
    assert without["body_url"] is None
    flips = api.get(f"/api/v3/checks/{code}/flips/").json()
    assert [f["up"] for f in flips["flips"]] == [1, 0]
    assert set(flips["flips"][0]) >= {"timestamp", "up"}
    assert api.get(f"/api/v3/checks/{code}/flips/?seconds=0").json() == flips
    assert api.get(f"/api/v3/checks/{code}/flips/?seconds=31536001").status_code == 400


def test_an_empty_slug_filter_lists_every_check(api: httpx.Client) -> None:
    _new(api)
    everything = api.get("/api/v3/checks/").json()["checks"]
    assert api.get("/api/v3/checks/?slug=").json()["checks"] == everything


def test_legacy_time_zone_names_are_stored_as_their_current_names(api: httpx.Client) -> None:
    check = _new(api, schedule="0 3 * * *", tz="Europe/Kiev")
    assert check["tz"] == "Europe/Kyiv"
    r = api.post(f"/api/v3/checks/{check['uuid']}", json={"tz": "Asia/Calcutta"})
    assert r.json()["tz"] == "Asia/Kolkata"


def test_upper_case_slugs_are_refused_on_create(api: httpx.Client) -> None:
    r = api.post("/api/v3/checks/", json={"name": "x", "slug": "Backups"})
    assert r.status_code == 400 and json.loads(r.text)["field"] == "slug"


def test_oncalendar_schedules_are_accepted_like_cron(api: httpx.Client, hc: LocalMode) -> None:
    check = _new(api, schedule="Mon..Fri 09:00", tz="Europe/Riga", grace=600)
    assert (check["schedule"], check["tz"]) == ("Mon..Fri 09:00", "Europe/Riga")
    assert "timeout" not in check
    assert httpx.get(f"{hc.base}/ping/{check['uuid']}").status_code == 200
    pinged = eventually(
        lambda: api.get(f"/api/v3/checks/{check['uuid']}").json(), lambda c: c["n_pings"] == 1
    )
    assert pinged["next_ping"] is not None and pinged["next_ping"].endswith(":00:00+00:00")
    bad = api.post("/api/v3/checks/", json={"name": "x", "schedule": "Mon..Frii 09:00"})
    assert bad.status_code == 400 and bad.json()["field"] == "schedule"
