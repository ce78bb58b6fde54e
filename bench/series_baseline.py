"""Open question 3 (second half): how does the detector get each check's baseline
without scanning all series?

    .venv/bin/python bench/series_baseline.py [--checks 1000] [--runs 60] [--pings 2000]

Two ways, on the same history (``--checks`` daily jobs with ``--runs`` completed runs
each, lognormal durations):

A. ask the series store per check: at each completion, the last 30 durations of the
   check from InfluxDB (``SELECT duration_ms ... WHERE check_id = ... AND kind =
   'success' ORDER BY time DESC LIMIT 30``, the window the detector uses), or one
   aggregate query for every check (``GROUP BY check_id``), on a private influxd 1.6.7;
B. keep each check's baseline in SQL and update it at ingest (what srvpulse does): per
   batch of 100 pings one SELECT of the batch's JSON states by primary key,
   ``domain.detection.observe_completion`` per ping, one executemany UPDATE, in the
   batch's transaction; on SQLite and on MariaDB.

Prints milliseconds per completed run for each, the size of a baseline's state, and
B's cost against A's measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import mkdtemp

import httpx
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    Table,
    bindparam,
    insert,
    select,
    text,
    update,
)
from srvpulse.adapters.influx import line, micros
from srvpulse.adapters.sql.db import make_engine
from srvpulse.adapters.sql.types import LongText
from srvpulse.domain.detection import Baseline, DetectorConfig, observe_completion
from srvpulse.domain.runs import SeriesPoint

# The repository root, for the shared influxd helper (bench/influx_server.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.influx_server import influxd

DB = "bench"
T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
MYSQL = os.environ.get("SRVPULSE_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306")
meta = MetaData()
baselines = Table(
    "bench_baselines",
    meta,
    Column("check_id", Integer, primary_key=True, autoincrement=False),
    Column("state", LongText, nullable=False),
)
CONFIG = DetectorConfig()


def history(n_checks: int, runs: int, rng: random.Random) -> dict[str, list[tuple[datetime, int]]]:
    """Per check uuid: (completion time, duration ms) of each daily run."""
    out = {}
    for _ in range(n_checks):
        typical = rng.lognormvariate(4.5, 1.0)  # ~90 s, varying per job
        runs_of = []
        for day in range(runs):
            started = T0 + timedelta(days=day, seconds=rng.randint(0, 120))
            ms = int(typical * rng.lognormvariate(0, 0.15) * 1000)
            runs_of.append((started + timedelta(milliseconds=ms), ms))
        out[str(uuid.uuid4())] = runs_of
    return out


def approach_a(hist: dict[str, list[tuple[datetime, int]]], sample: list[str]) -> dict[str, float]:
    with influxd() as server, httpx.Client(timeout=600) as client:
        server.admin(f"CREATE DATABASE {DB}")
        lines = [
            line(SeriesPoint(check, at, "success", exit_status=0, duration_ms=ms))
            for check, runs in hist.items()
            for at, ms in runs
        ]
        for i in range(0, len(lines), 5000):
            client.post(
                f"{server.url}/write",
                params={"db": DB, "precision": "u"},
                content="\n".join(lines[i : i + 5000]).encode(),
            ).raise_for_status()
        server.settle()

        def last_30(check: str) -> list[int]:
            answer = server.query(
                client,
                DB,
                f"SELECT duration_ms FROM pings WHERE check_id = '{check}' AND kind = 'success' "
                "ORDER BY time DESC LIMIT 30",
            )
            values = answer["results"][0]["series"][0]["values"]  # type: ignore[index]
            return [v[1] for v in values]

        for check in sample[:20]:  # warm-up
            last_30(check)
        samples = []
        for check in sample:
            started = time.perf_counter()
            durations = last_30(check)
            statistics.median(durations)
            samples.append(time.perf_counter() - started)
        since = micros(T0) * 1000
        started = time.perf_counter()
        answer = server.query(
            client,
            DB,
            "SELECT median(duration_ms), percentile(duration_ms, 90), count(duration_ms) "
            f"FROM pings WHERE time >= {since} AND kind = 'success' GROUP BY check_id",
        )
        everyone = time.perf_counter() - started
        assert len(answer["results"][0]["series"]) == len(hist)  # type: ignore[index]
    return {"per_run_ms": statistics.median(samples) * 1000, "all_checks_s": everyone}


def seed(engine: Engine, hist: dict[str, list[tuple[datetime, int]]]) -> tuple[list[str], int]:
    """Baselines learnt from each check's history; returns the check order and the
    median state size in bytes."""
    meta.drop_all(engine)
    meta.create_all(engine)
    order = list(hist)
    rows, sizes = [], []
    for n, check in enumerate(order):
        b = Baseline()
        for at, ms in hist[check]:
            b = observe_completion(b, CONFIG, at, at - timedelta(milliseconds=ms)).baseline
        state = b.to_json()
        sizes.append(len(state))
        rows.append({"check_id": n + 1, "state": state})
    with engine.begin() as conn:
        conn.execute(insert(baselines), rows)
    return order, int(statistics.median(sizes))


def approach_b(
    engine: Engine, hist: dict[str, list[tuple[datetime, int]]], pings: int, rng: random.Random
) -> dict[str, float]:
    order, size = seed(engine, hist)
    runs = len(next(iter(hist.values())))
    picks = [rng.randrange(len(order)) + 1 for _ in range(pings)]
    cpu = 0.0
    started = time.perf_counter()
    for i in range(0, pings, 100):  # 100 pings per transaction, like an ingest batch
        chunk = picks[i : i + 100]
        with engine.begin() as conn:
            # One bulk read and one bulk write per batch, as ingest's hook does.
            rows = conn.execute(
                select(baselines.c.check_id, baselines.c.state).where(
                    baselines.c.check_id.in_(set(chunk))
                )
            ).all()
            states = {r.check_id: r.state for r in rows}
            c0 = time.perf_counter()
            for n in chunk:
                finished = T0 + timedelta(days=runs, seconds=rng.randint(0, 120) + 95)
                obs = observe_completion(
                    Baseline.from_json(states[n]),
                    CONFIG,
                    finished,
                    finished - timedelta(seconds=95),
                )
                states[n] = obs.baseline.to_json()
            cpu += time.perf_counter() - c0
            conn.execute(
                update(baselines).where(baselines.c.check_id == bindparam("id")),
                [{"id": n, "state": states[n]} for n in set(chunk)],
            )
    elapsed = time.perf_counter() - started
    meta.drop_all(engine)
    return {"per_run_ms": elapsed * 1000 / pings, "cpu_ms": cpu * 1000 / pings, "state_bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=60, help="completed runs per check")
    parser.add_argument("--pings", type=int, default=2000, help="completions timed for B")
    args = parser.parse_args()
    rng = random.Random(3)
    hist = history(args.checks, args.runs, rng)
    sample = rng.sample(list(hist), min(500, len(hist)))
    print(f"== {args.checks} checks x {args.runs} daily runs ==")
    a = approach_a(hist, sample)
    print(
        f"A  InfluxDB, last 30 durations of one check:  {a['per_run_ms']:.2f} ms per completed run"
    )
    print(
        f"A' InfluxDB, one aggregate GROUP BY check_id:  {a['all_checks_s']:.2f} s for all checks"
    )
    engines = {"sqlite": make_engine(f"sqlite:///{Path(mkdtemp()) / 'baselines.sqlite3'}")}
    mysql_db = f"bench_baselines_{uuid.uuid4().hex[:8]}"
    try:
        server_engine = make_engine(MYSQL + "/")
        with server_engine.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{mysql_db}`"))
        server_engine.dispose()
        engines["mariadb"] = make_engine(f"{MYSQL}/{mysql_db}")
    except Exception as exc:
        print(f"(MariaDB not reachable, skipped: {exc})")
    try:
        for name, engine in engines.items():
            b = approach_b(engine, hist, args.pings, rng)
            print(
                f"B  baseline in SQL ({name}): {b['per_run_ms']:.3f} ms per completed run "
                f"(detector CPU {b['cpu_ms']:.3f} ms), state {b['state_bytes']} bytes; "
                f"x{b['per_run_ms'] / a['per_run_ms']:.2f} of A"
            )
    finally:
        for engine in engines.values():
            engine.dispose()
        if "mariadb" in engines:
            server_engine = make_engine(MYSQL + "/")
            with server_engine.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{mysql_db}`"))
            server_engine.dispose()


if __name__ == "__main__":
    main()
