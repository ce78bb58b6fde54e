"""`srvpulse queue stats|redrive`: the local mode's durable ping queue.

`stats` prints what is queued, waiting for a retry and dead-lettered, and how old the
oldest unacknowledged ping is. `redrive` moves dead letters back into the queue (in
batches, each one commit, so it may run while `srvpulse run` does and may be stopped
and run again): ingest is idempotent on each ping's id, so a ping that was in fact
stored before is not stored twice. On AWS the queue is SQS: use its DLQ redrive
(docs/architecture.md, "Local mode" and "Ping edge").
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..adapters.local_queue import LocalDurableQueue

QUEUE_FILE = "queue.sqlite3"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="srvpulse queue", description="Inspect the local ping queue and redrive dead letters."
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("SRVPULSE_DATA_DIR", "data")),
        help="the local mode's data directory (default: $SRVPULSE_DATA_DIR or ./data)",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("stats", help="queued, retrying and dead-lettered pings")
    redrive = sub.add_parser("redrive", help="move every dead letter back into the queue")
    redrive.add_argument(
        "--batch-size", type=int, default=500, help="dead letters moved per commit (500)"
    )
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    path: Path = args.data_dir / QUEUE_FILE
    if not path.is_file():
        print(
            f"srvpulse queue: no queue at {path} (set --data-dir or SRVPULSE_DATA_DIR)",
            file=sys.stderr,
        )
        return 2
    from dataclasses import replace

    from ..bootstrap import Runtime
    from ..settings import Settings

    # The runner holds the queue's write lock in short bursts: wait for it patiently.
    settings = replace(Settings.from_env(), data_dir=args.data_dir.resolve())
    queue = Runtime(settings).local_queue_with(busy_timeout=30.0)
    try:
        if args.action == "stats":
            return _stats(queue)
        return _redrive(queue, max(1, args.batch_size))
    finally:
        queue.close()


def _stats(queue: LocalDurableQueue) -> int:
    s = queue.stats()
    print(f"queue: {queue.path}")
    print(f"  queued (not yet ingested): {s.queued}")
    print(f"    ready now:               {s.visible}")
    print(f"    retried at least once:   {s.retrying}")
    print(f"  dead letters:              {s.dead_letters}")
    if s.oldest_enqueued_at is None:
        print("  ingestion lag:             none (the queue is empty)")
    else:
        print(
            f"  ingestion lag:             {time.time() - s.oldest_enqueued_at:.1f} s "
            "(age of the oldest queued ping)"
        )
    if s.dead_letters:
        print("  (srvpulse queue redrive puts the dead letters back)")
    return 0


def _redrive(queue: LocalDurableQueue, batch_size: int) -> int:
    total = queue.stats().dead_letters
    if total == 0:
        print("no dead letters: nothing to redrive")
        return 0
    print(f"redriving {total} dead letters from {queue.path}")
    moved = 0
    while n := queue.redrive(batch_size):
        moved += n
        print(f"  {moved}/{total} back in the queue", flush=True)
    print(f"done: {moved} moved back; ingest skips any that were already stored (by ping id)")
    return 0
