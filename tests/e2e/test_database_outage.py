"""Nothing acknowledged is lost when the database goes away: the local mode on MariaDB
behind a TCP proxy that is stopped for 60 s while pings keep coming (about 7 a second);
afterwards every ping answered "OK" is stored exactly once and nothing is dead-lettered.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import text
from srvpulse.adapters.local_queue import LocalDurableQueue
from srvpulse.adapters.sql.db import make_engine

from tests.e2e.local_mode import empty_mysql_database, running_local_mode

pytestmark = [pytest.mark.e2e, pytest.mark.mysql]

OUTAGE_SECONDS = 60
PINGS_PER_SECOND = 7
CHECKS = 20  # ~30 pings each: below the 100 kept per check, so none is pruned


class TcpProxy:
    """A TCP proxy on its own event loop thread; ``stop`` refuses new connections and
    cuts the open ones (the database is gone), ``start`` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.start()

    def _call(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)  # type: ignore[arg-type]

    def start(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        self._call(self._close())

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._open -= {writer, up_writer}


@pytest.fixture
def database_behind_a_proxy() -> Iterator[tuple[str, str, TcpProxy]]:
    """(the URL the local mode uses, through the proxy; the direct URL; the proxy)."""
    with empty_mysql_database() as direct:
        url = urlsplit(direct)
        proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 3306)
        try:
            through = direct.replace(f"{url.hostname}:{url.port}", f"127.0.0.1:{proxy.port}")
            yield through, direct, proxy
        finally:
            proxy.close()


def test_a_60_second_database_outage_under_load_loses_no_acknowledged_ping(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    database_behind_a_proxy: tuple[str, str, TcpProxy],
) -> None:
    request.node.user_properties.append(("database", "mysql"))
    through, direct, proxy = database_behind_a_proxy
    with running_local_mode(tmp_path, DATABASE_URL=through) as mode:
        uuids = []
        for i in range(CHECKS):
            r = mode.api.post("/api/v3/checks/", json={"name": f"job {i}", "timeout": 3600})
            assert r.status_code == 201, r.text
            uuids.append(r.json()["ping_url"].rsplit("/", 1)[1])

        acknowledged: list[str] = []
        answers: Counter[int] = Counter()
        stop = threading.Event()

        def pinger() -> None:
            with httpx.Client(base_url=mode.base, timeout=15) as http:
                n = 0
                start = time.monotonic()
                while not stop.is_set():
                    body = f"ping {n}"
                    r = http.post(f"/ping/{uuids[n % CHECKS]}", content=body)
                    answers[r.status_code] += 1
                    if r.status_code == 200 and r.text == "OK":
                        acknowledged.append(body)
                    n += 1
                    # A steady rate, whatever each answer took.
                    time.sleep(max(0.0, start + n / PINGS_PER_SECOND - time.monotonic()))

        thread = threading.Thread(target=pinger)
        thread.start()
        try:
            time.sleep(5)
            proxy.stop()
            time.sleep(OUTAGE_SECONDS)
            proxy.start()
            time.sleep(5)
        finally:
            stop.set()
            thread.join(30)
        assert set(answers) == {200}, answers  # the edge never waits for the database
        assert len(acknowledged) >= (OUTAGE_SECONDS + 10) * PINGS_PER_SECOND * 0.8

        engine = make_engine(direct)
        try:
            deadline = time.monotonic() + 120
            while True:
                with engine.connect() as conn:
                    rows = conn.execute(text("SELECT body FROM pings")).all()
                if len(rows) >= len(acknowledged) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            stored = Counter(row.body for row in rows)
            with engine.connect() as conn:
                receipts = conn.execute(text("SELECT COUNT(*) FROM ping_receipts")).scalar()
        finally:
            engine.dispose()
        assert {b: n for b, n in stored.items() if n != 1} == {}  # nothing stored twice
        assert sorted(set(acknowledged) - set(stored)) == []  # nothing acknowledged lost
        assert len(stored) == len(acknowledged) == receipts
    queue = LocalDurableQueue(tmp_path / "data" / "queue.sqlite3")
    try:
        assert queue.dead_letters() == [] and queue.depth() == 0
    finally:
        queue.close()
