"""Ingest's check cache (adapters/sql/checks_store.CheckCache), on SQLite and MariaDB: a
batch takes a check from the cache only while its row still has the version ingest
saved, so what every other writer changed is what the next batch decides on."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from srvpulse.adapters.sql.checks_store import CheckCache, SqlCheckStore, checks_from_result
from srvpulse.adapters.sql.tables import checks
from srvpulse.bootstrap import Runtime
from srvpulse.domain.model import Check, PingKind, Status
from srvpulse.ports import CheckTx
from srvpulse.services import maintenance
from srvpulse.services.ingesting import CheckBatch, IngestHooks, ingest_batch

from tests.integration.test_ingest import T0, load, new_check, ping, project

__all__ = ["project"]  # a fixture


class Seen:
    """A decide hook that keeps each batch's checks as ingest read them."""

    def __init__(self) -> None:
        self.before: list[Check] = []

    def __call__(self, tx: CheckTx, batches: Sequence[CheckBatch]) -> Sequence[CheckBatch]:
        self.before.extend(b.before for b in batches)
        return batches

    def hooks(self) -> IngestHooks:
        return IngestHooks(decide=(self,))


def stored_row(engine: Engine, check: Check) -> Check:
    with engine.connect() as conn:
        found = checks_from_result(
            conn.execute(select(*[checks.c[f] for f in _fields()]).where(checks.c.id == check.id))
        )
    return found[0]


def _fields() -> list[str]:
    from dataclasses import fields

    return [f.name for f in fields(Check)]


def test_checks_in_the_cache_are_what_their_rows_hold_after_many_batches(
    engine: Engine, project: Any, runtime: Runtime
) -> None:
    rng = random.Random(3)
    made = [new_check(runtime, project, slug=f"job-{i}") for i in range(12)]
    cache = CheckCache()
    store = SqlCheckStore(engine, cache)
    at = T0
    for _batch in range(8):
        batch = []
        for _ in range(20):
            check = rng.choice(made)
            at += timedelta(seconds=rng.randint(1, 90))
            rid = str(uuid.uuid4())
            kind = rng.choice([PingKind.START, PingKind.SUCCESS, PingKind.FAIL, PingKind.LOG])
            batch.append(ping(check.uuid, kind, at=at, rid=rid if rng.random() < 0.5 else None))
        ingest_batch(store, batch)
    assert len(cache) == len(made)
    for check in made:
        cached = cache.get(check.uuid, check.id, stored_row(engine, check).version)
        assert cached is not None
        assert cached == stored_row(engine, check)


def test_an_api_edit_between_batches_is_seen_by_the_next_batch(
    engine: Engine, project: Any, runtime: Runtime
) -> None:
    check = new_check(runtime, project, slug="nightly")
    store = SqlCheckStore(engine)
    ingest_batch(store, [ping(check.uuid, at=T0)])
    current = load(runtime, check)
    with runtime.check_store.transaction() as tx:
        assert tx.save_check(current.with_changes(grace=60, name="renamed"), current.version)
    seen = Seen()
    ingest_batch(store, [ping(check.uuid, at=T0 + timedelta(minutes=1))], seen.hooks())
    assert (seen.before[0].name, seen.before[0].grace) == ("renamed", 60)
    assert load(runtime, check).name == "renamed"


def test_deleting_a_maintenance_window_is_seen_by_the_next_batch(
    engine: Engine, project: Any, runtime: Runtime
) -> None:
    # The window held the check's alerts until its end (next_reminder_at); deleting it
    # makes them due now. That write gives the row a new version, so a batch whose
    # check ingest had cached reads the row again instead of the cached copy.
    check = new_check(runtime, project, slug="backup")
    store = SqlCheckStore(engine)
    ingest_batch(store, [ping(check.uuid, PingKind.FAIL, at=T0)])
    held = T0 + timedelta(hours=2)
    current = load(runtime, check)
    with runtime.check_store.transaction() as tx:
        assert tx.save_check(current.with_changes(next_reminder_at=held), current.version)
    ingest_batch(store, [ping(check.uuid, PingKind.LOG, at=T0 + timedelta(minutes=1))])
    assert load(runtime, check).next_reminder_at == held  # the cached copy says so too
    now = T0 + timedelta(minutes=5)
    window = maintenance.create_window(
        runtime.maintenance_store,
        project.project_id,
        now,
        name="upgrade",
        check_uuid=check.uuid,
        starts_at=T0,
        ends_at=held,
    )
    windows = runtime.maintenance_store
    maintenance.delete_window(windows, project.project_id, window.window.uuid, now)
    seen = Seen()
    ingest_batch(store, [ping(check.uuid, PingKind.LOG, at=now)], seen.hooks())
    assert seen.before[0].next_reminder_at == now
    assert load(runtime, check).next_reminder_at == now


def test_a_rolled_back_batch_leaves_nothing_in_the_cache(
    engine: Engine, project: Any, runtime: Runtime
) -> None:
    check = new_check(runtime, project, slug="etl")
    cache = CheckCache()
    store = SqlCheckStore(engine, cache)

    def fail(tx: CheckTx, batches: Sequence[CheckBatch]) -> None:
        raise RuntimeError("the batch fails after its writes")

    with pytest.raises(RuntimeError):
        ingest_batch(store, [ping(check.uuid, at=T0)], IngestHooks(in_transaction=(fail,)))
    assert len(cache) == 0
    assert load(runtime, check).n_pings == 0
    # Another writer now gives the row the version the rolled-back save had.
    with engine.begin() as conn:
        conn.execute(update(checks).where(checks.c.id == check.id).values(version=1, name="other"))
    seen = Seen()
    ingest_batch(store, [ping(check.uuid, at=T0)], seen.hooks())
    assert (seen.before[0].name, seen.before[0].status) == ("other", Status.NEW)


def test_the_cache_keeps_only_the_most_recently_saved_checks(
    engine: Engine, project: Any, runtime: Runtime
) -> None:
    made = [new_check(runtime, project, slug=f"c{i}") for i in range(5)]
    cache = CheckCache(size=3)
    store = SqlCheckStore(engine, cache)
    for i, check in enumerate(made):
        ingest_batch(store, [ping(check.uuid, at=T0 + timedelta(seconds=i))])
    assert len(cache) == 3
    versions = {c.uuid: stored_row(engine, c).version for c in made}
    kept = [c.slug for c in made if cache.get(c.uuid, c.id, versions[c.uuid]) is not None]
    assert kept == ["c2", "c3", "c4"]
