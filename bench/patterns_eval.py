"""Pattern detection, evaluated: srvpulse's detector against the rule peers document.

    .venv/bin/python bench/patterns_eval.py [--histories 12] [--days 120] [--warmup 5,10,20]

Generates labelled histories of several job shapes (the easy ones and the hard ones:
weekly seasonal, drifting, noisy, step change, twice-runs, DST in Riga and New York, a
period-only hourly job with bursts, a weekday-only job), injects anomalies at known
runs, and replays every history through the production detector
(``domain.detection.replay``, what ``srvpulse detect`` and ingest use) and through the
peer rule "longer than 2.5x the median of the last 30 runs". A run is the unit: a
detector is right about a run when it gives it a verdict (any kind) exactly when the
run is labelled. A step change is labelled at its first run only: the runs after it are
the job's new normal, and an alert on each of them is a false alarm.

Prints precision / recall / F1 overall, per anomaly family and per job shape; the cost
of detection per ingested ping (with the baseline's JSON round trip, as ingest pays
it) beside the peer rule's cost in the same run; the baseline's size; and the time of
``srvpulse detect`` on 100 000 pings. ``--warmup`` repeats the evaluation with other
warm-up lengths (false alarms on the clean histories, recall).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from srvpulse.domain import detection
from srvpulse.domain.detection import (
    Baseline,
    DetectorConfig,
    HistoryPing,
    observe_completion,
    observe_start,
    replay,
)
from srvpulse.domain.schedule import next_cron_fire

T0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


@dataclass
class History:
    shape: str
    tz: str
    pings: list[HistoryPing] = field(default_factory=list)
    labels: dict[datetime, str] = field(default_factory=dict)  # run start -> family


def _z(r: random.Random, sigma: float) -> float:
    return r.lognormvariate(0, sigma)


def job(
    shape: str,
    r: random.Random,
    days: int,
    *,
    tz: str = "UTC",
    cron: str | None = None,
    hour: float = 3.0,
    base: float = 120.0,
    sigma: float = 0.06,
    drift: float = 0.0,
    sunday: float = 1.0,
    weekdays_only: bool = False,
    step_day: int | None = None,
    inject: bool = True,
) -> History:
    """A daily job (or a cron job) with injected anomalies after day 20."""
    h = History(shape, tz)
    if cron:
        starts, t = [], T0
        while True:
            t = next_cron_fire(cron, tz, t)
            if t >= T0 + timedelta(days=days):
                break
            starts.append(t)
    else:
        starts = [T0 + timedelta(days=d, hours=hour) for d in range(days)]
    if weekdays_only:
        starts = [s for s in starts if s.weekday() < 5]
    chosen = set(r.sample(range(20, len(starts)), 5)) if inject else set()
    kinds = ["long", "short", "time", "twice", "long"]
    for i, start in enumerate(starts):
        start = start + timedelta(seconds=r.uniform(0, 40))
        local_day = start.astimezone(ZoneInfo(tz)).weekday()
        seconds = base * (1 + drift) ** i * _z(r, sigma) * (sunday if local_day == 6 else 1)
        if step_day is not None and i >= step_day:
            seconds *= 4
            if i == step_day:
                h.labels[start] = "duration"
        anomaly = kinds[len([c for c in chosen if c < i]) % len(kinds)] if i in chosen else None
        if anomaly == "long":
            seconds *= r.uniform(4, 20) if sunday == 1 or local_day == 6 else sunday
            h.labels[start] = "duration"
        elif anomaly == "short":
            seconds = r.uniform(1, 4)
            h.labels[start] = "duration"
        elif anomaly == "time":
            start += timedelta(hours=r.choice([-8, -6, 7, 9]))
            h.labels[start] = "timing"
        h.pings += _run(start, seconds, f"{shape}-{i}")
        if anomaly == "twice":
            again = start + timedelta(seconds=seconds + r.uniform(5, 600))
            h.labels[again] = "timing"
            h.pings += _run(again, base * _z(r, sigma), f"{shape}-{i}-again")
    if weekdays_only and inject:  # and one Saturday run
        saturday = T0 + timedelta(days=40 + 7 * r.randrange(4), hours=hour)  # Saturdays
        h.labels[saturday] = "timing"
        h.pings += _run(saturday, base, f"{shape}-sat")
    return h


def _run(start: datetime, seconds: float, rid: str) -> list[HistoryPing]:
    return [
        HistoryPing(start, "start", rid),
        HistoryPing(start + timedelta(seconds=seconds), "success", rid),
    ]


def hourly_period_job(r: random.Random, days: int, inject: bool = True) -> History:
    """A period-only check (no crontab, no start pings): success pings about hourly,
    drifting through the day, with bursts (a loop gone wrong)."""
    h = History("period-only hourly, bursts", "Europe/Riga")
    t = T0
    bursts = set(r.sample(range(30, days * 24), 4)) if inject else set()
    for i in range(days * 24):
        t += timedelta(seconds=3600 + r.uniform(-60, 60))
        h.pings.append(HistoryPing(t, "success"))
        if i in bursts:
            first = t + timedelta(seconds=r.uniform(2, 30))
            h.labels[first] = "timing"
            for k in range(r.randint(2, 6)):
                h.pings.append(HistoryPing(first + timedelta(seconds=k * 3), "success"))
    return h


SHAPES: dict[str, Callable[[random.Random, int, bool], History]] = {
    "steady daily": lambda r, d, i: job("steady daily", r, d, inject=i),
    "weekly seasonal (Sunday 10x)": lambda r, d, i: job(
        "weekly seasonal (Sunday 10x)", r, d, tz="Europe/Riga", sunday=10.0, inject=i
    ),
    "drifting +1 %/day": lambda r, d, i: job("drifting +1 %/day", r, d, drift=0.01, inject=i),
    "noisy (sigma 0.5)": lambda r, d, i: job("noisy (sigma 0.5)", r, d, sigma=0.5, inject=i),
    "step change x4": lambda r, d, i: job(
        "step change x4", r, d, step_day=r.randrange(40, 80), inject=i
    ),
    "DST wall clock Riga": lambda r, d, i: job(
        "DST wall clock Riga", r, d, tz="Europe/Riga", cron="30 3 * * *", inject=i
    ),
    "DST gap New York 02:00": lambda r, d, i: job(
        "DST gap New York 02:00", r, d, tz="America/New_York", cron="0 2 * * *", inject=i
    ),
    "UTC server, New York zone": lambda r, d, i: job(
        "UTC server, New York zone", r, d, tz="America/New_York", hour=4.5, inject=i
    ),
    "weekdays only": lambda r, d, i: job("weekdays only", r, d, weekdays_only=True, inject=i),
    "period-only hourly, bursts": lambda r, d, i: hourly_period_job(r, d, i),
}


def peer_rule(pings: list[HistoryPing], warmup: int) -> set[datetime]:
    """Flag a completed run longer than 2.5x the median of the last 30 runs."""
    flagged: set[datetime] = set()
    recent: deque[float] = deque(maxlen=30)
    open_runs: dict[str, datetime] = {}
    for p in sorted(pings, key=lambda p: p.ts):
        if p.kind == "start":
            open_runs[p.rid or ""] = p.ts
        elif p.kind in ("success", "fail"):
            started = open_runs.pop(p.rid or "", None)
            if started is None:
                continue
            seconds = (p.ts - started).total_seconds()
            if len(recent) >= warmup and seconds > 2.5 * statistics.median(recent):
                flagged.add(started)
            recent.append(seconds)
    return flagged


def ours(h: History) -> set[datetime]:
    found, _ = replay(h.pings, DetectorConfig(tz=h.tz))
    return {d.verdict.run_started for d in found}


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    counts_fp: bool = False

    def add(
        self, predicted: set[datetime], labels: dict[datetime, str], family: str | None
    ) -> None:
        wanted = {t for t, f in labels.items() if family is None or f == family}
        self.tp += len(predicted & wanted)
        self.fn += len(wanted - predicted)
        if family is None:
            self.counts_fp = True
            self.fp += len(predicted - set(labels))

    def row(self) -> str:
        if self.fp == 0 and self.tp + self.fn and not self.counts_fp:
            recall = self.tp / (self.tp + self.fn)
            return f"         R {recall:5.2f}          (tp {self.tp}, fn {self.fn})"
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")
        f1 = 2 * p * r / (p + r) if p + r else float("nan")
        return f"P {p:5.2f}  R {r:5.2f}  F1 {f1:5.2f}  (tp {self.tp}, fp {self.fp}, fn {self.fn})"


def evaluate(histories: list[History], warmup: int) -> tuple[dict[str, Score], dict[str, Score]]:
    detection.WARMUP_RUNS = warmup
    mine: dict[str, Score] = {}
    peer: dict[str, Score] = {}
    for h in histories:
        a, b = ours(h), peer_rule(h.pings, warmup)
        rows: list[tuple[str, str | None]] = [
            ("all", None),
            ("recall: duration anomalies", "duration"),
            ("recall: timing anomalies", "timing"),
            (f"shape: {h.shape}", None),
        ]
        for key, family in rows:
            mine.setdefault(key, Score()).add(a, h.labels, family)
            peer.setdefault(key, Score()).add(b, h.labels, family)
    return mine, peer


def cost(histories: list[History]) -> None:
    """Per ingested ping, as ingest pays it: read the JSON column, observe, write it back.
    CPU time (time.process_time), so other work on the machine does not count."""
    detection.WARMUP_RUNS = 10
    streams = [(DetectorConfig(tz=h.tz), sorted(h.pings, key=lambda p: p.ts)) for h in histories]
    total = sum(len(pings) for _, pings in streams)

    def run(with_json: bool) -> float:
        start = time.process_time()
        for config, pings in streams:
            state, b = Baseline().to_json(), Baseline()
            open_runs: dict[str, datetime] = {}
            for p in pings:
                if with_json:
                    b = Baseline.from_json(state)
                if p.kind == "start":
                    open_runs[p.rid or ""] = p.ts
                    b = observe_start(b, config, p.ts).baseline
                else:
                    begun = open_runs.pop(p.rid or "", None)
                    b = observe_completion(b, config, p.ts, begun).baseline
                if with_json:
                    state = b.to_json()
        return (time.process_time() - start) / total * 1e6

    detector_us, full_us = run(False), run(True)
    start = time.process_time()
    for _, pings in streams:
        peer_rule(pings, 10)
    peer_us = (time.process_time() - start) / total * 1e6
    sizes = [len(replay(h.pings, DetectorConfig(tz=h.tz))[1].to_json()) for h in histories]
    print(f"\ncost per ingested ping, CPU ({total} pings):")
    print(f"  detector alone {detector_us:.1f} us; with the JSON round trip {full_us:.1f} us")
    print(
        f"  baseline in the same run: peer rule in memory (deque of 30 + median) {peer_us:.1f} us"
        f" -> ratio {full_us / peer_us:.0f}x"
    )
    print(
        f"baseline state (JSON): median {statistics.median(sizes):.0f} bytes, "
        f"max {max(sizes)} bytes over {len(sizes)} histories"
    )


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cli_100k() -> None:
    r = random.Random(7)
    lines = []
    for i in range(50_000):
        s = T0 + timedelta(minutes=10 * i, seconds=r.uniform(0, 5))
        d = 30 * r.lognormvariate(0, 0.1)
        lines.append(json.dumps({"ts": _iso(s), "kind": "start", "rid": f"r{i}"}))
        lines.append(
            json.dumps({"ts": _iso(s + timedelta(seconds=d)), "kind": "success", "rid": f"r{i}"})
        )
    r.shuffle(lines)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.write("\n".join(lines) + "\n")
    exe = str(Path(sys.executable).parent / "srvpulse")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    cmd = [exe, "detect", "--history", fh.name, "--schedule", "*/10 * * * *", "--tz", "Europe/Riga"]
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    start = time.perf_counter()
    subprocess.run([exe, "--help"], check=True, capture_output=True)
    startup = time.perf_counter() - start
    Path(fh.name).unlink()
    print(
        f"\nsrvpulse detect, 100 000 shuffled pings: {wall:.2f} s wall, {cpu:.2f} s CPU "
        f"(the command's start-up alone: {startup:.2f} s)"
    )


def baseline_vs_history(weeks: int = 8) -> None:
    """What a verdict needs, both ways: the baseline column of the check row (what
    ingest does) against reading the check's recent history from the series store and
    replaying it (a query per check: 8 weeks, enough for the weekday offsets)."""
    from sqlalchemy import insert, select
    from srvpulse.adapters.sql.db import make_engine, migrate
    from srvpulse.adapters.sql.series_store import SqlSeriesStore
    from srvpulse.adapters.sql.tables import checks, projects
    from srvpulse.domain.runs import SeriesPoint

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3")
        migrate(engine)
        store = SqlSeriesStore(engine, timedelta(days=400))
        r = random.Random(3)
        hourly = [T0 + timedelta(hours=i) for i in range(weeks * 7 * 24)]
        uuids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(20)]
        for check_uuid in uuids:  # 20 hourly checks, 8 weeks each
            points = []
            for s in hourly:
                took = 30 * r.lognormvariate(0, 0.1)
                points.append(SeriesPoint(check_uuid, s, "start"))
                points.append(
                    SeriesPoint(
                        check_uuid,
                        s + timedelta(seconds=took),
                        "success",
                        duration_ms=int(took * 1000),
                    )
                )
            store.write(points)
        pings = [HistoryPing(s, "start") for s in hourly] + [
            HistoryPing(s + timedelta(seconds=30), "success") for s in hourly
        ]
        _, learned = replay(pings, DetectorConfig(tz="Europe/Riga"))
        with engine.begin() as conn:
            conn.execute(
                insert(projects).values(id=1, uuid="p", name="p", ping_key="k", created=T0)
            )
            conn.execute(
                insert(checks).values(
                    id=1, uuid=uuids[0], project_id=1, created=T0, baseline=learned.to_json()
                )
            )
        n = 200
        start = time.process_time()
        for _ in range(n):
            with engine.connect() as conn:
                text = conn.execute(select(checks.c.baseline).where(checks.c.id == 1)).scalar()
            Baseline.from_json(text)
        column_ms = (time.process_time() - start) / n * 1000
        start = time.process_time()
        for _ in range(n // 20):
            since = hourly[-1] - timedelta(weeks=weeks)
            found = store.read(uuids[0], since=since, limit=100_000, newest_first=False)
            history = [HistoryPing(p.at, p.kind) for p in found]
            replay(history, DetectorConfig(tz="Europe/Riga"))
        history_ms = (time.process_time() - start) / (n // 20) * 1000
    print(
        f"\nbaseline for a verdict (hourly check, {weeks} weeks = {len(pings)} pings, SQLite, CPU):"
        f"\n  baseline column + JSON parse {column_ms:.2f} ms; series query + replay "
        f"{history_ms:.1f} ms -> {history_ms / column_ms:.0f}x"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--histories", type=int, default=12, help="per job shape")
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--warmup", default="10", help="comma-separated warm-up lengths")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    r = random.Random(args.seed)
    histories = [
        make(r, args.days, True) for make in SHAPES.values() for _ in range(args.histories)
    ]
    clean = [make(r, args.days, False) for make in SHAPES.values() for _ in range(args.histories)]
    labelled = sum(len(h.labels) for h in histories)
    runs = sum(sum(1 for p in h.pings if p.kind != "success" or not p.rid) for h in histories)
    print(
        f"{len(histories)} labelled histories ({args.histories} per shape, {args.days} days), "
        f"{runs} runs, {labelled} labelled anomalies; {len(clean)} clean histories"
    )
    for warmup in [int(w) for w in args.warmup.split(",")]:
        mine, peer = evaluate(histories, warmup)
        quiet_mine, quiet_peer = evaluate(clean, warmup)
        print(f"\nwarm-up {warmup} runs{' (the shipped value)' if warmup == 10 else ''}")
        print(f"  {'':38} {'srvpulse detector':52} peer rule (2.5x median of last 30)")
        for key in mine:
            print(f"  {key[:38]:38} {mine[key].row():52} {peer[key].row()}")
        print(
            f"  {'false alarms on clean histories':38} {quiet_mine['all'].fp:<52} "
            f"{quiet_peer['all'].fp}"
        )
    cost(histories)
    baseline_vs_history()
    cli_100k()


if __name__ == "__main__":
    main()
