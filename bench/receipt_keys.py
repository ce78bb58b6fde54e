"""Ping-id keys of ingest's idempotency table: random (version 4) against time-ordered
(version 7, what ``services.pinging.new_ping_id`` makes) UUIDs (run by hand).

    .venv/bin/python bench/receipt_keys.py [--receipts 1000000] [--backends sqlite,mysql]

For each backend and each kind of id: a fresh ``ping_receipts`` table (the real one,
with its index on the receive time), filled in batches of 500 receipts, one transaction
each (ingest's batch), on an engine made as the app makes it (SQLite: WAL, synchronous
FULL, 64 MB page cache). Prints the ms per batch over the first and the last tenth of
the batches, and the ratio of random to time-ordered in the same run: a key in random
order takes each new id into a random page, so it costs more as the table grows (ingest
keeps 15 days of receipts). The MariaDB server is SRVPULSE_TEST_MYSQL, as in the tests;
the bench makes and drops its own database.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, create_engine, insert, text
from srvpulse.adapters.sql.db import make_engine
from srvpulse.adapters.sql.tables import ping_receipts
from srvpulse.services.pinging import new_ping_id

MYSQL = os.environ.get("SRVPULSE_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306")
BATCH = 500


def fill(engine: Engine, new_id: Callable[[], str], receipts: int) -> list[float]:
    """Seconds per batch of BATCH receipts, ``receipts`` in all, into a fresh table."""
    ping_receipts.drop(engine, checkfirst=True)
    ping_receipts.create(engine)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    times: list[float] = []
    for _ in range(receipts // BATCH):
        rows = [{"ping_id": new_id(), "received_at": at} for _ in range(BATCH)]
        at += timedelta(seconds=1)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(ping_receipts), rows)
        times.append(time.perf_counter() - t0)
    ping_receipts.drop(engine)
    return times


def report(backend: str, engine: Engine, receipts: int) -> None:
    results: dict[str, tuple[float, float]] = {}
    for name, new_id in (("random (v4)", lambda: str(uuid.uuid4())), ("time (v7)", new_ping_id)):
        times = fill(engine, new_id, receipts)
        tenth = max(1, len(times) // 10)
        first, last = sum(times[:tenth]) / tenth, sum(times[-tenth:]) / tenth
        results[name] = (first, last)
        print(
            f"{backend:<7} {name:<12} {1000 * first:>10.1f} {1000 * last:>10.1f}   "
            f"({sum(times):.1f} s in all)",
            flush=True,
        )
    (r_first, r_last), (t_first, t_last) = results.values()
    print(f"{backend:<7} {'ratio':<12} {r_first / t_first:>9.1f}x {r_last / t_last:>9.1f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--receipts", type=int, default=1_000_000)
    p.add_argument("--backends", default="sqlite,mysql")
    args = p.parse_args()
    print(f"{args.receipts} receipts in batches of {BATCH}; ms per batch")
    print(f"{'backend':<7} {'ids':<12} {'first 10 %':>10} {'last 10 %':>10}")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                engine = make_engine(f"sqlite:///{tmp}/receipts.sqlite3")
                report(backend, engine, args.receipts)
                engine.dispose()
        elif backend == "mysql":
            server = create_engine(MYSQL)
            name = f"srvpulse_bench_receipts_{os.getpid()}"
            with server.begin() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
            try:
                engine = make_engine(f"{MYSQL}/{name}")
                report(backend, engine, args.receipts)
                engine.dispose()
            finally:
                with server.begin() as conn:
                    conn.execute(text(f"DROP DATABASE {name}"))
                server.dispose()
        else:
            raise SystemExit(f"unknown backend {backend!r}: sqlite or mysql")


if __name__ == "__main__":
    main()
