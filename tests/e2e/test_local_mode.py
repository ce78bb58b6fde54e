"""The local mode end to end: `python -m srvpulse.local` as a subprocess, a check created
through /api/v3, pinged in every form by a real HTTP client, seen through the API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.local_mode import ROOT, LocalMode, empty_mysql_database, running_local_mode

pytestmark = pytest.mark.e2e


@pytest.fixture
def local_mode(tmp_path: Path) -> Iterator[LocalMode]:
    with running_local_mode(tmp_path) as mode:
        yield mode


@pytest.fixture(params=["sqlite", "mysql"])
def local_mode_on_each_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[LocalMode]:
    """The local mode on its default SQLite file, and with DATABASE_URL naming a new,
    empty MariaDB/MySQL database (which it migrates at start)."""
    request.node.user_properties.append(("database", request.param))
    if request.param == "sqlite":
        with running_local_mode(tmp_path) as mode:
            yield mode
        return
    with empty_mysql_database() as url, running_local_mode(tmp_path, DATABASE_URL=url) as mode:
        yield mode


def eventually(fetch: Callable[[], Any], ok: Callable[[Any], bool], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_a_check_created_through_the_api_is_pinged_in_every_form_and_shows_it(
    local_mode_on_each_database: LocalMode,
) -> None:
    local_mode = local_mode_on_each_database
    http, api = local_mode.http, local_mode.api
    r = api.post(
        "/api/v3/checks/",
        json={"name": "Nightly backup", "slug": "nightly-backup", "timeout": 3600, "grace": 60},
    )
    assert r.status_code == 201, r.text
    check = r.json()
    code = check.get("uuid") or check["ping_url"].rstrip("/").rsplit("/", 1)[-1]
    assert check["status"] == "new"
    key = local_mode.ping_key()
    rid = str(uuid.uuid4())

    def get_check() -> dict[str, Any]:
        reply = api.get(f"/api/v3/checks/{code}")
        assert reply.status_code == 200, reply.text
        result: dict[str, Any] = reply.json()
        return result

    def ping(method: str, path: str, **kw: Any) -> None:
        reply = http.request(method, f"/ping/{path}", **kw)
        assert (reply.status_code, reply.text) == (200, "OK" if method != "HEAD" else "")

    # Every form, each waited for so the pings list has a known order.
    expected_n = 0

    def sent(n: int = 1) -> dict[str, Any]:
        nonlocal expected_n
        expected_n += n
        return eventually(get_check, lambda c: c["n_pings"] >= expected_n)  # type: ignore[no-any-return]

    ping("GET", f"{code}/start", params={"rid": rid})
    assert sent()["status"] == "started"
    ping("POST", code, params={"rid": rid}, content=b"backup done: 12 GB\n")
    c = sent()
    assert c["status"] == "up" and c["last_ping"] is not None
    ping("HEAD", f"{code}/log")
    assert sent()["status"] == "up"
    ping("POST", f"{key}/nightly-backup/0", content=b"exit 0 via slug")
    assert sent()["status"] == "up"
    completion = {"status": "success", "summary": "12 GB in 3 min", "report": "all good"}
    ping("POST", code, json=completion)
    assert sent()["status"] == "up"
    ping("POST", f"{code}/fail", content=b"disk full")
    c = sent()
    assert c["status"] == "down"  # a fail ping turns it down at once
    ping("GET", f"{code}/0")
    assert sent()["status"] == "up"
    ping("GET", f"{key}/nightly-backup/3")
    assert sent()["status"] == "down"

    # The pings, newest first, with their kinds, details and report bodies.
    r = api.get(f"/api/v3/checks/{code}/pings/")
    assert r.status_code == 200, r.text
    pings = r.json()["pings"]
    assert [p["type"] for p in pings] == [
        "fail", "success", "fail", "success", "success", "log", "success", "start",
    ]  # fmt: skip
    by_n = {p["n"]: p for p in pings}
    assert by_n[1]["rid"] == rid and by_n[2]["rid"] == rid
    assert by_n[2].get("duration") is not None
    assert by_n[3]["method"] == "HEAD" and by_n[1]["scheme"] == "http"
    assert by_n[1]["ua"].startswith("python-httpx")
    assert by_n[5].get("summary") == "12 GB in 3 min"
    bodies = {n: api.get(f"/api/v3/checks/{code}/pings/{n}/body") for n in (2, 4, 5, 6)}
    assert bodies[2].text == "backup done: 12 GB\n"
    assert bodies[4].text == "exit 0 via slug"
    assert bodies[5].text == "all good"
    assert bodies[6].text == "disk full"

    # Flips: down after the failure, up again, down again.
    r = api.get(f"/api/v3/checks/{code}/flips/")
    assert r.status_code == 200, r.text
    flips = r.json()
    flips = flips["flips"] if isinstance(flips, dict) else flips
    assert len(flips) >= 3


def test_create_1_provisions_a_check_and_malformed_pings_get_400(local_mode: LocalMode) -> None:
    http, api = local_mode.http, local_mode.api
    key = local_mode.ping_key()
    first = http.get(f"/ping/{key}/made-by-ping", params={"create": "1"})
    assert (first.status_code, first.text) == (201, "Created")

    def find() -> list[dict[str, Any]]:
        checks: list[dict[str, Any]] = api.get("/api/v3/checks/").json()["checks"]
        return [c for c in checks if c.get("slug") == "made-by-ping"]

    [made] = eventually(find, lambda found: len(found) == 1)
    assert made["status"] == "up" and made["n_pings"] == 1

    r = http.get("/ping/not-a-uuid")
    assert (r.status_code, r.text) == (404, "not found")
    r = http.get(f"/ping/{uuid.uuid4()}/256")
    assert r.status_code == 400 and "0 and 255" in r.text
    assert api.get("/api/v3/nowhere").status_code == 404


def test_ctrl_c_drains_the_queue_and_exits_cleanly(local_mode: LocalMode) -> None:
    api = local_mode.api
    r = api.post("/api/v3/checks/", json={"name": "drained"})
    assert r.status_code == 201, r.text
    code = r.json().get("uuid") or r.json()["ping_url"].rstrip("/").rsplit("/", 1)[-1]
    for i in range(20):
        local_mode.http.post(f"/ping/{code}", content=f"run {i}".encode())
    local_mode.proc.send_signal(signal.SIGINT)
    assert local_mode.proc.wait(timeout=30) == 0
    out = local_mode.output()
    assert "stopped (0 pings left queued" in out, out
    assert "Traceback" not in out, out

    # Restart on the same data: everything acknowledged was ingested before exit.
    env_port = local_mode.base.rsplit(":", 1)[-1]
    data_dir = local_mode.log.parent / "data"
    proc = subprocess.run(
        [sys.executable, "-c", _COUNT_PINGS, str(data_dir), code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PORT": env_port},
    )
    assert json.loads(proc.stdout) == 20


# Reads the stopped instance's SQLite database directly: the server is gone.
_COUNT_PINGS = """
import json, sys
from sqlalchemy import create_engine, text
engine = create_engine(f"sqlite:///{sys.argv[1]}/srvpulse.sqlite3")
with engine.connect() as conn:
    n = conn.execute(text("SELECT n_pings FROM checks WHERE uuid = :u"), {"u": sys.argv[2]})
    print(json.dumps(n.scalar_one()))
