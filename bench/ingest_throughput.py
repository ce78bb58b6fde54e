"""Ingest throughput: pings per second through the ingest handler, on SQLite and MariaDB.

    .venv/bin/python bench/ingest_throughput.py [--pings 20000] [--checks 2000]
        [--batch 500] [--backends sqlite,mysql]

For each backend: a fresh database with ``--checks`` checks, each already holding the
pings it keeps in a steady state (its last 100, and the up to 19 older ones that wait
for the next pruning: ``domain.model.pruned_pings_upto``, each check at its own point
of that cycle, so the pruning costs what it costs in the long run). Then a
realistic mix (half the jobs send start + success paired by a run id, the others a
plain success, 5 % of completions fail) goes through functions/ingest/handler.py as SQS
events of ``--batch`` records, to random checks. The baseline, in the same run, is the
same handler given one record per event (one transaction per ping, as ingest was before
batching). The batched run is repeated without the other areas' ingest hooks (series
points, detection baselines) to tell ingest's own cost from theirs. Prints pings/s, the
process's CPU ms per ping and the ratios to the baseline. Ping ids are made as the edge
makes them (time-ordered, ``services.pinging.new_ping_id``: with random ones every
receipt lands in a random page of the idempotency table, and batches ran 0.7-0.8x as
fast). The MariaDB
server is SRVPULSE_TEST_MYSQL (as in the tests); the bench makes and drops its own
database.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, select, text
from srvpulse import bootstrap
from srvpulse.adapters.sql.db import make_engine, migrate
from srvpulse.adapters.sql.tables import checks, pings, projects
from srvpulse.bootstrap import Runtime
from srvpulse.domain.model import PINGS_PRUNED_EVERY, PingKind, PingMessage, pruned_pings_upto
from srvpulse.local.queue_worker import BATCH_SIZE
from srvpulse.services.ingesting import IngestHooks
from srvpulse.services.pinging import new_ping_id
from srvpulse.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from functions.ingest import handler as ingest
from tests.sqs_events import sqs_event

MYSQL = os.environ.get("SRVPULSE_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306")
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
KEPT = 100


def seed(engine: Engine, n_checks: int) -> list[str]:
    """``n_checks`` up checks, each with the pings it keeps (its last 100 and those
    waiting for the next pruning); returns their uuids."""
    rng = random.Random(11)
    counts = [KEPT + rng.randrange(PINGS_PRUNED_EVERY) for _ in range(n_checks)]
    with engine.begin() as conn:
        inserted = conn.execute(
            insert(projects).values(uuid=str(uuid.uuid4()), name="p", ping_key="k", created=T0)
        ).inserted_primary_key
        assert inserted is not None
        project_id = inserted[0]
        uuids = [str(uuid.uuid4()) for _ in range(n_checks)]
        conn.execute(
            insert(checks),
            [
                {
                    "uuid": u,
                    "project_id": project_id,
                    "name": f"job-{i}",
                    "grace": 600,
                    "timeout": 3600,
                    "status": "up",
                    "n_pings": counts[i],
                    "last_ping": T0,
                    "alert_after": T0 + timedelta(minutes=70),
                    "version": 1,
                    "created": T0,
                }
                for i, u in enumerate(uuids)
            ],
        )
        ids = list(conn.execute(select(checks.c.id).order_by(checks.c.id)).scalars())
    rows = [
        {
            "ping_id": new_ping_id(),
            "check_id": check_id,
            "n": n,
            "created": T0 - timedelta(minutes=count - n),
            "kind": "success",
            "method": "GET",
            "remote_addr": "192.0.2.1",
            "ua": "curl/8.5.0",
        }
        for check_id, count in zip(ids, counts, strict=True)
        for n in range(pruned_pings_upto(count) + 1, count + 1)
    ]
    for start in range(0, len(rows), 5000):
        with engine.begin() as conn:
            conn.execute(insert(pings), rows[start : start + 5000])
    return uuids


_clock = [T0 + timedelta(minutes=1)]  # each workload goes on after the previous one


def workload(uuids: list[str], n: int, rng: random.Random) -> list[PingMessage]:
    """``n`` pings in received order: runs of random checks, half with start + rid.
    Received after every earlier workload's pings, so none of them is late because
    of a run before it (a late ping does less)."""
    out: list[PingMessage] = []
    at = _clock[0]

    def msg(check: str, kind: PingKind, rid: str | None) -> PingMessage:
        nonlocal at
        at += timedelta(milliseconds=3)
        return PingMessage(
            ping_id=new_ping_id(),
            received_at=at,
            kind=kind,
            check_uuid=check,
            rid=rid,
            method="POST",
            remote_addr="192.0.2.7",
            user_agent="curl/8.5.0",
            body="done in 3.2 s" if kind is not PingKind.START else "",
        )

    pending: list[PingMessage] = []  # completions of started runs, sent a bit later
    while len(out) < n:
        check = rng.choice(uuids)
        done = PingKind.FAIL if rng.random() < 0.05 else PingKind.SUCCESS
        if rng.random() < 0.5:
            rid = str(uuid.uuid4())
            out.append(msg(check, PingKind.START, rid))
            pending.append(msg(check, done, rid))
        else:
            out.append(msg(check, done, None))
        if len(pending) > 20 or (pending and rng.random() < 0.3):
            out.append(pending.pop(0))
    _clock[0] = at + timedelta(seconds=1)
    return out[:n]


def run(messages: list[PingMessage], batch: int) -> tuple[float, float]:
    """Seconds to ingest ``messages`` through the handler in events of ``batch``: by the
    wall clock, and of this process's CPU (user + system; on SQLite all of ingest's
    work, on MariaDB without the server's)."""
    events = [
        sqs_event(*[m.to_json() for m in messages[i : i + batch]])
        for i in range(0, len(messages), batch)
    ]
    started, cpu = time.perf_counter(), time.process_time()
    for event in events:
        reply = ingest.handler(event, None)
        assert reply == {"batchItemFailures": []}, reply
    return time.perf_counter() - started, time.process_time() - cpu


