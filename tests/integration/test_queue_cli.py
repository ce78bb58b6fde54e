"""`srvpulse queue stats|redrive` on the local mode's queue file: dead letters go back
once, and ingest stores each redriven ping once (by its ping id)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from srvpulse.bootstrap import Runtime
from srvpulse.domain.model import PingMessage
from srvpulse.local.queue_worker import QueueDrainWorker

from functions.ingest import handler as ingest
from tests.integration.conftest import Api, a_ping, deliver


def srvpulse_queue(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "srvpulse.cli", "queue", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _dead_letter(runtime: Runtime, message: PingMessage) -> None:
    q = runtime.local_queue
    q.send(message.to_json())
    [received] = q.receive(1)
    assert q.dead_letter(received.receipt, "dead-lettered by an older srvpulse")


def test_redrive_puts_dead_letters_back_once_and_ingest_stores_each_ping_once(
    runtime: Runtime, rw: Api, tmp_path: Path
) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "backup", "timeout": 3600})
    uuid = check["ping_url"].rsplit("/", 1)[1]
    already_stored, never_stored = a_ping(uuid), a_ping(uuid)
    deliver(already_stored)
    _dead_letter(runtime, already_stored)
    _dead_letter(runtime, never_stored)

    stats = srvpulse_queue("--data-dir", str(tmp_path), "stats")
    assert stats.returncode == 0, stats.stderr
    assert "dead letters:              2" in stats.stdout
    assert "srvpulse queue redrive" in stats.stdout

    first = srvpulse_queue("--data-dir", str(tmp_path), "redrive", "--batch-size", "1")
    assert first.returncode == 0, first.stderr
    assert "redriving 2 dead letters" in first.stdout
    assert "1/2 back in the queue" in first.stdout and "2/2 back in the queue" in first.stdout
    assert "done: 2 moved back" in first.stdout
    again = srvpulse_queue("--data-dir", str(tmp_path), "redrive")
    assert (again.returncode, again.stdout.strip()) == (0, "no dead letters: nothing to redrive")

    queue = runtime.local_queue
    assert queue.depth() == 2 and queue.dead_letters() == []
    worker = QueueDrainWorker(queue, ingest.handler, idle_wait=0.01)
    worker.start()
    worker.stop(drain=True)
    assert queue.depth() == 0 and queue.dead_letters() == []
    _, shown = rw.call("get", f"/api/v3/checks/{uuid}")
    assert shown["n_pings"] == 2  # the ping stored before the redrive is not stored again


def test_queue_commands_name_a_missing_queue_instead_of_creating_one(tmp_path: Path) -> None:
    result = srvpulse_queue("--data-dir", str(tmp_path / "nowhere"), "stats")
    assert result.returncode == 2
    assert "no queue at" in result.stderr and not (tmp_path / "nowhere").exists()
