"""Open question 1: can InfluxDB hold very many series in one measurement with one tag?

    .venv/bin/python bench/series_scale.py [--checks 1000,10000,100000] [--points 20]
                                            [--index inmem|tsi1] [--skip-limits]

For each number of checks, on a fresh private influxd 1.6.7 (infra/influxd.py, limits
off): writes ``--points`` points per check in time order (every check pings once an
hour, as production traffic arrives), encoded by the production serializer
(srvpulse.adapters.influx.line) in batches of 5 000 over one keep-alive connection;
then prints write throughput, influxd's resident memory, disk bytes per point (after
the WAL is snapshotted to TSM files), the time of one check's history page (the runs
API's query) and one check's aggregate, and of one aggregate GROUP BY check_id over
all checks; ratios are against the first (smallest) run. First, with the 1.x default
limits, it shows where influxd refuses: max-values-per-tag (100 000) at the first
check beyond it, and max-series-per-database (scaled down to 1 000 here, 1 000 000 by
default) the same way. Takes a few minutes at 100 000 checks.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from srvpulse.adapters.influx import line, micros
from srvpulse.domain.runs import SeriesPoint

# The repository root, for the shared influxd helper (bench/influx_server.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.influx_server import Influxd, influxd

DB = "bench"
BATCH = 5000
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def lines(checks: list[str], per_check: int, rng: random.Random) -> list[str]:
    out = []
    for i in range(per_check):
        for n, check in enumerate(checks):
            at = T0 + timedelta(hours=i, milliseconds=n)
            out.append(
                line(
                    SeriesPoint(
                        check,
                        at,
                        "success",
                        exit_status=0,
                        duration_ms=int(rng.lognormvariate(11, 0.3)),
                        summary="backed up 12 GB",
                        report_bytes=rng.randint(0, 5000),
                        remote_addr="203.0.113.7",
                    )
                )
            )
    return out


def write(client: httpx.Client, server: Influxd, body_lines: list[str]) -> tuple[int, str]:
    """(points refused, first error) for writing the lines in batches."""
    refused, error = 0, ""
    for i in range(0, len(body_lines), BATCH):
        chunk = body_lines[i : i + BATCH]
        resp = client.post(
            f"{server.url}/write",
            params={"db": DB, "precision": "u"},
            content="\n".join(chunk).encode(),
        )
        if resp.status_code != 204:
            message = resp.json().get("error", resp.text)
            error = error or message
            refused += (
                int(message.rsplit("dropped=", 1)[1]) if "dropped=" in message else len(chunk)
            )
    return refused, error


def timed(fn: object, repeat: int) -> float:
    """Median seconds of ``repeat`` calls (after one warm-up)."""
    call = fn  # type: ignore[assignment]
    call()  # type: ignore[operator]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def limits() -> None:
    print("== where the 1.x defaults refuse ==")
    rng = random.Random(1)
    with influxd() as server, httpx.Client(timeout=600) as client:
        server.admin(f"CREATE DATABASE {DB}")
        checks = [str(uuid.uuid4()) for _ in range(100_005)]
        refused, error = write(client, server, lines(checks, 1, rng))
        print(f"max-values-per-tag 100000 (default): wrote 100 005 checks, {refused} refused")
        print(f"  influxd: {error[:200]}")
    with influxd("--max-series", "1000") as server, httpx.Client(timeout=600) as client:
        server.admin(f"CREATE DATABASE {DB}")
        checks = [str(uuid.uuid4()) for _ in range(1005)]
        refused, error = write(client, server, lines(checks, 1, rng))
        print(
            f"max-series-per-database 1000 (default 1000000): wrote 1 005 checks, {refused} refused"
        )
        print(f"  influxd: {error[:200]}")
    print()


def scale(n_checks: int, per_check: int, index: str) -> dict[str, float]:
    rng = random.Random(n_checks)
    checks = [str(uuid.uuid4()) for _ in range(n_checks)]
    body = lines(checks, per_check, rng)
    options = ("--max-values-per-tag", "0", "--max-series", "0", "--index-version", index)
    with influxd(*options) as server, httpx.Client(timeout=600) as client:
        server.admin(f"CREATE DATABASE {DB}")
        idle_rss = server.rss_mb()
        started = time.perf_counter()
        refused, error = write(client, server, body)
        elapsed = time.perf_counter() - started
        assert refused == 0, error
        server.settle()
        rss = server.rss_mb()
        disk = server.disk_bytes()
        points = len(body)
        sample = rng.sample(checks, 25)
        since, until = micros(T0) * 1000, micros(T0 + timedelta(hours=per_check)) * 1000

        def page() -> None:
            for c in sample:
                server.query(
                    client,
                    DB,
                    "SELECT kind, exit_status, duration_ms, rid, summary, report_bytes, "
                    f"remote_addr FROM pings WHERE check_id = '{c}' AND time >= {since} "
                    f"AND time < {until} ORDER BY time DESC LIMIT 101",
                )

        def aggregate() -> None:
            for c in sample:
                server.query(
                    client,
                    DB,
                    "SELECT median(duration_ms), percentile(duration_ms, 95), count(duration_ms) "
                    f"FROM pings WHERE check_id = '{c}' AND time >= {since}",
                )

        def everyone() -> None:
            answer = server.query(
                client,
                DB,
                "SELECT median(duration_ms), count(duration_ms) FROM pings "
                f"WHERE time >= {since} GROUP BY check_id",
            )
            results = answer["results"]
            assert isinstance(results, list)
            assert len(results[0]["series"]) == n_checks

        one_page = timed(page, 3) / len(sample)
        one_agg = timed(aggregate, 3) / len(sample)
        started = time.perf_counter()
        everyone()
        all_checks = time.perf_counter() - started
    return {
        "points": points,
        "write_s": elapsed,
        "points_per_s": points / elapsed,
        "idle_rss_mb": idle_rss,
        "rss_mb": rss,
        "tsm_bytes_per_point": disk["data"] / points,
        "wal_left": disk["wal"],
        "page_ms": one_page * 1000,
        "agg_ms": one_agg * 1000,
        "all_s": all_checks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checks", default="1000,10000,100000")
    parser.add_argument("--points", type=int, default=20, help="points per check")
    parser.add_argument("--index", choices=("inmem", "tsi1"), default="inmem")
    parser.add_argument("--skip-limits", action="store_true")
    args = parser.parse_args()
    if not args.skip_limits:
        limits()
    sizes = [int(x) for x in args.checks.split(",")]
    print(f"== {args.points} points per check, index {args.index}, influxd 1.6.7 ==")
    header = (
        f"{'checks':>8} {'points':>9} {'write/s':>9} {'RSS MB':>8} {'B/point':>8} "
        f"{'page ms':>8} {'agg ms':>7} {'all checks s':>12}"
    )
    print(header)
    base: dict[str, float] | None = None
    for n in sizes:
        r = scale(n, args.points, args.index)
        base = base or r
        print(
            f"{n:>8} {int(r['points']):>9} {r['points_per_s']:>9.0f} {r['rss_mb']:>8.0f} "
            f"{r['tsm_bytes_per_point']:>8.1f} {r['page_ms']:>8.2f} {r['agg_ms']:>7.2f} "
            f"{r['all_s']:>12.2f}",
            flush=True,
        )
        print(
            f"{'':>8} vs {sizes[0]}: write/s x{r['points_per_s'] / base['points_per_s']:.2f}, "
            f"RSS above idle {r['rss_mb'] - r['idle_rss_mb']:.0f} MB "
            f"({(r['rss_mb'] - r['idle_rss_mb']) * 1024 * 1024 / n:.0f} B/check), "
            f"page x{r['page_ms'] / base['page_ms']:.2f}, agg x{r['agg_ms'] / base['agg_ms']:.2f}, "
            f"all x{r['all_s'] / base['all_s']:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
