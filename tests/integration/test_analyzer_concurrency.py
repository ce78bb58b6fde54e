"""Three analyzer loops against one MariaDB database: each flip and each alert event
exactly once, however the passes interleave."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select
from srvpulse.adapters.memory import LocalAlertBus
from srvpulse.adapters.sql.analyzer_store import SqlAnalyzerStore
from srvpulse.adapters.sql.tables import (
    alert_events,
    flips,
)
from srvpulse.services.analyzing import Analyzer, PassReport

from tests.analyzer_seed import seed_checks

N_CHECKS = 2500
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def at_once(work: Callable[[int], None], n: int = 3) -> None:
    """Run ``work(0)`` .. ``work(n - 1)`` in n threads released together; an error in any
    of them fails the test."""
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            start.wait()
            work(i)
        except BaseException as exc:  # surfaced below, with the thread's traceback
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []


def unpublished_events(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(alert_events)
            .where(alert_events.c.published_at.is_(None))
        ).scalar()


def test_three_analyzers_at_once_flip_and_alert_each_check_exactly_once(
    mysql_engine: Engine,
) -> None:
    # N_CHECKS checks last pinged at T0 (1 h period, 10 min grace), all overdue at T0 + 2 h.
    seed_checks(mysql_engine, N_CHECKS, T0)
    now = T0 + timedelta(hours=2)
    buses = [LocalAlertBus() for _ in range(3)]
    reports: list[list[PassReport]] = [[] for _ in range(3)]

    def loop(i: int) -> None:
        analyzer = Analyzer(SqlAnalyzerStore(mysql_engine), buses[i], batch_limit=400)
        for _ in range(100):
            report = analyzer.run_pass(now)
            reports[i].append(report)
            if report.due == 0:
                return

    at_once(loop)

    with mysql_engine.connect() as conn:
        flip_rows = conn.execute(select(flips.c.check_id, flips.c.reason)).all()
        event_count = conn.execute(select(func.count()).select_from(alert_events)).scalar()
    unpublished = unpublished_events(mysql_engine)
    assert len(flip_rows) == N_CHECKS
    assert len({r.check_id for r in flip_rows}) == N_CHECKS
    assert {r.reason for r in flip_rows} == {"late"}
    assert event_count == N_CHECKS and unpublished == 0

    published = [e for bus in buses for e in bus.published]
    assert len(published) == N_CHECKS
    assert len({e.idempotency_key for e in published}) == N_CHECKS
    # How the work spreads over the three depends on thread scheduling; that no check is
    # decided twice does not, and is what is asserted.
    lost = sum(r.lost_races for rs in reports for r in rs)
    written = sum(r.written for rs in reports for r in rs)
    assert sum(r.flips for rs in reports for r in rs) == N_CHECKS
    print(f"\n{N_CHECKS} due checks, 3 analyzers: {written} written, {lost} lost races")


def test_three_analyzers_republish_a_crashed_publishers_events_each_exactly_once(
    mysql_engine: Engine,
) -> None:
    # A publisher recorded N_STALE events and crashed before publishing them; once the
    # lease is over, three analyzers claim them at the same time.
    n_stale = 600
    seed_checks(mysql_engine, n_stale, T0)
    now = T0 + timedelta(hours=2)

    class Crashed:
        def publish(self, events: object) -> None:
            raise ConnectionError("the process died before SNS took them")

    crashed = Analyzer(SqlAnalyzerStore(mysql_engine), Crashed(), batch_limit=n_stale)
    assert crashed.run_pass(now).flips == n_stale
    later = now + timedelta(minutes=2)
    buses = [LocalAlertBus() for _ in range(3)]

    def loop(i: int) -> None:
        # Small claims, so the three take turns over the stale events.
        analyzer = Analyzer(SqlAnalyzerStore(mysql_engine), buses[i], batch_limit=50)
        for _ in range(40):
            if analyzer.run_pass(later).republished == 0:
                return

    at_once(loop)

    published = [e for bus in buses for e in bus.published]
    assert len(published) == n_stale
    assert len({e.idempotency_key for e in published}) == n_stale
    assert unpublished_events(mysql_engine) == 0
