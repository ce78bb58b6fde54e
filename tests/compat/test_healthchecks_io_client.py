"""The healthchecks-io client from PyPI (pinned in requirements-dev.txt), unchanged but
for its two base URLs, against the local mode: every call it offers."""

from __future__ import annotations

import uuid

import httpx
import pytest
from healthchecks_io import Check, CheckCreate, CheckUpdate, Client
from healthchecks_io.client.exceptions import CheckNotFoundError

from tests.compat.conftest import eventually
from tests.e2e.local_mode import API_KEY, LocalMode

pytestmark = pytest.mark.e2e


def _create(client: Client, **fields: object) -> tuple[Check, str]:
    # model_validate: the client's models are pydantic, which mypy reads without a plugin.
    made = client.create_check(CheckCreate.model_validate(fields))
    assert made.uuid is not None
    return made, made.uuid


@pytest.fixture
def client(hc: LocalMode) -> Client:
    # Its default is api_version=1, as for most Healthchecks clients.
    return Client(
        api_key=API_KEY,
        ping_key=hc.ping_key(),
        api_url=f"{hc.base}/api/",
        ping_url=f"{hc.base}/ping/",
    )


def test_the_management_calls_work(client: Client) -> None:
    name = f"client-{uuid.uuid4().hex[:6]}"
    made, code = _create(client, name=name, tags="client test", timeout=3600, grace=60)
    assert made.name == name and made.slug == name  # v1: the slug comes from the name
    assert code in [c.uuid for c in client.get_checks()]
    assert [c.name for c in client.get_checks(tags=["client"])].count(name) == 1
    assert client.get_check(code).name == name
    changed = client.update_check(
        code, CheckUpdate.model_validate({"desc": "nightly", "grace": 120})
    )
    assert (changed.desc, changed.grace) == ("nightly", 120)
    assert client.pause_check(code).status == "paused"
    assert isinstance(client.get_integrations(), list)
    badges = client.get_badges()
    assert "client" in badges and badges["*"].svg.endswith(".svg")
    assert client.delete_check(code).uuid == code
    with pytest.raises(CheckNotFoundError):
        client.get_check(code)


def test_the_ping_calls_work_by_uuid_and_by_slug(client: Client) -> None:
    made, code = _create(client, name=f"pinged-{uuid.uuid4().hex[:6]}", timeout=3600)
    assert client.start_ping(uuid=code)[0]
    assert client.success_ping(uuid=code, data="all good")[0]
    assert client.fail_ping(slug=made.slug, data="disk full")[0]
    assert client.exit_code_ping(exit_code=0, slug=made.slug)[0]
    pings = eventually(lambda: client.get_check_pings(code), lambda p: len(p) == 4)
    assert [p.type for p in pings] == ["success", "fail", "success", "start"]
    with pytest.raises(CheckNotFoundError):
        client.success_ping(uuid=str(uuid.uuid4()))  # a typo in a cron line is noticed


def test_flips_come_in_the_servers_shape_which_this_client_misreads(
    client: Client, hc: LocalMode
) -> None:
    """healthchecks-io 0.4.4's get_check_flips iterates a bare list, as Healthchecks' docs
    show; Healthchecks' server (and srvpulse) answers {"flips": [...]}, so that one call
    fails against both. The flips themselves are there for any client that reads them."""
    _made, code = _create(client, name=f"flips-{uuid.uuid4().hex[:6]}", timeout=3600)
    assert client.fail_ping(uuid=code)[0]
    api = httpx.Client(base_url=hc.base, headers={"X-Api-Key": API_KEY})
    flips = eventually(
        lambda: api.get(f"/api/v1/checks/{code}/flips/").json()["flips"], lambda f: f
    )
    assert flips[0]["up"] == 0
    with pytest.raises(TypeError):
        client.get_check_flips(code)
