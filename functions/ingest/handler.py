"""Ingest function: an SQS batch of pings -> services.ingesting, with partial failures.

Each record is processed on its own: a malformed message (or a check that kept changing)
fails only that record, reported in ``batchItemFailures`` so SQS retries just it and,
after maxReceiveCount, moves it to the DLQ. Never logs bodies or ping keys.
"""

from __future__ import annotations

from collections import Counter
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
from srvpulse.domain.model import PingMessage
from srvpulse.services.ingesting import Outcome, ReceiptPruner, ingest_ping
from srvpulse.services.series import RetentionKeeper, ship

logger = Logger(service="srvpulse-ingest")
_pruner: ReceiptPruner | None = None
_retention = RetentionKeeper()


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    global _pruner
    rt = bootstrap.runtime()
    counts: Counter[str] = Counter()
    stored: list[str] = []  # ping ids whose series points wait in the outbox

    def record_handler(record: SQSRecord) -> None:
        message = PingMessage.from_json(record.body)  # raises: this record fails
        result = ingest_ping(rt.check_store, message)
        counts[result.outcome.value] += 1
        if result.outcome is Outcome.STORED:
            stored.append(message.ping_id)
        if result.outcome is Outcome.ORPHAN:
            logger.info("ping for an unknown check", target=result.target)
        elif result.created_check:
            logger.info("check created by ?create=1", check_id=result.check_id)
        if result.flipped_to:
            logger.info("check flipped", check_id=result.check_id, status=result.flipped_to)

    # Not raising on an all-failed batch: the reply lists every record, which SQS and
    # the local runner both handle; an exception would hide which ones failed.
    processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    reply = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failed = len(reply["batchItemFailures"])
    logger.info("ingest batch", extra={"failed": failed, **counts})
    if _pruner is None:
        _pruner = ReceiptPruner(rt.settings.ping_receipt_days)
    now = datetime.now(UTC)
    _pruner.maybe_prune(rt.check_store, now)
    _ship_series(rt, stored, now)
    return dict(reply)


def _ship_series(rt: bootstrap.Runtime, stored: list[str], now: datetime) -> None:
    """After the batch's commits: its points to the series store (plus any backlog).
    Never fails the batch: the pings are stored, their points wait in the outbox."""
    try:
        report = ship(rt.series_outbox, rt.series_store, now, stored)
        _retention.maybe_apply(rt.series_store, now)
    except Exception:
        logger.exception("series store: shipping failed; points stay in the outbox")
        return
    if report.waiting or report.error:
        # series_lag_s: the age of the oldest point not yet in the series store (a
        # CloudWatch metric filter on this field makes it the SeriesLagSeconds metric).
        logger.warning(
            "series store behind",
            extra={
                "series_waiting": report.waiting,
                "series_lag_s": round(report.lag_seconds or 0.0, 3),
                "series_shipped": report.shipped,
                "series_dropped": report.dropped,
                "error": report.error,
            },
        )
