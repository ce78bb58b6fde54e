"""The local edge's target set follows checks made in another process (ingest's
``?create=1``) without a restart, and is not rebuilt while no check or project was
created or deleted (services.ping_targets.republish_if_changed, what keep_fresh runs
every 2 s in the HTTP process)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from srvpulse.adapters.ping_targets import LocalPingTargets
from srvpulse.bootstrap import Runtime
from srvpulse.domain.model import PingKind, PingMessage
from srvpulse.domain.targets import slug_target, uuid_target
from srvpulse.services import ping_targets
from srvpulse.services.projects import DefaultProject

from tests.integration.conftest import Api, a_ping, deliver


class EdgeTargets(LocalPingTargets):
    """The edge process's set (apart from the one this test's API and ingest publish
    into), counting how often it was rebuilt."""

    def __init__(self) -> None:
        super().__init__()
        self.rebuilds = 0

    def publish(self, build: Callable[[], Iterable[str]]) -> None:
        self.rebuilds += 1
        super().publish(build)


def test_a_check_ingest_creates_becomes_known_and_nothing_else_rebuilds_the_set(
    runtime: Runtime, project: DefaultProject, rw: Api
) -> None:
    store, edge = runtime.check_store, EdgeTargets()
    seen = ping_targets.republish_if_changed(store, edge, None)
    assert edge.rebuilds == 1
    slug = f"made-{uuid.uuid4().hex[:8]}"
    target = slug_target(project.ping_key, slug)
    assert edge.knows(target) is False

    status, made = rw.call("post", "/api/v3/checks/", {"name": "existing"})
    assert status == 201
    seen = ping_targets.republish_if_changed(store, edge, seen)
    assert edge.rebuilds == 2  # the API's new check (the API published it elsewhere)
    # Pings to an existing check change its row but no target: no rebuild.
    deliver(*(a_ping(made["uuid"]) for _ in range(3)))
    for _ in range(3):
        seen = ping_targets.republish_if_changed(store, edge, seen)
    assert edge.rebuilds == 2

    # ingest creates a check for ?create=1 (the workers' process): known after a refresh.
    made_by_ingest = PingMessage(
        ping_id=str(uuid.uuid4()),
        received_at=datetime.now(UTC),
        kind=PingKind.SUCCESS,
        ping_key=project.ping_key,
        slug=slug,
        create=True,
    )
    deliver(made_by_ingest)
    assert edge.knows(target) is False
    seen = ping_targets.republish_if_changed(store, edge, seen)
    assert edge.knows(target) is True
    assert edge.rebuilds == 3

    # A deleted check is unknown after the next refresh.
    assert rw.call("delete", f"/api/v3/checks/{made['uuid']}")[0] == 200
    assert edge.knows(uuid_target(made["uuid"])) is True
    ping_targets.republish_if_changed(store, edge, seen)
    assert edge.knows(uuid_target(made["uuid"])) is False


def test_a_refresh_that_fails_keeps_the_last_set_and_rebuilds_next_time(
    runtime: Runtime, project: DefaultProject
) -> None:
    edge = EdgeTargets()
    seen = ping_targets.republish_if_changed(runtime.check_store, edge, None)
    known = ping_targets.all_targets(runtime.check_store)[0]

    class Broken:
        def transaction(self) -> object:
            raise OSError("database unreachable")

    assert ping_targets.republish_if_changed(Broken(), edge, seen) is None  # type: ignore[arg-type]
    assert edge.knows(known) is True
    ping_targets.republish_if_changed(runtime.check_store, edge, None)
    assert edge.rebuilds == 2
