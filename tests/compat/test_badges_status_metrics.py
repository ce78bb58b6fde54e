"""Badges, the status endpoint and Prometheus metrics, at Healthchecks' paths and in its
formats, read without an API key header as a README or a Prometheus server reads them."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.compat.conftest import eventually
from tests.e2e.local_mode import API_KEY, LocalMode

pytestmark = pytest.mark.e2e


def test_the_status_endpoint_says_ok_in_every_version(hc: LocalMode) -> None:
    for version in (1, 2, 3):
        r = httpx.get(f"{hc.base}/api/v{version}/status/")
        assert (r.status_code, r.text) == (200, "OK")


def test_badges_list_every_tag_and_show_its_checks_state(api: httpx.Client, hc: LocalMode) -> None:
    tag = f"t{uuid.uuid4().hex[:6]}"
    r = api.post("/api/v3/checks/", json={"name": "badge job", "tags": f"{tag} other"})
    check = r.json()
    listing = api.get("/api/v3/badges/").json()["badges"]
    assert {"*", tag, "other"} <= set(listing)
    urls = listing[tag]
    assert set(urls) == {"svg", "svg3", "json", "json3", "shields", "shields3"}
    assert httpx.get(urls["json"]).json() == {"status": "up", "total": 1, "grace": 0, "down": 0}
    svg = httpx.get(urls["svg"])
    assert svg.headers["content-type"] == "image/svg+xml" and "<svg" in svg.text and tag in svg.text
    assert "no-cache" in svg.headers["cache-control"]

    assert httpx.get(f"{hc.base}/ping/{check['uuid']}/fail").status_code == 200
    eventually(
        lambda: api.get(f"/api/v3/checks/{check['uuid']}").json(), lambda c: c["status"] == "down"
    )
    assert httpx.get(urls["json3"]).json()["status"] == "down"
    shields = httpx.get(urls["shields"]).json()
    assert shields == {"schemaVersion": 1, "label": tag, "message": "down", "color": "critical"}
    everything = httpx.get(listing["*"]["json"]).json()
    assert everything["status"] == "down" and everything["down"] >= 1

    forged = urls["json"].replace(urls["json"].split("/")[-2], "00000000")
    assert httpx.get(forged).status_code == 404


def test_a_checks_badge_url_is_in_its_json_and_names_no_uuid(api: httpx.Client) -> None:
    check = api.post("/api/v3/checks/", json={"name": "solo"}).json()
    url = check["badge_url"]
    assert "/b/2/" in url and check["uuid"] not in url and url.endswith(".svg")
    assert "solo" in httpx.get(url).text
    assert httpx.get(url.replace(".svg", ".json")).json()["status"] == "up"
    assert (
        httpx.get(url.replace("/b/2/", "/b/3/").replace(".svg", ".shields")).json()["message"]
        == "up"
    )


def test_prometheus_metrics_need_the_read_only_key(
    api: httpx.Client, hc: LocalMode, read_only_key: str
) -> None:
    name = f"metered-{uuid.uuid4().hex[:6]}"
    api.post("/api/v3/checks/", json={"name": name, "tags": "prod"})
    project = "00000000-0000-0000-0000-000000000000"  # the key decides, as in Healthchecks
    r = httpx.get(f"{hc.base}/projects/{project}/metrics/{read_only_key}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "# TYPE hc_check_up gauge" in r.text
    assert f'hc_check_up{{name="{name}", tags="prod", unique_key="' in r.text
    assert 'hc_tag_up{tag="prod"}' in r.text and "hc_checks_total " in r.text
    bearer = httpx.get(
        f"{hc.base}/projects/{project}/metrics/",
        headers={"Authorization": f"Bearer {read_only_key}"},
    )
    assert bearer.status_code == 200 and bearer.text == r.text
    assert httpx.get(f"{hc.base}/projects/{project}/metrics/{API_KEY}").status_code == 403
    assert httpx.get(f"{hc.base}/projects/{project}/metrics/wrong-key").status_code == 401
