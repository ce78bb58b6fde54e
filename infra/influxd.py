#!/usr/bin/env python3
"""Start a private InfluxDB 1.x server (Debian's ``influxdb`` package) for tests and benches.

    python3 infra/influxd.py [--dir DIR] [--port PORT] [--install-only] [limits, index]

Installs the package with apt-get when ``influxd`` is missing (as root; otherwise it
says which command to run), writes a config of its own under DIR (default: a new temp
directory, removed at exit): data, meta and WAL directories there, usage reporting off,
the HTTP API and the RPC bind address on free loopback ports (or --port for the HTTP
API, to start a stopped server again on the same address), no _internal monitor
database. Waits until ``/ping`` answers, prints ``INFLUX_URL=http://127.0.0.1:<port>``
on stdout and stays in the foreground until SIGTERM/SIGINT, then stops influxd (and
removes DIR if it created it). Never touches the system's own influxd configuration.
Only the standard library: it runs before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType

INFLUXD = "influxd"
START_TIMEOUT_S = 60.0

CONFIG = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{dir}/meta"
  logging-enabled = false

[data]
  dir = "{dir}/data"
  wal-dir = "{dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false
  # 1.x defaults, stated so that docs/timeseries.md's "where the defaults refuse" is
  # what this server does; benches override them with --set.
  max-series-per-database = {max_series}
  max-values-per-tag = {max_values}
  index-version = "{index}"
{data_options}

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
  max-body-size = 0

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false

[logging]
  level = "warn"
"""


def install_if_missing() -> str:
    """The path of influxd, installing Debian's package first if needed."""
    found = shutil.which(INFLUXD) or (
        "/usr/bin/influxd" if os.path.exists("/usr/bin/influxd") else None
    )
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("influxd is missing: run `sudo apt-get install -y influxdb` (Debian package)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("influxd missing: apt-get install -y influxdb", file=sys.stderr)
    rc = subprocess.call(["apt-get", "install", "-y", "-q", "influxdb"], env=env)  # noqa: S607
    if rc != 0:
        subprocess.check_call(["apt-get", "update", "-q"], env=env)  # noqa: S607
        subprocess.check_call(["apt-get", "install", "-y", "-q", "influxdb"], env=env)  # noqa: S607
    found = shutil.which(INFLUXD) or "/usr/bin/influxd"
    if not os.path.exists(found):
        sys.exit("apt-get installed influxdb but influxd is not on PATH")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers_ping(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/ping", timeout=1) as resp:  # noqa: S310
            return bool(resp.status == 204)
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, help="data/meta/wal/config directory (kept)")
    parser.add_argument("--port", type=int, default=0, help="HTTP port (default: a free one)")
    parser.add_argument("--max-series", type=int, default=1_000_000)
    parser.add_argument("--max-values-per-tag", type=int, default=100_000)
    parser.add_argument("--index-version", choices=("inmem", "tsi1"), default="inmem")
    parser.add_argument(
        "--data-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help='more [data] settings, e.g. cache-snapshot-write-cold-duration="1s" (benches)',
    )
    parser.add_argument(
        "--install-only", action="store_true", help="only make sure it is installed"
    )
    args = parser.parse_args(argv)

    binary = install_if_missing()
    if args.install_only:
        print(binary)
        return 0
    own_dir = args.dir is None
    base: Path = Path(tempfile.mkdtemp(prefix="srvpulse-influxd-")) if own_dir else args.dir
    base.mkdir(parents=True, exist_ok=True)
    http_port = args.port or free_port()
    config = base / "influxdb.conf"
    config.write_text(
        CONFIG.format(
            dir=base,
            rpc_port=free_port(),
            http_port=http_port,
            max_series=args.max_series,
            max_values=args.max_values_per_tag,
            index=args.index_version,
            data_options="\n".join(f"  {o}" for o in args.data_option),
        )
    )
    log = open(base / "influxd.log", "ab")  # noqa: SIM115 (closed at exit)
    proc = subprocess.Popen([binary, "run", "-config", str(config)], stdout=log, stderr=log)  # noqa: S603
    url = f"http://127.0.0.1:{http_port}"

    stopping = False

    def stop(_sig: int = 0, _frame: FrameType | None = None) -> None:
        # Only ask influxd to stop: the main thread's wait() below returns when it has.
        nonlocal stopping
        stopping = True
        if proc.poll() is None:
            proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        return _serve(proc, url, base, lambda: stopping)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        if own_dir:
            shutil.rmtree(base, ignore_errors=True)


def _serve(
    proc: subprocess.Popen[bytes], url: str, base: Path, stopping: Callable[[], bool]
) -> int:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not answers_ping(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = (base / "influxd.log").read_text(errors="replace")[-2000:]
            print(f"influxd did not start (exit {proc.poll()}):\n{tail}", file=sys.stderr)
            return 1
        time.sleep(0.1)
    print(f"INFLUX_URL={url}", flush=True)
    print(f"influxd pid {proc.pid}, files in {base}", file=sys.stderr, flush=True)
    rc = proc.wait()
    if stopping():
        return 0
    print(f"influxd exited by itself with status {rc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
