"""Analyzer function: an EventBridge schedule invokes it every minute.

Inside one invocation it repeats the analyzer pass every few seconds until the minute is
nearly over (``context.get_remaining_time_in_millis``), so an alert goes out within about
``PASS_INTERVAL_S`` seconds of its deadline instead of within a minute. Overlapping
invocations are safe: passes are guarded by version checks (services.analyzing).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from srvpulse import bootstrap
from srvpulse.services.analyzing import run_for

logger = Logger(service="srvpulse-analyzer")

PASS_INTERVAL_S = 5.0
# The last pass starts this long before the function's timeout (55 s in template.yaml,
# so each run ends before the next tick): room for a full batch of 1 000 due checks
# (bench/analyzer_scale.py).
RESERVE_MS = 3000


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    rt = bootstrap.runtime()
    remaining = context.get_remaining_time_in_millis if context is not None else (lambda: 0)
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