@contextmanager
def backend(name: str, tmp: Path) -> Iterator[Engine]:
    if name == "sqlite":
        engine = make_engine(f"sqlite:///{tmp / 'bench.sqlite3'}")
        yield engine
        engine.dispose()
        return
    db = f"srvpulse_bench_{uuid.uuid4().hex[:8]}"
    server = make_engine(MYSQL + "/")
    with server.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{db}`"))
    engine = make_engine(f"{MYSQL}/{db}")
    try:
        yield engine
    finally:
        engine.dispose()
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE `{db}`"))
        server.dispose()


def measure(name: str, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    """Per run (batched, batched without the other areas' hooks, one ping per
    transaction): pings/s by the wall clock and this process's CPU ms per ping."""
    with tempfile.TemporaryDirectory() as tmp, backend(name, Path(tmp)) as engine:
        migrate(engine)
        uuids = seed(engine, args.checks)
        rt = Runtime(Settings(data_dir=Path(tmp)))
        rt.__dict__["engine"] = engine
        bootstrap.install(rt)
        import logging

        logging.disable(logging.INFO)  # the handler logs one line per batch
        rng = random.Random(7)
        baseline_n = max(200, args.pings // 20)
        warm = workload(uuids, 500, rng)
        run(warm, args.batch)
        single = workload(uuids, baseline_n, rng)
        batched = workload(uuids, args.pings, rng)
        bare = workload(uuids, args.pings, rng)
        t_single = run(single, 1)
        t_batched = run(batched, args.batch)
        # The same batches with ingest's own work only: no series points, no detection
        # baselines (IngestHooks empty), to tell ingest's cost from its hooks'.
        rt.__dict__["ingest_hooks"] = IngestHooks()
        t_bare = run(bare, args.batch)
        bootstrap.install(None)
        logging.disable(logging.NOTSET)
        return {
            label: (len(msgs) / wall, 1000 * cpu / len(msgs))
            for label, msgs, (wall, cpu) in (
                ("batched", batched, t_batched),
                ("bare", bare, t_bare),
                ("single", single, t_single),
            )
        }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pings", type=int, default=20_000)
    p.add_argument("--checks", type=int, default=2_000)
    # The local queue drain's batch (as template.yaml's SQS event source sends).
    p.add_argument("--batch", type=int, default=BATCH_SIZE)
    p.add_argument("--backends", default="sqlite,mysql")
    args = p.parse_args()
    print(
        f"{args.pings} pings to {args.checks} checks (100 kept pings each), "
        f"events of {args.batch} records; baseline: 1 record per event\n"
    )
    print(
        f"{'backend':8} {'batched':>9} {'cpu ms':>7} {'no hooks':>9} {'cpu ms':>7} "
        f"{'baseline':>9} {'cpu ms':>7} {'ratio':>6} {'ratio':>6}"
    )
    for name in args.backends.split(","):
        r = measure(name, args)
        (rate, cpu), (bare, bare_cpu), (base, base_cpu) = r["batched"], r["bare"], r["single"]
        print(
            f"{name:8} {rate:>7.0f}/s {cpu:>7.3f} {bare:>7.0f}/s {bare_cpu:>7.3f} "
            f"{base:>7.0f}/s {base_cpu:>7.3f} {rate / base:>5.1f}x {bare / base:>5.1f}x"
        )
    print(
        "\nratios: batched / baseline pings/s, with the hooks (as deployed) and without them;"
        "\ncpu ms: this process's CPU (user + system) per ping, steadier than pings/s on a"
        "\nshared machine (on MariaDB the server's own CPU is not in it)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
