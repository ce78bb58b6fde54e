"""Pattern detection's use cases: learning at ingest (the ``learn`` hook, inside the
ingest transaction), a check's anomalies for the API, and "this was expected", which
teaches the check's baseline (domain.detection.teach_expected)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from ..domain.check_detection import on_ping
from ..domain.detection import Anomaly, Baseline, teach_expected
from ..domain.model import Check, PingKind
from ..errors import Conflict, NotFound
from ..ports import CheckStore, CheckTx
from .checks import MAX_ATTEMPTS
from .checks import _find as find_check

if TYPE_CHECKING:
    from .ingesting import CheckBatch


def learn(tx: CheckTx, batches: Sequence[CheckBatch]) -> list[CheckBatch]:
    """The ingest hook (``decide``): each check's baseline learns from the batch's pings
    in the order they were applied and the verdicts are recorded; the checks come back
    with their new baselines (and wake-ups), which ingest saves with the rest of the
    check, in the same transaction as the pings. Late or ignored pings teach nothing;
    verdicts never change a check's status."""
    decided: list[CheckBatch] = []
    for b in batches:
        check, learned = b.after, None  # the JSON is parsed and written once per batch
        for p in b.pings:
            counted = p.outcome.counted and not p.outcome.late
            kind = PingKind(p.outcome.recorded_kind) if counted else PingKind.LOG
            at, took = p.message.received_at, p.outcome.duration_ms
            # ``learned`` is this loop's own copy (on_ping parsed or copied it): it is
            # updated in place from the second ping on.
            step = on_ping(
                check, kind, at, took, counted, learned, write=False, owned=learned is not None
            )
            check, learned = step.check, step.baseline
            tx.add_anomalies(check.id, step.verdicts, p.stored.n)
        if learned is not None:
            check = check.with_changes(baseline=learned.to_json())
        decided.append(b if check is b.after else replace(b, after=check))
    return decided


def list_anomalies(
    store: CheckStore, project_id: int, key: str, limit: int, offset: int
) -> tuple[Check, list[Anomaly], int]:
    """A page of the check's anomalies, newest first, and how many there are."""
    with store.transaction() as tx:
        check = find_check(tx, project_id, key)
        return check, tx.list_anomalies(check.id, limit, offset), tx.count_anomalies(check.id)


def mark_expected(
    store: CheckStore, project_id: int, key: str, anomaly_uuid: str, now: datetime
) -> Anomaly:
    """Mark an anomaly expected: runs like it are normal for this check from now on.
    Marking it again changes nothing."""
    for _attempt in range(MAX_ATTEMPTS):
        with store.transaction() as tx:
            check = find_check(tx, project_id, key)
            found = tx.get_anomaly(check.id, anomaly_uuid)
            if found is None:
                raise NotFound("anomaly not found")
            if found.expected_at is not None:
                return found
            taught = teach_expected(Baseline.from_json(check.baseline), found.kind, found.facts)
            if tx.save_check(check.with_changes(baseline=taught.to_json()), check.version) is None:
                continue  # the check moved (a ping): teach its fresh baseline
            tx.mark_anomaly_expected(found.id, now)
            return replace(found, expected_at=now)
    raise Conflict("the check is changing too often right now, try again")
