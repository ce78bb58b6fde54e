"""Batched ingest: many pings in one transaction, on SQLite and MariaDB. What a batch
must keep from one-at-a-time ingest (run ids, order, pruning), and how it fails: a
database outage fails the batch as retryable, a message that can never be stored fails
alone, a poison body fails alone."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from srvpulse import bootstrap
from srvpulse.adapters.sql.db import make_engine
from srvpulse.adapters.sql.tables import flips, pings
from srvpulse.bootstrap import Runtime
from srvpulse.domain.model import Check, PingKind, PingMessage, Status
from srvpulse.ports import CheckTx
from srvpulse.services.ingesting import (
    CheckBatch,
    IngestHooks,
    Outcome,
    ingest_batch,
    ingest_messages,
)

from functions.ingest import handler as ingest
from tests.conftest import make_runtime
from tests.integration.test_ingest import T0, load, new_check, project
from tests.sqs_events import sqs_event

# The check, project and ping helpers of the single-ping ingest tests.
__all__ = ["project"]  # a fixture


def ping(check_uuid: str, kind: PingKind = PingKind.SUCCESS, at: datetime = T0, **kw: Any) -> Any:
    return PingMessage(
        ping_id=str(uuid.uuid4()), received_at=at, kind=kind, check_uuid=check_uuid, **kw
    )


def stored(engine: Engine, check: Check) -> list[Any]:
    with engine.connect() as conn:
        q = select(pings).where(pings.c.check_id == check.id).order_by(pings.c.n)
        return list(conn.execute(q))


def test_one_batch_moves_many_checks_and_pairs_runs_started_in_the_same_batch(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    a, b, c = (new_check(runtime, project, slug=s) for s in ("a", "b", "c"))
    rid = str(uuid.uuid4())
    batch = [
        ping(a.uuid, PingKind.START, at=T0, rid=rid),
        ping(b.uuid, at=T0),
        ping(a.uuid, at=T0 + timedelta(seconds=12), rid=rid),
        ping(c.uuid, PingKind.FAIL, at=T0 + timedelta(seconds=1)),
        ping(b.uuid, at=T0 + timedelta(seconds=2)),
    ]
    result = ingest_batch(runtime.check_store, batch)
    assert [r.outcome for r in result.results] == [Outcome.STORED] * 5
    assert [r.n for r in result.results] == [1, 1, 2, 1, 2]
    after_a, after_b, after_c = (load(runtime, x) for x in (a, b, c))
    assert (after_a.status, after_a.last_duration_ms, after_a.open_runs) == (
        Status.UP,
        12_000,
        "",
    )
    assert (after_b.n_pings, after_b.last_ping) == (2, T0 + timedelta(seconds=2))
    assert after_c.status is Status.DOWN
    assert [r.duration_ms for r in stored(engine, a)] == [None, 12_000]
    with engine.connect() as conn:
        rows = list(conn.execute(select(flips.c.check_id, flips.c.reason)))
    assert [(r.check_id, r.reason) for r in rows] == [(c.id, "failed")]


def test_a_start_that_arrives_after_its_completion_in_the_same_batch_opens_no_run(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    rid = str(uuid.uuid4())
    ingest_batch(
        runtime.check_store,
        [
            ping(check.uuid, at=T0 + timedelta(seconds=5), rid=rid),
            ping(check.uuid, PingKind.START, at=T0, rid=rid),
        ],
    )
    after = load(runtime, check)
    assert (after.status, after.open_runs, after.n_pings) == (Status.UP, "", 2)
    assert [r.kind for r in stored(engine, check)] == ["success", "start"]


def test_a_batch_of_250_pings_of_one_check_keeps_its_last_100(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    batch = [ping(check.uuid, at=T0 + timedelta(seconds=i)) for i in range(250)]
    ingest_batch(runtime.check_store, batch)
    with runtime.check_store.transaction() as tx:
        assert [p.n for p in tx.list_pings(check.id, 1000)] == list(range(250, 150, -1))
    # Pruned down to a multiple of PINGS_PRUNED_EVERY (20): 141-250 are still stored.
    rows = stored(engine, check)
    assert (len(rows), rows[0].n, rows[-1].n) == (110, 141, 250)
    assert load(runtime, check).n_pings == 250


def test_a_message_that_can_never_be_stored_fails_alone_and_its_batch_mates_are_stored(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    good = [ping(check.uuid, at=T0 + timedelta(seconds=i)) for i in range(4)]
    # A lone surrogate cannot be encoded for either database (the edge should not let
    # one through; ingest must still not lose the batch around it).
    bad = ping(check.uuid, PingKind.FAIL, at=T0 + timedelta(seconds=2), summary="ok \ud83d")
    result = ingest_messages(runtime.check_store, [good[0], good[1], bad, good[2], good[3]])
    assert [r.outcome for r in result.results] == [
        Outcome.STORED,
        Outcome.STORED,
        Outcome.UNSTORABLE,
        Outcome.STORED,
        Outcome.STORED,
    ]
    assert [r.ping_id for r in stored(engine, check)] == [p.ping_id for p in good]
    assert load(runtime, check).status is Status.UP


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_batch_during_a_database_outage_fails_every_record_as_retryable_and_loses_nothing(
    runtime: Runtime, project: Any, engine: Engine, tmp_path: Path
) -> None:
    check = new_check(runtime, project)
    batch = [ping(check.uuid, at=T0 + timedelta(seconds=i)) for i in range(3)]
    event = sqs_event(*[m.to_json() for m in batch])
    unreachable = make_engine(f"mysql+pymysql://root@127.0.0.1:{_closed_port()}/srvpulse")
    bootstrap.install(make_runtime(unreachable, data_dir=tmp_path))
    try:
        reply = ingest.handler(event, None)
    finally:
        bootstrap.install(runtime)
        unreachable.dispose()
    assert reply == {
        "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]
    }
    assert stored(engine, check) == []
    # The queue delivers the same records again once the database is back.
    assert ingest.handler(event, None) == {"batchItemFailures": []}
    assert ingest.handler(event, None) == {"batchItemFailures": []}  # and again: no-op
    assert [r.ping_id for r in stored(engine, check)] == [m.ping_id for m in batch]


def test_a_poison_body_fails_only_its_own_record(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    nameless = json.dumps({"ping_id": "x", "kind": "success", "received_at": T0.isoformat()})
    event = sqs_event(ping(check.uuid).to_json(), "[" * 5000 + "]" * 5000, nameless)
    reply = ingest.handler(event, None)
    assert reply == {
        "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"][1:]]
    }
    assert load(runtime, check).n_pings == 1


def test_hooks_see_each_checks_decided_pings_inside_the_transaction_and_after_commit(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    a, b = new_check(runtime, project, slug="a"), new_check(runtime, project, slug="b")
    seen_inside: list[tuple[int, list[int]]] = []
    committed: list[tuple[int, int]] = []

    def inside(tx: CheckTx, batches: Sequence[CheckBatch]) -> None:
        for cb in batches:
            seen_inside.append((cb.after.id, [p.stored.n for p in cb.pings]))
            # What the hook reads on the transaction already includes the batch.
            assert len(tx.list_pings(cb.after.id, 10)) == len(cb.pings)

    def after(batches: Sequence[CheckBatch]) -> None:
        with runtime.check_store.transaction() as tx:  # durable: visible to others
            for cb in batches:
                committed.append((cb.after.id, len(tx.list_pings(cb.after.id, 10))))

    hooks = IngestHooks(in_transaction=[inside], after_commit=[after])
    ingest_batch(
        runtime.check_store,
        [ping(a.uuid), ping(b.uuid), ping(a.uuid, at=T0 + timedelta(seconds=1))],
        hooks,
    )
    assert sorted(seen_inside) == sorted([(a.id, [1, 2]), (b.id, [1])])
    assert sorted(committed) == sorted([(a.id, 2), (b.id, 1)])


def test_a_failing_in_transaction_hook_rolls_the_whole_batch_back(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)

    def broken(tx: CheckTx, batches: Sequence[CheckBatch]) -> None:
        raise ValueError("the hook's own bug")

    result = ingest_messages(
        runtime.check_store, [ping(check.uuid)], IngestHooks(in_transaction=[broken])
    )
    assert [r.outcome for r in result.results] == [Outcome.UNSTORABLE]
    assert stored(engine, check) == [] and load(runtime, check).n_pings == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pings)).scalar() == 0
