"""The ingest handler with real SQS event shapes, on SQLite and MariaDB."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select
from srvpulse.adapters.sql.checks_store import SqlCheckStore, SqlCheckTx
from srvpulse.adapters.sql.tables import checks, flips, orphan_pings, ping_receipts, pings
from srvpulse.bootstrap import Runtime
from srvpulse.domain.model import PINGS_PRUNED_EVERY, Check, PingKind, PingMessage, Status
from srvpulse.services.ingesting import ingest_ping, prune_receipts
from srvpulse.services.projects import ensure_default_project

from functions.ingest import handler as ingest
from tests.sqs_events import sqs_event

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ping(
    check_uuid: str | None = None,
    kind: PingKind = PingKind.SUCCESS,
    at: datetime = T0,
    **extra: Any,
) -> PingMessage:
    return PingMessage(
        ping_id=extra.pop("ping_id", str(uuid.uuid4())),
        received_at=at,
        kind=kind,
        check_uuid=check_uuid,
        **extra,
    )


@pytest.fixture
def project(runtime: Runtime) -> Any:
    return ensure_default_project(runtime.account_stores.projects, T0)


def new_check(runtime: Runtime, project: Any, **fields: Any) -> Check:
    with runtime.check_store.transaction() as tx:
        return tx.insert_check(
            Check(id=0, uuid=str(uuid.uuid4()), project_id=project.project_id, created=T0, **fields)
        )


def load(runtime: Runtime, check: Check) -> Check:
    with runtime.check_store.transaction() as tx:
        found = tx.get_check(check.id)
    assert found is not None
    return found


def run(*messages: PingMessage | str) -> dict[str, Any]:
    bodies = [m if isinstance(m, str) else m.to_json() for m in messages]
    return ingest.handler(sqs_event(*bodies), None)


def ping_rows(engine: Engine, check: Check) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(select(pings).where(pings.c.check_id == check.id).order_by(pings.c.n))
        )


def test_a_success_ping_is_stored_and_takes_the_check_up(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project, name="backup")
    reply = run(ping(check.uuid, method="POST", user_agent="curl/8", body="all good"))
    assert reply == {"batchItemFailures": []}
    after = load(runtime, check)
    assert after.status is Status.UP
    assert after.n_pings == 1
    assert after.last_ping == T0
    [row] = ping_rows(engine, check)
    assert (row.n, row.kind, row.method, row.ua, row.body) == (
        1,
        "success",
        "POST",
        "curl/8",
        "all good",
    )


def test_a_fail_ping_takes_the_check_down_at_once_and_records_a_flip(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    run(ping(check.uuid, at=T0))
    run(ping(check.uuid, PingKind.FAIL, at=T0 + timedelta(minutes=1)))
    assert load(runtime, check).status is Status.DOWN
    with engine.connect() as conn:
        rows = list(conn.execute(select(flips).where(flips.c.check_id == check.id)))
    assert [(r.old_status, r.new_status, r.reason) for r in rows] == [("up", "down", "failed")]


def test_a_non_zero_exit_status_is_a_failure_and_a_log_ping_changes_nothing(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    run(ping(check.uuid, at=T0))
    run(ping(check.uuid, PingKind.LOG, at=T0 + timedelta(seconds=1), body="progress"))
    assert load(runtime, check).status is Status.UP
    run(ping(check.uuid, at=T0 + timedelta(seconds=2), exit_status=3))
    after = load(runtime, check)
    assert after.status is Status.DOWN
    assert after.n_pings == 3
    assert [(r.kind, r.exit_status) for r in ping_rows(engine, check)] == [
        ("success", None),
        ("log", None),
        ("fail", 3),
    ]


def test_a_redelivered_message_is_stored_once(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    message = ping(check.uuid)
    # In the same batch and in a later one: SQS delivers at least once.
    assert run(message, message) == {"batchItemFailures": []}
    assert run(message) == {"batchItemFailures": []}
    assert load(runtime, check).n_pings == 1
    assert len(ping_rows(engine, check)) == 1


def test_a_redelivery_after_the_ping_was_pruned_is_still_recognised(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    first = ping(check.uuid)
    run(first)
    for i in range(100):
        run(ping(check.uuid, at=T0 + timedelta(seconds=i + 1)))
    run(first)
    assert load(runtime, check).n_pings == 101


def test_a_ping_for_an_unknown_check_is_counted_not_failed(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    unknown = str(uuid.uuid4())
    reply = run(ping(unknown), ping(unknown))
    assert reply == {"batchItemFailures": []}
    with engine.connect() as conn:
        row = conn.execute(select(orphan_pings)).one()
    assert (row.target, row._mapping["count"]) == (f"uuid:{unknown}", 2)


def test_a_malformed_message_fails_only_its_own_record(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    event = sqs_event(
        ping(check.uuid).to_json(),
        "this is not json",
        json.dumps({"ping_id": "x", "kind": "nonsense", "received_at": T0.isoformat()}),
        ping(check.uuid, at=T0 + timedelta(seconds=1)).to_json(),
    )
    reply = ingest.handler(event, None)
    bad = [event["Records"][1]["messageId"], event["Records"][2]["messageId"]]
    assert reply == {"batchItemFailures": [{"itemIdentifier": i} for i in bad]}
    assert load(runtime, check).n_pings == 2


def test_an_all_malformed_batch_reports_every_record(runtime: Runtime) -> None:
    event = sqs_event("{", "[]")
    reply = ingest.handler(event, None)
    assert [f["itemIdentifier"] for f in reply["batchItemFailures"]] == [
        r["messageId"] for r in event["Records"]
    ]


def test_only_the_last_100_pings_of_a_check_are_kept(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    other = new_check(runtime, project, slug="other")
    run(ping(other.uuid))
    for batch in range(11):
        run(*[ping(check.uuid, at=T0 + timedelta(seconds=batch * 10 + i)) for i in range(10)])
    # What anyone can see: the last 100, never more, whatever the limit asked for.
    with runtime.check_store.transaction() as tx:
        assert [p.n for p in tx.list_pings(check.id, 1000)] == list(range(110, 10, -1))
        assert tx.get_ping(check.id, 10) is None
        assert tx.get_ping(check.id, 11) is not None
    assert load(runtime, check).n_pings == 110
    assert len(ping_rows(engine, other)) == 1
    # Old pings are deleted PINGS_PRUNED_EVERY at a time, so storage stays bounded.
    assert 100 <= len(ping_rows(engine, check)) < 100 + PINGS_PRUNED_EVERY
    run(*[ping(check.uuid, at=T0 + timedelta(seconds=110 + i)) for i in range(10)])
    rows = ping_rows(engine, check)
    assert (len(rows), rows[0].n, rows[-1].n) == (100, 21, 120)


def test_a_run_id_pairs_a_completion_with_its_own_start(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    run(ping(check.uuid, PingKind.START, at=T0, rid=a))
    run(ping(check.uuid, PingKind.START, at=T0 + timedelta(seconds=10), rid=b))
    run(ping(check.uuid, at=T0 + timedelta(seconds=30), rid=a))
    assert load(runtime, check).last_duration_ms == 30_000
    run(ping(check.uuid, at=T0 + timedelta(seconds=50), rid=b))
    assert load(runtime, check).last_duration_ms == 40_000
    assert [r.duration_ms for r in ping_rows(engine, check)] == [None, None, 30_000, 40_000]


def test_without_a_run_id_the_duration_runs_from_the_last_start(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    run(ping(check.uuid, PingKind.START, at=T0))
    assert load(runtime, check).status is Status.STARTED
    run(ping(check.uuid, PingKind.FAIL, at=T0 + timedelta(seconds=90), summary="disk full"))
    after = load(runtime, check)
    assert (after.status, after.last_duration_ms, after.last_start) == (Status.DOWN, 90_000, None)
    last = ping_rows(engine, check)[-1]
    assert (last.duration_ms, last.summary) == (90_000, "disk full")


def test_a_start_delivered_after_its_own_completion_does_not_leave_the_check_running(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    # SQS does not keep order: a fast job's start and success can be ingested swapped.
    check = new_check(runtime, project, grace=60)
    run(ping(check.uuid, at=T0 + timedelta(seconds=2)))
    run(ping(check.uuid, PingKind.START, at=T0))
    after = load(runtime, check)
    assert (after.status, after.open_runs, after.last_start) == (Status.UP, "", None)
    assert after.last_ping == T0 + timedelta(seconds=2)
    assert after.alert_after is None or after.alert_after > T0 + timedelta(seconds=2)
    assert [r.kind for r in ping_rows(engine, check)] == ["success", "start"]


def test_a_failure_delivered_after_a_later_success_does_not_take_the_check_down(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    run(ping(check.uuid, at=T0))
    run(ping(check.uuid, at=T0 + timedelta(minutes=5)))
    run(ping(check.uuid, PingKind.FAIL, at=T0 + timedelta(minutes=1), summary="disk full"))
    after = load(runtime, check)
    assert (after.status, after.last_ping) == (Status.UP, T0 + timedelta(minutes=5))
    assert after.n_pings == 3
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(flips)).scalar() == 0
    late = ping_rows(engine, check)[-1]
    assert (late.kind, late.summary, late.created) == (
        "fail",
        "disk full",
        T0 + timedelta(minutes=1),
    )


def test_a_late_start_with_a_run_id_still_times_its_own_completion(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    run(ping(check.uuid, PingKind.START, at=T0 + timedelta(seconds=10), rid=b))
    run(ping(check.uuid, at=T0 + timedelta(seconds=20), rid=b))
    run(ping(check.uuid, PingKind.START, at=T0, rid=a))  # late, but run a is still going
    assert load(runtime, check).status is Status.STARTED
    run(ping(check.uuid, at=T0 + timedelta(seconds=40), rid=a))
    after = load(runtime, check)
    assert (after.status, after.last_duration_ms, after.open_runs) == (Status.UP, 40_000, "")


def test_a_start_with_a_run_id_delivered_after_its_completion_opens_no_run(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project)
    a = str(uuid.uuid4())
    run(ping(check.uuid, PingKind.FAIL, at=T0 + timedelta(seconds=3), rid=a))
    run(ping(check.uuid, PingKind.START, at=T0, rid=a))
    after = load(runtime, check)
    assert (after.status, after.open_runs, after.last_start) == (Status.DOWN, "", None)


def test_a_slug_ping_with_create_provisions_the_check_once(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    def slug_ping(create: bool, **kw: Any) -> PingMessage:
        return ping(ping_key=project.ping_key, slug="nightly-db", create=create, **kw)

    run(slug_ping(False))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(checks)).scalar() == 0
    reply = run(slug_ping(True), slug_ping(True, at=T0 + timedelta(seconds=1)))
    assert reply == {"batchItemFailures": []}
    with engine.connect() as conn:
        rows = list(conn.execute(select(checks)))
        orphans = list(conn.execute(select(orphan_pings)))
    assert [(r.slug, r.name, r.n_pings, r.status) for r in rows] == [
        ("nightly-db", "nightly-db", 2, "up")
    ]
    assert [o._mapping["count"] for o in orphans] == [1]


def test_a_slug_ping_finds_an_existing_check_and_a_wrong_ping_key_is_an_orphan(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    check = new_check(runtime, project, slug="etl")
    run(ping(ping_key=project.ping_key, slug="etl"))
    run(ping(ping_key="not-the-key", slug="etl", create=True))
    assert load(runtime, check).n_pings == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(checks)).scalar() == 1
        assert conn.execute(select(orphan_pings.c.count)).scalar() == 1


def test_a_check_changed_by_the_analyzer_meanwhile_is_re_read_and_re_applied(
    engine: Engine, project: Any, runtime: Runtime
) -> None:
    check = new_check(runtime, project)

    class RacingStore(SqlCheckStore):
        """Another writer bumps the row between our read and our save, once."""

        raced = False

        def transaction(self) -> Any:
            outer = self

            class Tx(SqlCheckTx):
                def save_checks(self, saves: Sequence[tuple[Check, Check]]) -> bool:
                    if not outer.raced:
                        outer.raced = True
                        self.conn.execute(
                            checks.update()
                            .where(checks.c.id == saves[0][0].id)
                            .values(version=checks.c.version + 1, name="renamed")
                        )
                    return super().save_checks(saves)

            from contextlib import contextmanager

            @contextmanager
            def tx() -> Iterator[Tx]:
                with self.engine.begin() as conn:
                    yield Tx(conn)

            return tx()

    store = RacingStore(engine)
    result = ingest_ping(store, ping(check.uuid))
    assert store.raced and result.n == 1
    after = load(runtime, check)
    # The racing write was rolled back with our first attempt; the retry applied the
    # ping once, to a fresh read.
    assert (after.n_pings, after.status, after.version) == (1, Status.UP, 1)
    assert len(ping_rows(engine, check)) == 1


def test_a_save_on_a_stale_version_is_refused(
    engine: Engine, project: Any, runtime: Runtime
) -> None:
    check = new_check(runtime, project)
    store = runtime.check_store
    with store.transaction() as tx:
        assert tx.save_check(check.with_changes(name="first"), 0) is not None
    with store.transaction() as tx:
        assert tx.save_check(check.with_changes(name="second"), 0) is None
    assert load(runtime, check).name == "first"


def test_old_ping_receipts_are_pruned(engine: Engine, runtime: Runtime) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(ping_receipts),
            [
                {"ping_id": "old-1", "received_at": T0 - timedelta(days=20)},
                {"ping_id": "old-2", "received_at": T0 - timedelta(days=16)},
                {"ping_id": "new-1", "received_at": T0 - timedelta(days=1)},
            ],
        )
    assert prune_receipts(runtime.check_store, T0, keep_days=15) == 2
    with engine.connect() as conn:
        assert list(conn.execute(select(ping_receipts.c.ping_id)).scalars()) == ["new-1"]


def test_concurrent_pings_of_one_check_are_all_counted_without_failing(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    import threading

    check = new_check(runtime, project)
    failures: list[str] = []

    def deliver_many(worker: int) -> None:
        for i in range(40):
            message = ping(check.uuid, at=T0 + timedelta(seconds=i, milliseconds=worker))
            reply = run(message)
            failures.extend(f["itemIdentifier"] for f in reply["batchItemFailures"])

    threads = [threading.Thread(target=deliver_many, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert load(runtime, check).n_pings == 160
    assert [r.n for r in ping_rows(engine, check)] == list(range(61, 161))


def test_concurrent_create_pings_for_a_new_slug_make_one_check_holding_every_ping(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    import threading

    failures: list[str] = []
    barrier = threading.Barrier(4)

    def deliver(worker: int) -> None:
        barrier.wait()
        for i in range(5):
            message = ping(
                ping_key=project.ping_key,
                slug="made-by-many",
                create=True,
                at=T0 + timedelta(seconds=i, milliseconds=worker),
            )
            failures.extend(f["itemIdentifier"] for f in run(message)["batchItemFailures"])

    threads = [threading.Thread(target=deliver, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with engine.connect() as conn:
        rows = list(conn.execute(select(checks).where(checks.c.slug == "made-by-many")))
        assert [(r.n_pings, r.status) for r in rows] == [(20, "up")]
        stored = conn.execute(select(func.count()).select_from(pings)).scalar()
    assert stored == 20


def test_ping_keys_and_slugs_are_exact_strings_on_every_database(
    runtime: Runtime, project: Any, engine: Engine
) -> None:
    lower = new_check(runtime, project, slug="backup")
    upper = new_check(runtime, project, slug="Backup")  # another check, not a duplicate
    run(
        ping(ping_key=project.ping_key, slug="Backup"),
        ping(ping_key=project.ping_key.swapcase(), slug="backup"),  # a wrong key
    )
    assert (load(runtime, lower).n_pings, load(runtime, upper).n_pings) == (0, 1)
    with engine.connect() as conn:
        assert conn.execute(select(orphan_pings.c.count)).scalars().all() == [1]