"""


def test_sigterm_stops_it_cleanly_too(local_mode: LocalMode) -> None:
    check = local_mode.api.post("/api/v3/checks/", json={"name": "sigterm"}).json()
    assert local_mode.http.get(f"/ping/{check['uuid']}").text == "OK"
    local_mode.proc.send_signal(signal.SIGTERM)
    assert local_mode.proc.wait(timeout=30) == 0
    assert "stopped (0 pings left queued" in local_mode.output()


def _start_expecting_failure(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "SRVPULSE_DATA_DIR": str(tmp_path / "data")}
    full.pop("DATABASE_URL", None)
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "srvpulse.local"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_busy_port_is_one_clear_line_and_leaves_nothing_behind(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _start_expecting_failure(tmp_path, PORT=str(port), HOST="127.0.0.1")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"srvpulse: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(set PORT, or HOST, to another value)"
    )
    assert "Traceback" not in done.stderr and "API key" not in done.stdout
    assert not (tmp_path / "data").exists()  # no keys created and lost


def test_bad_settings_and_an_unreachable_database_are_named_not_tracebacks(
    tmp_path: Path,
) -> None:
    done = _start_expecting_failure(tmp_path, PORT="eighty")
    assert (done.returncode, done.stderr.strip()) == (
        2,
        "srvpulse: PORT must be a whole number, not 'eighty'",
    )
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    done = _start_expecting_failure(
        tmp_path,
        PORT="0",
        DATABASE_URL=f"mysql+pymysql://srvpulse:s3cret@127.0.0.1:{closed}/srvpulse",
    )
    assert done.returncode == 2
    assert done.stderr.startswith("srvpulse: cannot prepare the database mysql+pymysql://")
    assert "s3cret" not in done.stderr and "Traceback" not in done.stderr
