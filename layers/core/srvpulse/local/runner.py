"""``python -m srvpulse.local``: srvpulse in one process.

Start-up: migrate the database, create the default project (printing its API keys the
first time), serve HTTP with waitress through the API Gateway emulator, and start the
background workers from ``build_workers``. SIGINT (Ctrl-C) and SIGTERM stop the HTTP
server first, then stop every worker with ``drain=True`` (the ingest worker ingests what
is queued), and exit 0.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from .. import bootstrap
from ..bootstrap import Runtime
from ..services import ping_targets
from ..settings import Settings

log = logging.getLogger("srvpulse.local")

# waitress worker threads: each request runs a handler in one of them.
HTTP_THREADS = 8


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
    from .queue_worker import QueueDrainWorker

    workers: list[Worker] = [
        QueueDrainWorker(runtime.local_queue, load_handler("functions.ingest.handler")),
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


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM behaves like Ctrl-C: waitress's loop ends and the shutdown path runs.
    raise KeyboardInterrupt


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


def main(argv: list[str] | None = None) -> int:
    import waitress

    from ..adapters.sql.db import migrate

    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # "Task queue depth is N" on every queued request under load: noise, not a problem.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        return _fail(str(exc))
    root = find_app_root()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from .gateway import ApiGatewayEmulator
    from .spa import SpaFiles

    api = importlib.import_module("app").app
    dashboard = SpaFiles(settings.dashboard_dir or root / "frontend" / "dist")
    gateway = ApiGatewayEmulator(load_handler("functions.ping.handler"), api, dashboard)
    # Listen first: a busy port must not leave a half-started installation behind
    # (first-start keys printed to a run that then dies).
    try:
        server = waitress.create_server(
            gateway,
            host=settings.host,
            port=settings.port,
            threads=HTTP_THREADS,
            ident="srvpulse",
            # X-Forwarded-* reach the ping handler untouched: it trusts them only from
            # TRUSTED_PROXIES (domain.pinging.behind_proxy), as on AWS.
            clear_untrusted_proxy_headers=False,
        )
    except OSError as exc:
        return _fail(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc} "
            "(set PORT, or HOST, to another value)"
        )
    runtime = bootstrap.for_local(settings)
    bootstrap.install(runtime)
    try:
        migrate(runtime.engine)
    except Exception as exc:  # the database is unreachable or refuses us: say so, once
        server.close()
        url = runtime.engine.url.render_as_string(hide_password=True)
        return _fail(f"cannot prepare the database {url}: {_first_line(exc)}")
    _print_keys(runtime)
    # The edge answers 404 for unknown checks from this set (in process; kept current by
    # the API and ingest).
    ping_targets.publish(runtime.check_store, runtime.ping_targets)

    workers = build_workers(runtime)
    for worker in workers:
        worker.start()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    print(f"srvpulse is running on {settings.site_url} (data in {settings.data_dir})", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        print("srvpulse: stopping, draining the queue...", flush=True)
        server.close()
        for worker in reversed(workers):
            worker.stop(drain=True)
        left = runtime.local_queue.depth()
        runtime.local_queue.close()
        runtime.engine.dispose()
        print(f"srvpulse: stopped ({left} pings left queued for the next start)", flush=True)
    return 0
