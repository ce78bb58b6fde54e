"""Ping load benchmark for the local mode (run by hand; loopback only, bounded).

    .venv/bin/python bench/ping_load.py                 # c = 10, 50, 200; 3 rounds of 5 s
    .venv/bin/python bench/ping_load.py -d 3 -c 50 --rounds 5 --burst 10000

Starts the local mode on a free port with a fresh data dir and CHECKS checks, and, in the
same run, a bare ASGI "OK" app under the same server (granian, same settings, one
process) -- the baseline the targets name -- and the same bare app through RSGI, the
interface the edge itself uses (ratio RSGI: pings / that). With wrk (Debian package
`wrk`) all three are loaded with keep-alive connections, interleaved per concurrency
level, the pings spread over the checks; prints requests/s and p99 for each, the
ratios, and how fast ingest followed (ingested/s: pings accepted
in the round / time until the queue was empty again; end-to-end: how long after the
round the last ping was stored). Without wrk, a Python client does the same (slower:
it caps both figures).

--rounds N (default 3): each level is N rounds of bare ASGI, bare RSGI, pings, back to
back; a line per round, then each column's median ("med"), the ratios as the median of
each round's own ratio. Why: on this 2-CPU machine the bare app alone moves between
31 000 and 58 000 req/s from one 5-second round to the next, so one round's ratio
(0.22 in one run, 0.29 in the next, for the same code) decides nothing.

--burst N: the hour-start burst. N checks, then one ping to each from 200 connections
as fast as the client can send; prints how long sending took, how many were answered
200, and how long after the last answer all N were stored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_KEY = "bench-read-write-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The baseline: answers "OK" to everything, doing nothing else."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"OK"})


async def bare_rsgi_app(scope: Any, proto: Any) -> None:
    """The same baseline through granian's own interface (RSGI), which the edge uses."""
    proto.response_bytes(200, [("content-type", "text/plain"), ("content-length", "2")], b"OK")


def serve_bare(port: int, interface: str) -> None:
    import uvloop
    from srvpulse.local.runner import serve_until_stopped
    from srvpulse.settings import Settings

    app = bare_app if interface == "asgi" else bare_rsgi_app
    uvloop.run(serve_until_stopped(app, Settings(host="127.0.0.1", port=port), None, interface))


@contextmanager
def process(cmd: list[str], env: dict[str, str], url: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{cmd} exited with {proc.returncode}")
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{url} did not come up") from None
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=120)


def seed(data_dir: Path, n: int) -> list[str]:
    """``n`` checks straight into a fresh SQLite database (migrated); their uuids."""
    from srvpulse.adapters.sql.db import make_engine, migrate

    from tests.analyzer_seed import seed_checks

    engine = make_engine(f"sqlite:///{data_dir / 'srvpulse.sqlite3'}")
    migrate(engine)
    seed_checks(engine, n, datetime.now(UTC))
    engine.dispose()
    conn = sqlite3.connect(data_dir / "srvpulse.sqlite3")
    uuids = [row[0] for row in conn.execute("SELECT uuid FROM checks ORDER BY id")]
    conn.close()
    return uuids


