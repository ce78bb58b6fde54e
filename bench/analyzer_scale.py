"""Analyzer scale: one pass over 100 000 checks of which 1 % are due, on MariaDB and SQLite;
then all of them due at once.

    .venv/bin/python bench/analyzer_scale.py [--checks 100000] [--backends sqlite,mysql]
        [--no-fleet]

Every check has one channel assigned. For each backend it measures one analyzer pass
with 0 due checks (baseline), 0.1 % due and 1 % due (each due check flips to down and
records one alert event), and prints time per pass, rows read and the ratio to the
0.1 % pass measured in the same run. Cost proportional to the due checks means the 1 %
pass costs about 10x the 0.1 % pass, and the 0-due pass next to nothing, whatever the
table size. Then every check is made due at once (an hourly fleet at :00) and passes run
back to back until none is left, as ``run_for`` runs them (1 000 due checks, then twice
as many after a full pass, up to 2 000): the time until all are decided. The MariaDB
server is SRVPULSE_TEST_MYSQL (as in the tests). ``--no-fleet``: the single passes only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete, text, update
from srvpulse.adapters.memory import LocalAlertBus
from srvpulse.adapters.sql.analyzer_store import SqlAnalyzerStore
from srvpulse.adapters.sql.db import make_engine, migrate
from srvpulse.adapters.sql.tables import alert_events, checks, flips
from srvpulse.services.analyzing import Analyzer

# The seed is the analyzer concurrency test's, so a schema change that breaks it shows
# in the test suite rather than the next time someone runs this by hand.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.analyzer_seed import seed_checks

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=2)
MYSQL = os.environ.get("SRVPULSE_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306")
REPEATS = 3


def make_due(engine: Engine, first_id: int, count: int) -> None:
    if count == 0:
        return
    with engine.begin() as conn:
        conn.execute(
            update(checks)
            .where(checks.c.id >= first_id, checks.c.id < first_id + count)
            .values(last_ping=T0, alert_after=T0 + timedelta(minutes=70))
        )


def measure(engine: Engine, n: int) -> dict[int, tuple[float, int, int]]:
    """due count -> (median seconds per pass, rows read, flips)."""
    results: dict[int, tuple[float, int, int]] = {}
    next_id = 1
    for due in (0, n // 1000, n // 100):
        times, rows, flips = [], [], []
        for _ in range(REPEATS):
            make_due(engine, next_id, due)
            next_id += due
            store = SqlAnalyzerStore(engine)
            analyzer = Analyzer(store, LocalAlertBus(), batch_limit=max(due, 1))
            started = time.perf_counter()
            report = analyzer.run_pass(NOW)
            times.append(time.perf_counter() - started)
            rows.append(report.rows_read)
            flips.append(report.flips)
            assert report.flips == due and report.published == due, report
        results[due] = (statistics.median(times), int(statistics.median(rows)), flips[0])
    return results


def fleet(engine: Engine, n: int) -> tuple[float, int, int]:
    """Every check due at once (an hourly fleet at :00): (seconds until no check is due,
    passes, flips), passes run back to back as ``run_for`` does."""
    with engine.begin() as conn:
        conn.execute(delete(alert_events))
        conn.execute(delete(flips))
        conn.execute(
            update(checks).values(
                status="up",
                last_ping=T0,
                alert_after=T0 + timedelta(minutes=70),
                next_reminder_at=None,
                missed_deadline=None,
                consecutive_failures=0,
                consecutive_successes=1,
            )
        )
    analyzer = Analyzer(SqlAnalyzerStore(engine), LocalAlertBus(), batch_limit=1000)
    passes = flipped = 0
    started = time.perf_counter()
    while True:
        report = analyzer.run_pass(NOW)
        passes += 1
        flipped += report.flips
        if not report.full:
            break
    return time.perf_counter() - started, passes, flipped


def explain_due_query(engine: Engine) -> str:
    sql = checks.select().with_only_columns(checks.c.id).where(checks.c.alert_after <= NOW)
    compiled = (
        sql.order_by(checks.c.alert_after)
        .limit(1000)
        .compile(engine, compile_kwargs={"literal_binds": True})
    )
    prefix = "EXPLAIN " if engine.dialect.name == "mysql" else "EXPLAIN QUERY PLAN "
    with engine.connect() as conn:
        return "; ".join(str(tuple(r)) for r in conn.execute(text(prefix + str(compiled))))


def run_backend(name: str, n: int, with_fleet: bool = True) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="srvpulse-bench-"))
    db_name = f"srvpulse_bench_{uuid.uuid4().hex[:8]}"
    if name == "sqlite":
        engine = make_engine(f"sqlite:///{tmp / 'bench.sqlite3'}")
    else:
        server = make_engine(MYSQL + "/")
        with server.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{db_name}`"))
        engine = make_engine(f"{MYSQL}/{db_name}")
    try:
        migrate(engine)
        started = time.perf_counter()
        # Not due: pinged "now", next deadline in 70 minutes (make_due moves some back).
        seed_checks(engine, n, NOW)
        print(f"\n{name}: {n} checks seeded in {time.perf_counter() - started:.1f} s")
        print(f"  due-check query plan: {explain_due_query(engine)}")
        results = measure(engine, n)
        base_due = n // 1000
        base_time = results[base_due][0]
        print(f"  {'due checks':>10} {'ms/pass':>9} {'rows read':>10} {'x time vs 0.1 %':>16}")
        for due, (secs, rows, _flips) in results.items():
            print(f"  {due:>10} {secs * 1000:>9.1f} {rows:>10} {secs / base_time:>16.2f}")
        per_check = results[n // 100][0] / (n // 100) * 1000
        print(f"  => {per_check:.2f} ms per due check; rows read ~ due checks, not {n}")
        if not with_fleet:
            return
        took, passes, flipped = fleet(engine, n)
        print(
            f"  all {n} due at once: {flipped} flips in {passes} passes, {took:.1f} s "
            f"({took / n * 1e6:.0f} ms per 1 000 checks)"
        )
        assert flipped == n
    finally:
        engine.dispose()
        if name == "mysql":
            with server.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{db_name}`"))
            server.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,mysql")
    parser.add_argument("--no-fleet", action="store_true", help="skip the 'all due at once' part")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        run_backend(backend.strip(), args.checks, with_fleet=not args.no_fleet)


if __name__ == "__main__":
    main()
