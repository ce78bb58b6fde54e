"""Open question 2: can InfluxDB store the job reports along with the points?

    .venv/bin/python bench/series_reports.py [--points 200] [--sizes 1000,10000,100000]

Writes ``--points`` reports of each size as a string field of one check's points on a
private influxd 1.6.7 (infra/influxd.py), then reads the newest 100 back and one
alone; the same reports go into a SQL table shaped like srvpulse's pings (MEDIUMTEXT
on MariaDB) on SQLite and on MariaDB (127.0.0.1:3306, a temporary database), in
transactions of 50. Prints write and read cost per report, disk per report on
InfluxDB, and ratios against SQLite measured in the same run. Then probes what
influxd 1.6.7 does with a 64 KiB + 1, 1 MiB and 10 MiB string and with a newline
inside a string field.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import string
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import mkdtemp

import httpx
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    Table,
    insert,
    select,
    text,
)
from srvpulse.adapters.influx import micros
from srvpulse.adapters.sql.db import make_engine
from srvpulse.adapters.sql.types import LongText, UTCDateTime

# The repository root, for the shared influxd helper (bench/influx_server.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.influx_server import Influxd, influxd

DB = "bench"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
MYSQL = os.environ.get("SRVPULSE_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306")
meta = MetaData()
reports = Table(
    "bench_reports",
    meta,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("check_id", Integer, nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("body", LongText),
    Index(None, "check_id", "id"),
)


def report(size: int, rng: random.Random) -> str:
    """Log-like text of ``size`` bytes, one line (see the newline probe)."""
    words = []
    length = 0
    while length <= size:
        w = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9)))
        words.append(w)
        length += len(w) + 1
    return " ".join(words)[:size]


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def median_time(fn: Callable[[], object], repeat: int = 5) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def influx_run(server: Influxd, size: int, bodies: list[str]) -> dict[str, float]:
    measurement = f"reports_{size}"
    check = str(uuid.uuid4())
    batch = max(1, min(5000, 5_000_000 // size))
    lines = [
        f'{measurement},check_id={check} kind="fail",report="{escape(b)}" '
        f"{micros(T0 + timedelta(minutes=i))}"
        for i, b in enumerate(bodies)
    ]
    with httpx.Client(timeout=600) as client:
        started = time.perf_counter()
        for i in range(0, len(lines), batch):
            resp = client.post(
                f"{server.url}/write",
                params={"db": DB, "precision": "u"},
                content="\n".join(lines[i : i + batch]).encode(),
            )
            assert resp.status_code == 204, resp.text[:300]
        write_s = time.perf_counter() - started

        def newest(limit: int) -> Callable[[], object]:
            def read() -> object:
                answer = server.query(
                    client,
                    DB,
                    f"SELECT report FROM {measurement} WHERE check_id = '{check}' "
                    f"ORDER BY time DESC LIMIT {limit}",
                )
                values = answer["results"][0]["series"][0]["values"]  # type: ignore[index]
                assert len(values) == limit and len(values[0][1]) == size
                return values

            return read

        many = min(100, len(bodies))
        read_many = median_time(newest(many))
        read_1 = median_time(newest(1))
    return {
        "write_ms": write_s * 1000 / len(bodies),
        "read100_ms": read_many * 1000 / many,
        "read1_ms": read_1 * 1000,
    }


def sql_run(engine: Engine, bodies: list[str]) -> dict[str, float]:
    meta.drop_all(engine)
    meta.create_all(engine)
    started = time.perf_counter()
    for i in range(0, len(bodies), 50):
        with engine.begin() as conn:
            conn.execute(
                insert(reports),
                [
                    {"check_id": 1, "created": T0 + timedelta(minutes=i + j), "body": b}
                    for j, b in enumerate(bodies[i : i + 50])
                ],
            )
    write_s = time.perf_counter() - started

    def newest(limit: int) -> Callable[[], object]:
        def read() -> object:
            with engine.connect() as conn:
                rows = conn.execute(
                    select(reports.c.body)
                    .where(reports.c.check_id == 1)
                    .order_by(reports.c.id.desc())
                    .limit(limit)
                ).all()
            assert len(rows) == limit
            return rows

        return read

    many = min(100, len(bodies))
    result = {
        "write_ms": write_s * 1000 / len(bodies),
        "read100_ms": median_time(newest(many)) * 1000 / many,
        "read1_ms": median_time(newest(1)) * 1000,
    }
    meta.drop_all(engine)
    return result


def probes(server: Influxd) -> None:
    print("\n== what influxd 1.6.7 does with long strings and newlines ==")
    with httpx.Client(timeout=600) as client:
        for n, size in enumerate((64 * 1024 + 1, 1024 * 1024, 10 * 1024 * 1024)):
            body = "x" * size
            resp = client.post(
                f"{server.url}/write",
                params={"db": DB, "precision": "s"},
                content=f'probe,check_id=a report="{body}" {1767225600 + n}'.encode(),
            )
            got = server.query(
                client, DB, f"SELECT report FROM probe WHERE time = {(1767225600 + n) * 10**9}"
            )
            series = got["results"][0].get("series")  # type: ignore[index]
            back = len(series[0]["values"][0][1]) if series else 0
            print(f"  {size:>9} byte string: HTTP {resp.status_code}, read back {back} bytes")
        for n, (label, value) in enumerate(
            (("a raw newline", "line one\nline two"), ("an escaped \\n", "line one\\nline two"))
        ):
            at = 1767229200 + n
            resp = client.post(
                f"{server.url}/write",
                params={"db": DB, "precision": "s"},
                content=f'nl,check_id=a report="{value}" {at}'.encode(),
            )
            got = server.query(client, DB, f"SELECT report FROM nl WHERE time = {at * 10**9}")
            series = got["results"][0].get("series")  # type: ignore[index]
            text_back = series[0]["values"][0][1] if series else None
            print(
                f"  {label}: HTTP {resp.status_code} {resp.text.strip()[:120]!r}, "
                f"read back {text_back!r}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    rng = random.Random(2)
    sizes = [int(s) for s in args.sizes.split(",")]
    sqlite = make_engine(f"sqlite:///{Path(mkdtemp()) / 'reports.sqlite3'}")
    mysql_db = f"bench_reports_{uuid.uuid4().hex[:8]}"
    mysql: Engine | None = None
    try:
        server_engine = make_engine(MYSQL + "/")
        with server_engine.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{mysql_db}`"))
        server_engine.dispose()
        mysql = make_engine(f"{MYSQL}/{mysql_db}")
    except Exception as exc:
        print(f"(MariaDB not reachable, skipped: {exc})")
    print(
        f"== {args.points} reports per size; per report: write (batched), "
        "read (of the newest 100), read one alone =="
    )
    print(
        f"{'size':>7} {'store':>9} {'write ms':>9} {'read ms':>8} {'one ms':>7} "
        f"{'B/report':>9}  vs SQLite"
    )
    try:
        with influxd() as server:
            server.admin(f"CREATE DATABASE {DB}")
            for size in sizes:
                bodies = [report(size, rng) for _ in range(args.points)]
                before = server.disk_bytes()
                runs = {"influxdb": influx_run(server, size, bodies)}
                server.settle()
                after = server.disk_bytes()
                disk = (after["data"] - before["data"]) / args.points
                runs["sqlite"] = sql_run(sqlite, bodies)
                if mysql is not None:
                    runs["mariadb"] = sql_run(mysql, bodies)
                base = runs["sqlite"]
                for store, r in runs.items():
                    ratio = (
                        f"write x{r['write_ms'] / base['write_ms']:.1f}, "
                        f"read x{r['read100_ms'] / base['read100_ms']:.1f}"
                    )
                    per = f"{disk:>9.0f}" if store == "influxdb" else f"{'':>9}"
                    print(
                        f"{size:>7} {store:>9} {r['write_ms']:>9.3f} {r['read100_ms']:>8.3f} "
                        f"{r['read1_ms']:>7.2f} {per}  {ratio}",
                        flush=True,
                    )
            probes(server)
    finally:
        if mysql is not None:
            mysql.dispose()
            server_engine = make_engine(MYSQL + "/")
            with server_engine.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{mysql_db}`"))
            server_engine.dispose()


if __name__ == "__main__":
    main()
