"""A private influxd for the series benches (infra/influxd.py), with what they measure:
its resident memory and the bytes its files take on disk."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "infra" / "influxd.py"


@dataclass
class Influxd:
    url: str
    pid: int
    base: Path

    def rss_mb(self) -> float:
        text = Path(f"/proc/{self.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", text)
        return int(found.group(1)) / 1024 if found else float("nan")

    def disk_bytes(self) -> dict[str, int]:
        sizes = {}
        for part in ("data", "wal"):
            sizes[part] = sum(
                f.stat().st_size for f in (self.base / part).rglob("*") if f.is_file()
            )
        return sizes

    def settle(self, timeout: float = 120.0) -> None:
        """Wait until the WAL has been snapshotted to TSM files (the cold-write
        snapshot after 1 s idle) so the data directory shows the compressed size."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            wal = self.disk_bytes()["wal"]
            if wal < 64 * 1024:
                return
            time.sleep(1)

    def query(self, client: httpx.Client, db: str, q: str) -> dict[str, object]:
        resp = client.get(f"{self.url}/query", params={"db": db, "q": q, "epoch": "u"})
        resp.raise_for_status()
        body: dict[str, object] = resp.json()
        return body

    def admin(self, q: str) -> None:
        httpx.post(f"{self.url}/query", data={"q": q}, timeout=60).raise_for_status()


@contextmanager
def influxd(*options: str) -> Iterator[Influxd]:
    """Start influxd with infra/influxd.py options (limits, index) and a 1 s cold-write
    snapshot; stopped and its files removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="srvpulse-bench-influxd-"))
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--dir",
        str(base),
        "--data-option",
        'cache-snapshot-write-cold-duration = "1s"',
        *options,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline().strip()
    if not first.startswith("INFLUX_URL="):
        raise SystemExit(f"influxd did not start: {proc.stderr.read()}")
    pid_line = proc.stderr.readline()
    pid = int(re.search(r"pid (\d+)", pid_line).group(1))  # type: ignore[union-attr]
    try:
        yield Influxd(first.removeprefix("INFLUX_URL="), pid, base)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        subprocess.run(["rm", "-rf", str(base)], check=False)
