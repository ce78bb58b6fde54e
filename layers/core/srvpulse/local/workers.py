"""``python -m srvpulse.local.workers``: the local mode's background workers (queue drain
-> ingest, analyzer, alert delivery; ``runner.build_workers``) in a process of their own.

The HTTP process starts it (runner.py) in a session of its own, with a pipe as its
standard input, and asks it to stop by closing that pipe, after the HTTP server has
stopped taking pings; it then stops every worker with ``drain=True`` and exits. So
Ctrl-C in a terminal reaches only the HTTP process (the order stays "no new pings, then
drain"), a stop asked for while this process is still starting is not lost (the end of
the pipe stays), and if the parent dies (kill -9) the pipe closes and this process
stops too. SIGTERM sent to it directly stops it the same way.

Why a process: ingest, the analyzer and the alerters are Python work that would share
the HTTP edge's GIL; in a process of their own they cannot slow the answers to pings.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

from .. import bootstrap
from ..settings import Settings

log = logging.getLogger("srvpulse.local.workers")

WORKERS_NICENESS = 5


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    stop = threading.Event()

    def _on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    def _until_stdin_closes() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe, or died
        stop.set()

    signal.signal(signal.SIGTERM, _on_term)
    threading.Thread(target=_until_stdin_closes, name="stop-pipe", daemon=True).start()
    # The HTTP edge comes first when the two compete for the CPU: under a flood of pings
    # ingest falls behind (the analyzer knows how far, from the queue) instead of the
    # edge answering late. When the CPU is not contended, niceness changes nothing.
    os.nice(WORKERS_NICENESS)

    from .runner import build_workers, find_app_root

    root = find_app_root()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    runtime = bootstrap.for_local(Settings.from_env())
    bootstrap.install(runtime)
    workers = build_workers(runtime)
    for worker in workers:
        worker.start()
    stop.wait()
    for worker in reversed(workers):
        worker.stop(drain=True)
    runtime.local_queue.close()
    runtime.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
