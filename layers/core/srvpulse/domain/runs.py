"""Series points and the runs they describe (pure).

A *point* is one stored ping as the series store keeps it. A *run* is what a user reads
in a job's history: when it started, when it ended, how long it took and how it ended.
Ingest already computed each completion's duration from its start (by run id, else the
check's last start), so a completion alone gives its run; a start that no completion
claims is a run that has not finished (still going, or never reported back).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

COMPLETION_KINDS = ("success", "fail")
START_KIND = "start"
# Durations are whole milliseconds (truncated), so a completion's start is known to
# within 1 ms of the start ping's time.
_MATCH = timedelta(milliseconds=2)


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One ping as the series store keeps it: measurement ``pings``, one tag
    ``check_id`` (the check's uuid), the edge's receive time to the microsecond.

    (check_uuid, at) identifies the point: writing it again (a redelivered ping)
    replaces it, never adds a second one. ``kind`` is the stored kind (success, start,
    fail, log, or ign when it did not count); ``report_bytes`` is the size of the
    report, which itself stays in the SQL store.
    """

    check_uuid: str
    at: datetime
    kind: str
    exit_status: int | None = None
    duration_ms: int | None = None
    rid: str | None = None
    summary: str | None = None
    report_bytes: int = 0
    remote_addr: str = ""


@dataclass(frozen=True, slots=True)
class Run:
    """One run of a job. ``outcome``: success, fail, or started (no completion yet).
    ``at`` orders runs: the completion's time, or the start's for an unfinished run."""

    at: datetime
    outcome: str
    started_at: datetime | None
    ended_at: datetime | None
    duration_ms: int | None
    exit_status: int | None
    rid: str | None
    summary: str | None


def _started(completion: SeriesPoint) -> datetime | None:
    if completion.duration_ms is None:
        return None
    return completion.at - timedelta(milliseconds=completion.duration_ms)


def runs_from_points(
    points: Sequence[SeriesPoint], newer_completions: Sequence[SeriesPoint] = ()
) -> list[Run]:
    """The runs that ``points`` (start, success and fail points of one check, any
    order) describe, newest first. ``newer_completions`` are completions after the
    points' time span (the previous page), which may have finished runs started here."""
    completions = [p for p in points if p.kind in COMPLETION_KINDS]
    claimers = completions + [p for p in newer_completions if p.kind in COMPLETION_KINDS]
    runs = [
        Run(
            at=c.at,
            outcome=c.kind,
            started_at=_started(c),
            ended_at=c.at,
            duration_ms=c.duration_ms,
            exit_status=c.exit_status,
            rid=c.rid,
            summary=c.summary,
        )
        for c in completions
    ]
    # A completion claims the start with its run id, or (either without one) the start
    # its duration points back to.
    rids = {c.rid for c in claimers if c.rid is not None}
    began = sorted(b for c in claimers if (b := _started(c)) is not None)
    for s in points:
        if s.kind != START_KIND:
            continue
        if s.rid is not None and s.rid in rids:
            continue
        i = bisect.bisect_left(began, s.at - _MATCH)
        if i < len(began) and began[i] <= s.at + _MATCH:
            continue
        runs.append(Run(s.at, "started", s.at, None, None, None, s.rid, s.summary))
    runs.sort(key=lambda r: r.at, reverse=True)
    return runs
