"""Ping load benchmark for the local mode (run by hand; loopback only, bounded).

    .venv/bin/python bench/ping_load.py -n 2000 -c 16

Starts the local mode on a free port with a fresh data dir (or uses --url with --api-key),
creates a check, sends N pings with C concurrent keep-alive clients and prints pings/s
accepted, p50/p99 latency and pings/s fully ingested (until the API shows all N), next
to a baseline measured in the same run: the same waitress server (same thread count)
answering a static 200.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH_KEY = "bench-read-write-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


@contextmanager
def server(cmd: list[str], env: dict[str, str], url: str) -> Iterator[None]:
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_up(url, proc)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def load(url: str, n: int, c: int) -> tuple[float, list[float], int]:
    """Send n GETs with c threads; return (seconds, latencies in ms, non-200 count)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_thread = [n // c + (1 if i < n % c else 0) for i in range(c)]

    def worker(count: int) -> None:
        nonlocal errors
        mine: list[float] = []
        bad = 0
        with httpx.Client(timeout=10) as client:
            for _ in range(count):
                t0 = time.perf_counter()
                r = client.get(url)
                mine.append((time.perf_counter() - t0) * 1000)
                bad += r.status_code != 200
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(k,)) for k in per_thread]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies, errors


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def report(label: str, n: int, seconds: float, lat: list[float], errors: int) -> float:
    rate = n / seconds
    print(
        f"{label:<28} {rate:8.0f} req/s   p50 {pct(lat, 50):6.2f} ms   "
        f"p99 {pct(lat, 99):6.2f} ms   non-200: {errors}"
    )
    return rate


def baseline_app(environ: object, start_response: object) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])  # type: ignore[operator]
    return [b"OK"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="pings to send (max 50000)")
    parser.add_argument("-c", type=int, default=16, help="concurrent clients (max 64)")
    parser.add_argument("--url", help="a running local mode (default: start one)")
    parser.add_argument("--api-key", help="read-write API key of --url")
    parser.add_argument("--serve-baseline", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline:
        import logging

        import waitress

        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        from srvpulse.local.runner import HTTP_THREADS

        waitress.serve(
            baseline_app,
            host="127.0.0.1",
            port=args.serve_baseline,
            threads=HTTP_THREADS,
            _quiet=True,
        )
        return
    n, c = min(args.n, 50_000), min(args.c, 64)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, __file__, "--serve-baseline", str(port)]
    with server(cmd, env, base):
        load(base + "/", min(200, n), c)  # warm-up
        secs, lat, errs = load(base + "/", n, c)
    print(f"{n} requests, {c} concurrent clients, loopback, {os.cpu_count()} CPUs")
    base_rate = report("baseline (static 200)", n, secs, lat, errs)

    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            url, key = args.url.rstrip("/"), args.api_key
            ctx: AbstractContextManager[None] = nullcontext()
        else:
            port = free_port()
            url, key = f"http://127.0.0.1:{port}", BENCH_KEY
            local_env = {
                **env,
                "PORT": str(port),
                "SRVPULSE_DATA_DIR": tmp,
                "SRVPULSE_BOOTSTRAP_API_KEY": BENCH_KEY,
                "LOG_LEVEL": "WARNING",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
            ctx = server([sys.executable, "-m", "srvpulse.local"], local_env, url + "/ping/")
        with ctx:
            api = httpx.Client(base_url=url, headers={"X-Api-Key": key or ""}, timeout=10)
            r = api.post("/api/v3/checks/", json={"name": "bench"})
            r.raise_for_status()
            code = r.json().get("uuid") or r.json()["ping_url"].rstrip("/").rsplit("/", 1)[-1]
            t0 = time.perf_counter()
            secs, lat, errs = load(f"{url}/ping/{code}", n, c)
            rate = report("srvpulse ping (accepted)", n, secs, lat, errs)
            while api.get(f"/api/v3/checks/{code}").json()["n_pings"] < n - errs:
                if time.perf_counter() - t0 > 600:
                    raise SystemExit("ingest did not finish within 10 minutes")
                time.sleep(0.05)
            ingested = time.perf_counter() - t0
    print(
        f"{'srvpulse ping (ingested)':<28} {n / ingested:8.0f} pings/s "
        f"(all {n} in the API {ingested:.1f} s after the first was sent)"
    )
    print(f"accepted / baseline: {rate / base_rate:.2f}")


if __name__ == "__main__":
    main()
