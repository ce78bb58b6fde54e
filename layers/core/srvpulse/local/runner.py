"""``python -m srvpulse.local``: srvpulse locally, from one command.

Start-up: hold the port, migrate the database, create the default project (printing its
API keys the first time), start the background workers (``build_workers``) in a process
of their own (workers.py), and serve HTTP with granian: the edge (edge.py) answers pings
through a group commit to the local queue and everything else through the API Gateway
emulator. SIGINT (Ctrl-C) and SIGTERM stop the HTTP server first (no new pings), then
the workers process, whose workers stop with ``drain=True`` (ingest ingests what is
queued), and exit 0. A workers process that dies is started again.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from .. import bootstrap
from ..bootstrap import Runtime
from ..services import ping_targets
from ..settings import Settings

log = logging.getLogger("srvpulse.local")

# Seconds the workers process gets to drain the queue at shutdown before it is killed
# (QueueDrainWorker's own bound is 30 s).
WORKERS_STOP_TIMEOUT = 75.0
# A connection backlog big enough for an hour-start burst of new connections.
LISTEN_BACKLOG = 2048


class Worker(Protocol):
    """A background worker of the local mode (queue drain, analyzer, alert delivery)."""

    def start(self) -> None:
        """Start working in the background (a thread); return at once."""
        ...

    def stop(self, drain: bool) -> None:
        """Stop and return when stopped; with ``drain``, finish pending work first."""
        ...


def load_handler(dotted: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """``"functions.ingest.handler"`` -> its ``handler`` function (the same file as on
    AWS; the repo root must be on sys.path, see ``find_app_root``)."""
    module = importlib.import_module(dotted)
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = module.handler
    return handler


def build_workers(runtime: Runtime) -> list[Worker]:
    """Every background worker of the local mode, in start order; they are stopped in
    reverse order (the queue drain, first here, stops last). Each area adds ONE line to
    the list, e.g. ``AnalyzerWorker(runtime),``."""
    from .alert_worker import AlertWorker
    from .analyzer_worker import AnalyzerWorker
    from .queue_worker import FloodYield, QueueDrainWorker

    workers: list[Worker] = [
        # Batches of up to 500 (queue_worker.BATCH_SIZE), as the SQS event source mapping
        # sends (template.yaml): ingest stores a batch in one transaction.
        # While pings arrive faster than ingest stores them, it gives way to the edge.
        QueueDrainWorker(
            runtime.local_queue,
            load_handler("functions.ingest.handler"),
            flood=FloodYield(share=runtime.settings.ingest_flood_share),
        ),
        AnalyzerWorker(runtime.analyzer),
        AlertWorker(runtime.alert_bus, load_handler("functions.alerters.handler")),
    ]
    return workers


def find_app_root() -> Path:
    """The directory holding app.py and functions/ (SRVPULSE_APP_ROOT, else searched
    upwards from the working directory and from this package)."""
    candidates = []
    if os.environ.get("SRVPULSE_APP_ROOT"):
        candidates.append(Path(os.environ["SRVPULSE_APP_ROOT"]))
    for start in (Path.cwd(), Path(__file__).resolve()):
        candidates += [start, *start.parents]
    for path in candidates:
        if (path / "app.py").is_file() and (path / "functions").is_dir():
            return path.resolve()
    raise SystemExit("srvpulse.local: cannot find app.py and functions/ (set SRVPULSE_APP_ROOT)")


def _print_keys(runtime: Runtime) -> None:
    from ..services.projects import ensure_default_project

    s = runtime.settings
    info = ensure_default_project(
        runtime.account_stores.projects, datetime.now(UTC), s.bootstrap_api_key
    )
    if info.created:
        rw = (
            "(the one in SRVPULSE_BOOTSTRAP_API_KEY)"
            if s.bootstrap_api_key
            else info.read_write_key
        )
        print("Created the default project. Keep these keys; they are shown only once:")
        print(f"  read-write API key: {rw}")
        print(f"  read-only API key:  {info.read_only_key}")
    print(f"  ping URLs: {s.ping_url}<uuid>  or  {s.ping_url}{info.ping_key}/<slug>")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _fail(message: str) -> int:
    print(f"srvpulse: {message}", file=sys.stderr, flush=True)
    return 2


def _allow_many_connections() -> None:
    """Raise the open-files limit to its hard maximum: every connection is a file, and
    1 000 idle clients must not use up a default soft limit of 1 024."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _hold_port(host: str, port: int) -> socket.socket:
    """Bind ``host:port`` now, so a busy port is found before anything is created; the
    socket is closed just before granian binds the same address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1)
    except OSError:
        sock.close()
        raise
    return sock


class WorkersProcess:
    """The background workers in their own process (``python -m srvpulse.local.workers``),
    started again if it dies; stopped by closing its stdin (it drains, then exits)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        env = {**os.environ, "SRVPULSE_APP_ROOT": str(self.root)}
        command = [sys.executable, "-m", "srvpulse.local.workers"]  # our own module
        # Its own session: a terminal's Ctrl-C reaches only this process, which stops
        # the HTTP server first and then the workers (by closing their stdin).
        self.proc = subprocess.Popen(  # noqa: S603
            command, env=env, stdin=subprocess.PIPE, start_new_session=True
        )

    async def supervise(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self.proc is not None and self.proc.poll() is not None:
                self.restarts += 1
                log.error(
                    "the workers process exited (status %s); starting it again",
                    self.proc.returncode,
                )
                if self.proc.stdin is not None:
                    self.proc.stdin.close()
                await asyncio.sleep(min(30.0, 2.0**self.restarts))
                self.start()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # "stop now": it drains, then exits
        try:
            self.proc.wait(WORKERS_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.error(
                "the workers process did not stop in %.0f s; killing it", WORKERS_STOP_TIMEOUT
            )
            self.proc.kill()
            self.proc.wait()


def http_server(app: Any, host: str, port: int, interface: str = "rsgi") -> Any:
    """The granian server of the local mode for ``app``, an RSGI application (the edge)
    or, with ``interface="asgi"``, an ASGI one: the benchmark runs its baselines under
    this same server, with the same settings."""
    from granian.constants import Interfaces
    from granian.server.embed import Server

    return Server(
        app,
        address=host,
        port=port,
        interface=Interfaces(interface),
        backlog=LISTEN_BACKLOG,
        # Requests handled at once: pings wait on a group commit, and 1 000 slow
        # clients must not use up the slots the others need.
        backpressure=LISTEN_BACKLOG * 2,
        log_enabled=False,
    )


async def serve_until_stopped(
    app: Any, settings: Settings, workers: WorkersProcess | None = None, interface: str = "rsgi"
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM (supervising the workers process, if any)."""
    server = http_server(app, settings.host, settings.port, interface)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, server.stop)
    tasks = [loop.create_task(_announce_when_listening(settings))]
    if workers is not None:
        tasks.append(loop.create_task(workers.supervise()))
    try:
        await server.serve()
    finally:
        for task in tasks:
            task.cancel()


async def _announce_when_listening(settings: Settings) -> None:
    """Print "is running" once a connection is accepted (granian binds, then starts its
    worker: scripts and tests wait for this line and connect at once)."""
    while True:
        try:
            _, writer = await asyncio.open_connection(settings.host, settings.port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        break
    print(f"srvpulse is running on {settings.site_url} (data in {settings.data_dir})", flush=True)


def main(argv: list[str] | None = None) -> int:
    import uvloop

    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _allow_many_connections()
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        return _fail(str(exc))
    root = find_app_root()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from .edge import GroupCommitQueue, LocalEdge
    from .gateway import ApiGatewayEmulator
    from .spa import SpaFiles

    api = importlib.import_module("app").app
    dashboard = SpaFiles(settings.dashboard_dir or root / "frontend" / "dist")
    # Listen first: a busy port must not leave a half-started installation behind
    # (first-start keys printed to a run that then dies).
    try:
        held = _hold_port(settings.host, settings.port)
    except OSError as exc:
        return _fail(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc} "
            "(set PORT, or HOST, to another value)"
        )
    runtime = bootstrap.for_local(settings)
    bootstrap.install(runtime)
    try:
        runtime.migrate()
    except Exception as exc:  # the database is unreachable or refuses us: say so, once
        held.close()
        url = runtime.engine.url.render_as_string(hide_password=True)
        return _fail(f"cannot prepare the database {url}: {_first_line(exc)}")
    _print_keys(runtime)
    # The edge answers 404 for unknown checks from this set: published now, after every
    # change by the API (this process), and re-read every few seconds for what ingest
    # (the workers' process) creates with ?create=1.
    ping_targets.publish(runtime.check_store, runtime.ping_targets)
    ping_targets.keep_fresh(runtime.check_store, runtime.ping_targets)

    workers = WorkersProcess(root)
    workers.start()
    edge = LocalEdge(
        GroupCommitQueue(runtime.local_queue),
        ApiGatewayEmulator(api),
        spa=dashboard,
        targets=runtime.ping_targets,
        trusted_proxies=settings.trusted_proxies,
    )
    held.close()
    # Everything made so far (the modules, the API app, the runtime) lives as long as
    # the process: keep it out of the garbage collector's full passes, which otherwise
    # walk it all again and again while pings wait.
    gc.freeze()
    try:
        uvloop.run(serve_until_stopped(edge, settings, workers))
    except Exception as exc:  # granian could not bind after all (a race for the port)
        workers.stop()
        return _fail(f"cannot serve on {settings.host}:{settings.port}: {_first_line(exc)}")
    finally:
        print("srvpulse: stopping, draining the queue...", flush=True)
        edge.close()
        workers.stop()
    left = runtime.local_queue.depth()
    runtime.local_queue.close()
    runtime.engine.dispose()
    print(f"srvpulse: stopped ({left} pings left queued for the next start)", flush=True)
    return 0
