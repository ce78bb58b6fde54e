"""`srvpulse detect`: what pattern detection would have said on a recorded history.

Reads JSON lines (one ping each, any order), replays them in time order through the
production detector (domain.detection.replay: each verdict uses only earlier pings) and
prints one JSON line per anomaly on stdout. A summary goes to stderr, so stdout stays
machine-readable. Bad input: one line naming the file line, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from ..domain.detection import DetectorConfig, HistoryPing, Sensitivity, replay
from ..errors import InvalidInput

KINDS = ("start", "success", "fail", "log")


class HistoryError(Exception):
    """A line of the history file that cannot be used; the message names it."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="srvpulse detect",
        description=(
            "Replay a job's recorded pings through srvpulse's pattern detection and print "
            'one JSON line per anomaly: {"ts", "kind", "explanation"}.'
        ),
        epilog=(
            'FILE holds JSON lines: {"ts": "2026-01-05T01:00:03.460Z", "kind": '
            '"start"|"success"|"fail"|"log", "rid": "<uuid, optional>", '
            '"exit_status": <0-255, optional>}. Use - for standard input.'
        ),
    )
    p.add_argument("--history", required=True, metavar="FILE", help="JSON lines, one ping each")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--schedule", metavar="CRON", help="the check's crontab expression")
    which.add_argument("--timeout", type=int, metavar="SECONDS", help="the check's period")
    p.add_argument("--tz", default="UTC", help="the check's IANA time zone (default UTC)")
    p.add_argument("--grace", type=int, default=3600, metavar="SECONDS", help="default 3600")
    p.add_argument(
        "--sensitivity",
        default=Sensitivity.NORMAL.value,
        choices=[s.value for s in Sensitivity],
        help="how far from usual is far (default normal)",
    )
    return p


def _parse_ts(value: Any) -> datetime:
    if not isinstance(value, str):
        raise HistoryError('"ts" must be a string such as "2026-01-05T01:00:03.460Z"')
    try:
        ts = datetime.fromisoformat(value)
    except ValueError as exc:
        raise HistoryError(f'"ts" is not an ISO 8601 time: {value!r}') from exc
    if ts.tzinfo is None:
        raise HistoryError(f'"ts" needs a time zone ("Z" for UTC): {value!r}')
    return ts.astimezone(UTC)


def parse_line(text: str) -> HistoryPing:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HistoryError(f"not JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise HistoryError("each line must be a JSON object")
    if "ts" not in data:
        raise HistoryError('"ts" is missing')
    ts = _parse_ts(data["ts"])
    kind = data.get("kind")
    if kind not in KINDS:
        raise HistoryError(f'"kind" must be one of {", ".join(KINDS)}, got {kind!r}')
    rid = data.get("rid")
    if rid is not None and not isinstance(rid, str):
        raise HistoryError('"rid" must be a string')
    exit_status = data.get("exit_status")
    if exit_status is not None and (
        isinstance(exit_status, bool)
        or not isinstance(exit_status, int)
        or not 0 <= exit_status <= 255
    ):
        raise HistoryError('"exit_status" must be an integer from 0 to 255')
    return HistoryPing(ts=ts, kind=kind, rid=rid or None, exit_status=exit_status)


def read_history(lines: Any, name: str) -> list[HistoryPing]:
    pings: list[HistoryPing] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            pings.append(parse_line(line))
        except HistoryError as exc:
            raise HistoryError(f"{name}:{number}: {exc}") from exc
    return pings


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _validate(args: argparse.Namespace) -> None:
    from ..domain.schedule import (
        MAX_GRACE,
        MAX_TIMEOUT,
        MIN_GRACE,
        MIN_TIMEOUT,
        validate_cron,
        validate_tz,
    )

    validate_tz(args.tz, "--tz")
    if args.schedule is not None:
        validate_cron(args.schedule, "--schedule")
    elif not MIN_TIMEOUT <= args.timeout <= MAX_TIMEOUT:
        raise InvalidInput(f"--timeout: must be {MIN_TIMEOUT}..{MAX_TIMEOUT} seconds", "--timeout")
    if not MIN_GRACE <= args.grace <= MAX_GRACE:
        raise InvalidInput(f"--grace: must be {MIN_GRACE}..{MAX_GRACE} seconds", "--grace")


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        _validate(args)
    except InvalidInput as exc:
        print(f"srvpulse detect: {exc}", file=sys.stderr)
        return 2
    try:
        if args.history == "-":
            pings = read_history(sys.stdin, "<stdin>")
        else:
            with open(args.history, encoding="utf-8") as fh:
                pings = read_history(fh, args.history)
    except HistoryError as exc:
        print(f"srvpulse detect: {exc}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as exc:
        print(f"srvpulse detect: cannot read {args.history}: {exc}", file=sys.stderr)
        return 2
    config = DetectorConfig(tz=args.tz, sensitivity=Sensitivity(args.sensitivity))
    found, _ = replay(pings, config)
    out = sys.stdout
    for d in found:
        line = {
            "ts": _iso(d.ts),
            "kind": d.verdict.kind.value,
            "explanation": d.verdict.explanation,
        }
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    counts = Counter(d.verdict.kind.value for d in found)
    detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    print(
        f"srvpulse detect: {len(pings)} pings, {len(found)} "
        + ("anomaly" if len(found) == 1 else "anomalies")
        + (f" ({detail})" if detail else ""),
        file=sys.stderr,
    )
    return 0
