"""Ingest function: an SQS batch of pings -> services.ingesting, in one transaction.

``ingest_queue_batch`` decodes the records (a body that is not a ping message is poison
and fails alone; analyzer heartbeats move the ingestion watermark), stores the pings
together, fails them all as retryable on a transient database error (SQS delivers them
again after the visibility timeout: docs/architecture.md, "Ingest") and a message that
cannot be stored even on its own alone. Failures go back through Powertools' partial
batch response. Never logs bodies or ping keys.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from srvpulse import bootstrap
from srvpulse.services.ingesting import Outcome, ReceiptPruner, ingest_queue_batch

logger = Logger(service="srvpulse-ingest")
_pruner: ReceiptPruner | None = None

# A batch makes hundreds of thousands of short-lived objects, nearly all freed by their
# reference counts; at CPython's default threshold (700) the cycle collector ran about
# 15 times per batch of 500 pings for 5 % of ingest's instructions (callgrind, the
# bench's workload: 0.952 M -> 0.901 M per ping at 20 000). The process is ingest's
# (a Lambda container, or the local workers process that drains the queue through
# this handler), so the setting is made here, once, at import.
gc.set_threshold(20_000, 20, 20)


@contextmanager
def _no_collection() -> Iterator[None]:
    """No cyclic garbage collection while a batch is stored: even at the threshold above
    the collector ran inside nearly every batch (a gen-0 pass per 20 000 objects, now and
    then a full one over the process), 3-4 % of a batch's CPU on both backends (py-spy).
    Collections resume after the batch (only postponed); the batch never turns them on
    when something else had turned them off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class RecordFailed(Exception):
    """This record was not stored (the reason is the message)."""


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    global _pruner
    rt = bootstrap.runtime()
    records = [SQSRecord(raw) for raw in event.get("Records", [])]
    with _no_collection():
        report = ingest_queue_batch(
            rt.check_store, [(r.message_id, r.body) for r in records], rt.ingest_hooks
        )
    counts: Counter[str] = Counter(r.outcome.value for _, r in report.results)
    counts.update(poison=len(report.poison), heartbeat=report.heartbeats)
    for message_id in report.poison:
        logger.error("poison message", message_id=message_id, reason=report.failed[message_id])
    for _, result in report.results:
        if result.outcome is Outcome.ORPHAN:
            logger.info("ping for an unknown check", target=result.target)
        elif result.created_check:
            logger.info("check created by ?create=1", check_id=result.check_id)
        if result.flipped_to:
            logger.info("check flipped", check_id=result.check_id, status=result.flipped_to)

    def record_handler(record: SQSRecord) -> None:
        if record.message_id in report.failed:
            raise RecordFailed(report.failed[record.message_id])

    # Not raising on an all-failed batch: the reply lists every record, which SQS and
    # the local runner both handle; an exception would hide which ones failed.
    processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    reply = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    logger.info("ingest batch", extra={"failed": len(report.failed), **counts})
    behind = rt.series_shipper.pop_report()
    if behind is not None and (behind.waiting or behind.error):
        # series_lag_s: the age of the oldest ping not yet in the series store; the
        # template's metric filter on this field makes it the SeriesLagSeconds metric.
        logger.warning(
            "series store behind",
            extra={
                "series_waiting": behind.waiting,
                "series_lag_s": round(behind.lag_seconds or 0.0, 3),
                "series_shipped": behind.shipped,
                "series_dropped": behind.dropped,
                "error": behind.error,
            },
        )
    if _pruner is None:
        _pruner = ReceiptPruner(rt.settings.ping_receipt_days)
    try:
        _pruner.maybe_prune(rt.check_store, datetime.now(UTC))
    except Exception:
        # Housekeeping only: the next batch (or container) prunes instead.
        logger.warning("pruning old ping receipts failed", exc_info=True)
    return dict(reply)
