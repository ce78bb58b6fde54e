"""The local mode's HTTP edge under the conditions a real server meets: a thousand idle
connections, bodies too large for a Lambda, many pings at once, and kill -9 while they
are being answered."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.local_mode import LocalMode, running_local_mode

pytestmark = pytest.mark.e2e


@pytest.fixture
def local_mode(tmp_path: Path) -> Iterator[LocalMode]:
    with running_local_mode(tmp_path) as mode:
        yield mode


def _new_check(mode: LocalMode, name: str) -> str:
    r = mode.api.post("/api/v3/checks/", json={"name": name, "timeout": 3600})
    assert r.status_code == 201, r.text
    return str(r.json()["ping_url"].rsplit("/", 1)[1])


def test_a_thousand_idle_and_slow_connections_do_not_keep_other_clients_waiting(
    local_mode: LocalMode,
) -> None:
    uuid = _new_check(local_mode, "busy server")
    port = int(local_mode.base.rsplit(":", 1)[1])
    held: list[socket.socket] = []
    try:
        for i in range(1000):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            if i % 10 == 0:  # one in ten is slow: half a request line, then nothing
                sock.sendall(b"GET /ping/" + uuid.encode() + b" HTT")
            held.append(sock)
        # A fresh client is served while all of them stay open (a generous bound: this
        # asserts "not stuck behind them", not a speed).
        with httpx.Client(base_url=local_mode.base, timeout=10) as fresh:
            assert fresh.get(f"/ping/{uuid}").text == "OK"
            r = fresh.get(
                "/api/v3/checks/", headers={"X-Api-Key": local_mode.api.headers["X-Api-Key"]}
            )
            assert r.status_code == 200 and len(r.json()["checks"]) == 1
        # The idle connections are still usable afterwards.
        held[1].sendall(f"GET /ping/{uuid} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert held[1].recv(100).startswith(b"HTTP/1.1 200")
    finally:
        for sock in held:
            sock.close()


def test_a_ping_body_too_big_for_a_lambda_is_refused_with_413(local_mode: LocalMode) -> None:
    uuid = _new_check(local_mode, "big reports")
    limit = 6 * 1024 * 1024
    assert local_mode.http.post(f"/ping/{uuid}", content=b"x" * (limit + 1)).status_code == 413
    assert local_mode.http.post(f"/ping/{uuid}", content=b"x" * limit).text == "OK"
    r = local_mode.http.post("/api/v3/checks/", content=b"{" * (limit + 1))
    assert r.status_code == 413


def test_a_chunked_body_and_a_header_sent_twice_are_stored_as_the_ping_function_would(
    local_mode: LocalMode,
) -> None:
    uuid = _new_check(local_mode, "raw client")
    port = int(local_mode.base.rsplit(":", 1)[1])
    request = (
        f"POST /ping/{uuid.upper()}/fail HTTP/1.1\r\nHost: x\r\n"
        "User-Agent: backup.sh\r\nUser-Agent: curl/8.0\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        "5\r\ndisk \r\n4\r\nfull\r\n0\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"OK")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        pings = local_mode.api.get(f"/api/v3/checks/{uuid}/pings/").json()["pings"]
        if pings:
            break
        time.sleep(0.2)
    [ping] = pings
    # A repeated header arrives joined with commas, as API Gateway passes it to the
    # ping function; the upper-case uuid addresses the same check.
    assert (ping["type"], ping["ua"]) == ("fail", "backup.sh,curl/8.0")
    body = local_mode.api.get(f"/api/v3/checks/{uuid}/pings/{ping['n']}/body")
    assert body.text == "disk full"


def test_two_hundred_concurrent_pings_are_all_answered_and_all_stored(
    local_mode: LocalMode,
) -> None:
    uuids = [_new_check(local_mode, f"job {i}") for i in range(4)]

    def ping(n: int) -> str:
        with httpx.Client(base_url=local_mode.base, timeout=30) as client:
            return client.post(f"/ping/{uuids[n % 4]}", content=f"run {n}").text

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(ping, range(200)))
    assert answers == ["OK"] * 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        counts = [local_mode.api.get(f"/api/v3/checks/{u}").json()["n_pings"] for u in uuids]
        if sum(counts) == 200:
            break
        time.sleep(0.2)
    assert counts == [50, 50, 50, 50]


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry))
    return children


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_every_ping_answered_ok_survives_kill_9_of_the_server(tmp_path: Path) -> None:
    with running_local_mode(tmp_path) as mode:
        uuids = [_new_check(mode, f"job {i}") for i in range(40)]
        [workers] = _children_of(mode.proc.pid)
        acknowledged: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def pinger(k: int) -> None:
            with httpx.Client(base_url=mode.base, timeout=10) as client:
                n = 0
                while not stop.is_set() and n < 60:
                    body = f"pinger {k} ping {n}"
                    try:
                        r = client.post(f"/ping/{uuids[(k + n) % 40]}", content=body)
                    except httpx.HTTPError:
                        return  # the server is gone: this ping was never acknowledged
                    if r.status_code == 200 and r.text == "OK":
                        with lock:
                            acknowledged.append(body)
                    n += 1

        threads = [threading.Thread(target=pinger, args=(k,)) for k in range(20)]
        for t in threads:
            t.start()
        while len(acknowledged) < 300:
            time.sleep(0.01)
        os.kill(mode.proc.pid, signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(15)
        mode.proc.wait(10)
        deadline = time.monotonic() + 60
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.1)  # it notices its parent is gone and drains
    data = tmp_path / "data"
    kept: list[str] = []
    for db, query in (
        ("srvpulse.sqlite3", "SELECT body FROM pings"),
        ("queue.sqlite3", "SELECT body FROM messages"),
    ):
        conn = sqlite3.connect(data / db)
        kept += [row[0] for row in conn.execute(query)]
        conn.close()
    kept_text = "\n".join(kept)  # queued messages are JSON holding the body
    missing = [body for body in acknowledged if f'"{body}"' not in kept_text and body not in kept]
    assert len(acknowledged) >= 300 and missing == []
