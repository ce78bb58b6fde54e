"""Shared fixtures: SQL engines on SQLite and MariaDB/MySQL, each test run in its own
MySQL database; a missing server skips on a laptop but fails with CI=true."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text
from srvpulse import bootstrap
from srvpulse.adapters.sql.db import make_engine, migrate
from srvpulse.adapters.sql.tables import metadata
from srvpulse.bootstrap import Runtime
from srvpulse.settings import Settings

MYSQL_SERVER_URL = os.environ.get("SRVPULSE_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306")
IN_CI = os.environ.get("CI", "").lower() == "true"
DATABASES = ("sqlite", "mysql")

# CI explores the same examples every run (a red CI is then always reproducible); a
# developer's runs explore new ones and remember failures in .hypothesis/.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if IN_CI:
    hypothesis_settings.load_profile("ci")


def require_server(reason: str) -> None:
    """Skip for a missing server on a laptop; fail under CI=true, where it must exist."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing server is a failure, not a skip)")
    pytest.skip(reason)


class _Databases:
    """One migrated database per backend for the whole test run, created lazily."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.engines: dict[str, Engine] = {}
        self.mysql_name: str | None = None
        self.mysql_error: str | None = None

    def url(self, backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / 'srvpulse-test.sqlite3'}"
        if self.mysql_name is None:
            self.mysql_name = f"srvpulse_test_{uuid.uuid4().hex[:12]}"
            try:
                server = make_engine(MYSQL_SERVER_URL + "/")
                with server.begin() as conn:
                    # The server's default collation, as RDS creates the stack's database:
                    # the migrations, not the test set-up, must make text compare binary.
                    conn.execute(text(f"CREATE DATABASE `{self.mysql_name}`"))
                server.dispose()
            except Exception as exc:
                self.mysql_error = f"MariaDB/MySQL not reachable at {MYSQL_SERVER_URL}: {exc}"
        if self.mysql_error:
            require_server(self.mysql_error)
        return f"{MYSQL_SERVER_URL}/{self.mysql_name}"

    def engine(self, backend: str) -> Engine:
        if backend not in self.engines:
            engine = make_engine(self.url(backend))
            migrate(engine)
            self.engines[backend] = engine
        return self.engines[backend]

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
        if self.mysql_name and not self.mysql_error:
            server = make_engine(MYSQL_SERVER_URL + "/")
            with server.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{self.mysql_name}`"))
            server.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Databases]:
    dbs = _Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.close()


def _empty_all_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest, databases: _Databases) -> Engine:
    """A migrated, empty database: the test runs once on SQLite and once on MySQL."""
    backend: str = request.param
    request.node.user_properties.append(("database", backend))
    eng = databases.engine(backend)
    _empty_all_tables(eng)
    return eng


@pytest.fixture
def sqlite_engine(databases: _Databases) -> Engine:
    """A migrated, empty SQLite database (for tests that need only one backend)."""
    eng = databases.engine("sqlite")
    _empty_all_tables(eng)
    return eng


@pytest.fixture
def mysql_engine(request: pytest.FixtureRequest, databases: _Databases) -> Engine:
    """A migrated, empty MariaDB/MySQL database (concurrency tests)."""
    request.node.user_properties.append(("database", "mysql"))
    eng = databases.engine("mysql")
    _empty_all_tables(eng)
    return eng


def make_runtime(engine: Engine, **settings: object) -> Runtime:
    """A Runtime on the test database (instead of the one its settings name)."""
    rt = Runtime(Settings(**settings))  # type: ignore[arg-type]
    rt.__dict__["engine"] = engine  # fills the cached_property
    return rt


@pytest.fixture
def runtime(engine: Engine, tmp_path: Path) -> Iterator[Runtime]:
    """The process's runtime for a test, on both databases, with test URLs."""
    rt = make_runtime(
        engine,
        data_dir=tmp_path,
        site_url="https://srvpulse.test",
        ping_url="https://srvp.test/ping/",
    )
    bootstrap.install(rt)
    yield rt
    bootstrap.install(None)


# --- a real InfluxDB (infra/influxd.py), one per test run ----------------------------------
INFLUXD_SCRIPT = Path(__file__).resolve().parent.parent / "infra" / "influxd.py"


class InfluxServer:
    """A private influxd started by infra/influxd.py (its own directory and free port);
    ``stop()`` and ``start()`` again keep the same data and the same URL."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> str:
        cmd = [sys.executable, str(INFLUXD_SCRIPT), "--dir", str(self.base)]
        if self.port:
            cmd += ["--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().strip()
        if not first.startswith("INFLUX_URL="):
            err = self.proc.stderr.read() if self.proc.stderr else ""
            self.proc.wait()
            raise RuntimeError(f"infra/influxd.py did not start influxd: {first} {err[-1500:]}")
        self.url = first.removeprefix("INFLUX_URL=")
        self.port = int(self.url.rsplit(":", 1)[1])
        return self.url

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        self.proc = None


def start_influx(base: Path) -> InfluxServer:
    """Start a private influxd in ``base``; a missing influxd skips on a laptop and
    fails under CI=true."""
    server = InfluxServer(base)
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        require_server(f"InfluxDB could not be started: {exc}")
    return server


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    """One influxd for the whole test run, stopped at the end."""
    server = start_influx(tmp_path_factory.mktemp("influxd"))
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs on MariaDB/MySQL ``mysql``: a test using ``mysql_engine``
    or parametrized with a "mysql" backend. ``pytest -m mysql`` is the GitLab job that
    runs them on MySQL 8.4 (.gitlab-ci.yml, test-mysql)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec is not None else ()
        if "mysql_engine" in getattr(item, "fixturenames", ()) or "mysql" in params:
            item.add_marker(pytest.mark.mysql)


# --- "how many ran on each database" in the summary -------------------------------------
_per_database: Counter[tuple[str, str]] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    db = dict(report.user_properties).get("database")
    if db is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _per_database[(str(db), report.outcome)] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _per_database:
        return
    parts = []
    for db in (*DATABASES, "influxdb"):
        counts = {o: n for (d, o), n in _per_database.items() if d == db}
        if counts:
            parts.append(db + " " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items())))
    terminalreporter.write_line("databases: " + "; ".join(parts))
