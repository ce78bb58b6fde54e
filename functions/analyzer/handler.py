"""Analyzer function: one pass per invocation on AWS.

template.yaml's AnalyzerLoop (an Express state machine an EventBridge rule starts every
minute) invokes it with ``{"single_pass": true}`` every AnalyzerPassSeconds, so an alert
goes out within that long of its deadline while no Lambda is billed for the waits.
Invoked with any other event (the local mode's scheduler, ``sam local invoke`` with
events/analyzer-tick.json, a plain EventBridge schedule), it repeats the pass every
``PASS_INTERVAL_S`` seconds until the invocation's time is nearly over
(``context.get_remaining_time_in_millis``). Overlapping invocations are safe: passes are
guarded by version checks (services.analyzing).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from srvpulse import bootstrap
from srvpulse.services.analyzing import run_for, run_while_full

logger = Logger(service="srvpulse-analyzer")

PASS_INTERVAL_S = 5.0
# No pass starts with less than this left before the function's timeout (30 s in
# template.yaml): room for a full pass, 1 000 due checks or, after a full one, 2 000
# (bench/analyzer_scale.py).
RESERVE_MS = 3000


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    rt = bootstrap.runtime()
    remaining = context.get_remaining_time_in_millis if context is not None else (lambda: 0)
    if event.get("single_pass"):
        # One pass, unless it found a full batch: then more back to back while the
        # invocation has time (a fleet due at :00), never sleeping (the loop waits).
        reports = run_while_full(rt.analyzer, remaining, reserve_ms=RESERVE_MS)
    else:
        reports = run_for(rt.analyzer, remaining, interval=PASS_INTERVAL_S, reserve_ms=RESERVE_MS)
    summary = {
        "passes": len(reports),
        "due": sum(r.due for r in reports),
        "flips": sum(r.flips for r in reports),
        "published": sum(r.published for r in reports),
        "lost_races": sum(r.lost_races for r in reports),
        "rows_read": sum(r.rows_read for r in reports),
        # How far ingestion lagged (deadlines after it waited): the worst of the passes.
        "lag_seconds": round(max((r.lag_seconds for r in reports), default=0.0), 1),
    }
    logger.info("analyzer invocation", extra=summary)
    return summary
