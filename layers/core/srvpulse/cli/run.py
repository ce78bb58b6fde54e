"""`srvpulse run`: wrap a job. It sends /start with a fresh run id, runs the command with
its output passed through, then sends the completion (exit status, a one-line summary and
the last 100 KB of output as the report) and exits with the command's exit status.

Monitoring never fails or holds up the job: the start ping goes out in the background
while the command already runs, and after the command ends srvpulse run waits at most
``2 * _http.DEADLINE`` = 12 s (what is left of the start ping's 6 s, then 6 s for the
completion: 2 s per attempt, 3 attempts), and only when srvpulse accepts connections but
does not answer; a refused connection fails within about 2 s. If srvpulse cannot be
reached, a warning goes to stderr and the exit status is still the command's. Standard
library only: this runs on the job's machine next to cron."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from types import FrameType
from typing import IO

from ._http import DEADLINE, Reply, request
from ._target import UsageError, ping_url

# The server keeps this much of a report (domain.model.MAX_REPORT_BYTES; a test keeps
# the two equal): the command sends the end of the output, where the errors are.
REPORT_BYTES = 100_000
SUMMARY_CHARS = 200
# Sent to the command when srvpulse itself is asked to stop; terminal-generated SIGINT
# and SIGQUIT already reach the command (same process group) and are not sent twice.
FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)

EXAMPLES = """\
examples:
  # crontab: every night at 03:00, monitored; the job's own exit status is kept
  SRVPULSE_URL=https://srvpulse.example.com
  0 3 * * * srvpulse run --check 5f1c...e2 -- /usr/local/bin/backup.sh
  srvpulse run --check https://srvpulse.example.com/ping/5f1c...e2 -- pg_dump -f db.sql app
  srvpulse run --slug nightly-backup --ping-key $KEY -- ./backup.sh

exit status: the command's (128+N if a signal N killed it; 127 command not found,
126 not executable); 2 if srvpulse run itself was called wrongly."""


class _Tail:
    """The last REPORT_BYTES of everything the command wrote (stdout and stderr)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self._lock:
            self._buf += chunk
            if len(self._buf) > 2 * REPORT_BYTES:
                del self._buf[: len(self._buf) - REPORT_BYTES]

    def text(self) -> str:
        with self._lock:
            data = bytes(self._buf[-REPORT_BYTES:])
        return data.decode("utf-8", "replace")


def _pump(src: IO[bytes], dst: IO[bytes], tail: _Tail) -> None:
    """Copy the command's output through as it comes, keeping the tail."""
    fd = src.fileno()
    while chunk := os.read(fd, 65536):
        tail.add(chunk)
        try:
            dst.write(chunk)
            dst.flush()
        except (OSError, ValueError):  # our own stdout is gone: keep the job going
            pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="srvpulse run",
        usage="srvpulse run (--check UUID|URL | --slug S --ping-key K) [options] -- command ...",
        description="Run a command and report its start, exit status, duration and output.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--check", help="the check's uuid or its whole ping URL")
    p.add_argument("--slug", help="the check's slug (with --ping-key)")
    p.add_argument("--ping-key", help="the project's ping key (or SRVPULSE_PING_KEY)")
    p.add_argument("--url", help="the srvpulse server (or SRVPULSE_URL)")
    p.add_argument("--quiet", action="store_true", help="no warnings when srvpulse is unreachable")
    return p


def _describe(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exit status {code}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s"
    return f"{minutes // 60} h {minutes % 60} min"


def _completion(code: int, elapsed: float, report: str, command: list[str]) -> bytes:
    # The program's name only: arguments may hold secrets.
    summary = f"{_describe(code)} after {_duration(elapsed)} ({os.path.basename(command[0])})"
    body = {
        "status": code if 0 <= code <= 255 else "fail",
        "summary": summary[:SUMMARY_CHARS],
        "report": report,
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "replace")


def _start_command(
    command: list[str], tail: _Tail
) -> tuple[subprocess.Popen[bytes], list[threading.Thread]]:
    # Running the user's own command is what this tool is for.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
    assert proc.stdout is not None and proc.stderr is not None
    pumps = [
        threading.Thread(target=_pump, args=(proc.stdout, sys.stdout.buffer, tail), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, sys.stderr.buffer, tail), daemon=True),
    ]
    for t in pumps:
        t.start()
    return proc, pumps


def _forward_signals(proc: subprocess.Popen[bytes]) -> Callable[[], None]:
    def forward(signum: int, _frame: FrameType | None) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    # Ctrl-C reaches the command by itself; srvpulse waits for it to finish.
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def main(argv: list[str]) -> int:
    if "--" in argv:
        cut = argv.index("--")
        ours, command = argv[:cut], argv[cut + 1 :]
    else:
        ours, command = argv, []
    args = _parser().parse_args(ours)
    if not command:
        print(
            "srvpulse run: no command given: srvpulse run --check UUID -- command args",
            file=sys.stderr,
        )
        return 2

    def warn(message: str) -> None:
        if not args.quiet:
            print(f"srvpulse run: {message}", file=sys.stderr)

    url: str | None
    try:
        url = ping_url(args.check, slug=args.slug, ping_key=args.ping_key, server=args.url)
    except UsageError as exc:
        warn(f"{exc}; running the command unmonitored")
        url = None

    rid = str(uuid.uuid4())
    started: list[Reply] = []
    starter: threading.Thread | None = None
    if url is not None:
        start_url = f"{url}/start?rid={rid}"
        starter = threading.Thread(
            target=lambda: started.append(request("GET", start_url)), daemon=True
        )
        starter.start()

    tail = _Tail()
    began = time.monotonic()
    try:
        proc, pumps = _start_command(command, tail)
    except FileNotFoundError:
        code, message = 127, f"command not found: {command[0]}"
    except PermissionError:
        code, message = 126, f"permission denied: {command[0]}"
    else:
        restore = _forward_signals(proc)
        try:
            code = proc.wait()
        finally:
            restore()
        for t in pumps:
            t.join()
        message = ""
    elapsed = time.monotonic() - began
    if message:
        print(f"srvpulse run: {message}", file=sys.stderr)
        tail.add(message.encode())

    if url is not None:
        # The completion must not overtake its start; the start had the job's whole run.
        if starter is not None:
            starter.join(timeout=DEADLINE)
        if started and not started[0].ok:
            warn(f"the start ping failed: {started[0].message()}")
        reply = request(
            "POST",
            f"{url}?rid={rid}",
            body=_completion(code, elapsed, tail.text(), command),
            headers={"Content-Type": "application/json"},
        )
        if not reply.ok:
            warn(f"the completion ping failed: {reply.message()}")
    return 128 - code if code < 0 else code