class Store:
    """Read-only looks at the local mode's files: queue depth, stored pings."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def _one(self, db: str, sql: str) -> int:
        conn = sqlite3.connect(f"file:{self.data_dir / db}?mode=ro", uri=True, timeout=30)
        try:
            return int(conn.execute(sql).fetchone()[0])
        finally:
            conn.close()

    def queued(self) -> int:
        return self._one("queue.sqlite3", "SELECT COUNT(*) FROM messages")

    def stored(self) -> int:
        return self._one("srvpulse.sqlite3", "SELECT COUNT(*) FROM ping_receipts")

    def wait_drained(self, timeout: float = 600) -> float:
        """Seconds until the queue is empty."""
        t0 = time.perf_counter()
        while self.queued() > 0:
            if time.perf_counter() - t0 > timeout:
                raise SystemExit("ingest did not catch up within 10 minutes")
            time.sleep(0.02)
        return time.perf_counter() - t0


# --- load generators ---------------------------------------------------------------------
_WRK_LUA = """
local uuids = {}
for line in io.lines(os.getenv("BENCH_UUIDS")) do uuids[#uuids + 1] = line end
local i = math.random(#uuids)
request = function()
  i = i % #uuids + 1
  return wrk.format("GET", "/ping/" .. uuids[i])
end
"""


def wrk(
    url: str, c: int, seconds: float, script: Path | None, env: dict[str, str]
) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{c}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, env=env, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rate": rate,
        "p99": p99,
        "total": total,
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def python_load(url: str, paths: list[str], c: int, seconds: float) -> dict[str, float]:
    """The fallback client: c threads with keep-alive, for ``seconds``."""
    latencies: list[float] = []
    non2xx = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker(k: int) -> None:
        nonlocal non2xx
        mine: list[float] = []
        bad = 0
        with httpx.Client(base_url=url, timeout=10) as client:
            n = k
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = client.get(paths[n % len(paths)])
                mine.append((time.perf_counter() - t0) * 1000)
                bad += r.status_code != 200
                n += c
        with lock:
            latencies.extend(mine)
            non2xx += bad

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(c)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)] if latencies else 0.0
    return {"rate": len(latencies) / elapsed, "p99": p99, "total": len(latencies), "non2xx": non2xx}


async def _burst_client(port: int, uuids: list[str], connections: int) -> tuple[float, int]:
    """One GET /ping/<uuid> per uuid over ``connections`` keep-alive connections; returns
    (seconds to send all and read every answer, answers that were 200)."""
    todo = iter(uuids)
    ok = 0

    async def conn() -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for uuid in todo:
            writer.write(f"GET /ping/{uuid} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            ok += head.startswith(b"HTTP/1.1 200")
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(conn() for _ in range(connections)))
    return time.perf_counter() - t0, ok


# --- one round: the bare apps, then the pings, back to back ---------------------------
def measure(
    c: int,
    seconds: float,
    use_wrk: bool,
    urls: tuple[str, str, str],
    paths: list[str],
    script: Path,
    store: Store,
    env: dict[str, str],
) -> dict[str, float]:
    """One round at ``c`` connections: req/s and p99 of each bare app, then of the pings,
    their ratios (to the bare apps of this round, measured seconds before), ingested/s
    and end-to-end."""
    bare_url, rsgi_url, url = urls
    if use_wrk:
        bare = wrk(bare_url + "/", c, seconds, None, env)
        rsgi = wrk(rsgi_url + "/", c, seconds, None, env)
        before = store.stored()
        t0 = time.perf_counter()
        ping = wrk(url + "/", c, seconds, script, env)
    else:
        bare = python_load(bare_url, ["/"], c, seconds)
        rsgi = python_load(rsgi_url, ["/"], c, seconds)
        before = store.stored()
        t0 = time.perf_counter()
        ping = python_load(url, paths, c, seconds)
    sent_for = time.perf_counter() - t0
    lag = store.wait_drained()
    return {
        "bare": bare["rate"],
        "bare_p99": bare["p99"],
        "rsgi": rsgi["rate"],
        "rsgi_p99": rsgi["p99"],
        "pings": ping["rate"],
        "p99": ping["p99"],
        "ratio": ping["rate"] / bare["rate"],
        "ratio_rsgi": ping["rate"] / rsgi["rate"],
        "ingested": (store.stored() - before) / (sent_for + lag),
        "lag": lag,
        "non2xx": ping["non2xx"],
    }


def median_row(rows: list[dict[str, float]]) -> dict[str, float]:
    """Each column's median over the rounds (the ratios: the median of each round's own
    ratio, not a ratio of medians, so a drift of the machine between rounds cancels)."""
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


def format_row(label: str, r: dict[str, float]) -> str:
    errors = f"  non-200: {r['non2xx']:.0f}" if r["non2xx"] else ""
    return (
        f"{label:>6} {r['bare']:>16.0f} {r['bare_p99']:>6.1f}ms {r['rsgi']:>16.0f} "
        f"{r['rsgi_p99']:>6.1f}ms {r['pings']:>12.0f} {r['p99']:>6.1f}ms "
        f"{r['ratio']:>6.2f} {r['ratio_rsgi']:>10.2f} "
        f"{r['ingested']:>11.0f} {r['lag']:>9.1f} s{errors}"
    )


# --- the runs ----------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", type=int, action="append", help="connections (repeat; 10 50 200)")
    parser.add_argument("-d", type=float, default=5, help="seconds per round (max 60)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per level, interleaved (default 3)"
    )
    parser.add_argument("--checks", type=int, default=1000, help="checks the pings go to")
    parser.add_argument("--burst", type=int, default=0, help="hour-start burst of N pings")
    parser.add_argument("--python-client", action="store_true", help="never use wrk")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--interface", default="asgi", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.interface)
        return
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    levels = args.c or [10, 50, 200]
    seconds = min(args.d, 60)
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        uuids = seed(data, max(args.checks, args.burst))
        uuid_file = Path(tmp) / "uuids.txt"
        uuid_file.write_text("\n".join(uuids[: args.checks]) + "\n")
        script = Path(tmp) / "pings.lua"
        script.write_text(_WRK_LUA)
        env["BENCH_UUIDS"] = str(uuid_file)
        store = Store(data)

        bare_port, rsgi_port, port = free_port(), free_port(), free_port()
        bare_url, url = f"http://127.0.0.1:{bare_port}", f"http://127.0.0.1:{port}"
        rsgi_url = f"http://127.0.0.1:{rsgi_port}"
        local_env = {
            **env,
            "PORT": str(port),
            "SRVPULSE_DATA_DIR": str(data),
            "SRVPULSE_BOOTSTRAP_API_KEY": BENCH_KEY,
            "LOG_LEVEL": "WARNING",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        bare_cmd = [sys.executable, __file__, "--serve-bare", str(bare_port)]
        rsgi_cmd = [sys.executable, __file__, "--serve-bare", str(rsgi_port), "--interface", "rsgi"]
        with (
            process(bare_cmd, env, bare_url + "/"),
            process(rsgi_cmd, env, rsgi_url + "/"),
            process([sys.executable, "-m", "srvpulse.local"], local_env, url + "/ping/"),
        ):
            client = "wrk -t2 (keep-alive)" if use_wrk else "Python threads (keep-alive)"
            print(
                f"client: {client}; {seconds:g} s per round; pings spread over "
                f"{args.checks} checks; {os.cpu_count()} CPUs shared by client and servers"
            )
            print(
                f"{'c':>6} {'bare ASGI req/s':>16} {'p99':>8} {'bare RSGI req/s':>16} {'p99':>8} "
                f"{'pings req/s':>12} {'p99':>8} {'ratio':>6} {'ratio RSGI':>10} "
                f"{'ingested/s':>11} {'end-to-end':>11}"
            )
            paths = [f"/ping/{u}" for u in uuids[: args.checks]]
            for c in levels:
                urls = (bare_url, rsgi_url, url)
                rows = [
                    measure(c, seconds, use_wrk, urls, paths, script, store, env)
                    for _ in range(args.rounds)
                ]
                for k, row in enumerate(rows, 1):
                    print(format_row(f"{c}" if args.rounds == 1 else f"{c}#{k}", row))
                if args.rounds > 1:
                    print(format_row(f"{c} med", median_row(rows)))
            if args.burst:
                before = store.stored()
                sent, ok = asyncio.run(_burst_client(port, uuids[: args.burst], 200))
                t_answered = time.perf_counter()
                while store.stored() - before < ok:
                    if time.perf_counter() - t_answered > 600:
                        raise SystemExit("the burst was not stored within 10 minutes")
                    time.sleep(0.02)
                stored_after = time.perf_counter() - t_answered
                print(
                    f"burst: {args.burst} pings to {args.burst} checks sent and answered in "
                    f"{sent:.2f} s ({ok} answered 200); all stored {stored_after:.2f} s after "
                    "the last answer"
                )


if __name__ == "__main__":
    main()
