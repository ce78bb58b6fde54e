"""Starting `python -m srvpulse.local` as a subprocess for end-to-end tests: a free port,
its own data directory, a known read-write API key, and a log to read its output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import text
from srvpulse.adapters.sql.db import make_engine

from tests.alerting_peers import free_port
from tests.conftest import MYSQL_SERVER_URL, require_server

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "e2e-read-write-key-0123456789"


class LocalMode:
    def __init__(self, proc: subprocess.Popen[str], base: str, log: Path) -> None:
        self.proc = proc
        self.base = base
        self.log = log
        self.http = httpx.Client(base_url=base, timeout=15)
        self.api = httpx.Client(base_url=base, timeout=15, headers={"X-Api-Key": API_KEY})

    def output(self) -> str:
        return self.log.read_text()

    def ping_key(self) -> str:
        m = re.search(r"/ping/([A-Za-z0-9_-]+)/<slug>", self.output())
        assert m, self.output()
        return m.group(1)


@contextmanager
def empty_mysql_database() -> Iterator[str]:
    """A new database with the server's default collation, dropped afterwards."""
    name = f"srvpulse_e2e_{uuid.uuid4().hex[:10]}"
    try:
        server = make_engine(MYSQL_SERVER_URL + "/")
        with server.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}`"))
    except Exception as exc:  # reported as a skip (laptop) or a failure (CI)
        require_server(f"MariaDB/MySQL not reachable at {MYSQL_SERVER_URL}: {exc}")
    try:
        yield f"{MYSQL_SERVER_URL}/{name}"
    finally:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


@contextmanager
def running_local_mode(tmp_path: Path, **extra_env: str) -> Iterator[LocalMode]:
    """Start the local mode, wait until it serves, and stop it afterwards (Ctrl-C first,
    then kill, so a test that already stopped it is fine)."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "SRVPULSE_DATA_DIR": str(tmp_path / "data"),
        "SRVPULSE_BOOTSTRAP_API_KEY": API_KEY,
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    for name in ("DATABASE_URL", "PING_QUEUE_URL", "ALERT_TOPIC_ARN"):
        if name not in extra_env:
            env.pop(name, None)
    log = tmp_path / "srvpulse.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "srvpulse.local"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    mode = LocalMode(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 30
        while "is running on" not in mode.output():
            assert proc.poll() is None, f"srvpulse exited early:\n{mode.output()}"
            assert time.monotonic() < deadline, f"srvpulse did not start:\n{mode.output()}"
            time.sleep(0.1)
        yield mode
    finally:
        if proc.poll() is None:
            proc.send_signal(2)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
