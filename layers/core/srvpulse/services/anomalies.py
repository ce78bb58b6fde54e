"""Pattern detection's use cases for the API: a check's anomalies, and "this was
expected", which teaches the check's baseline (domain.detection.teach_expected)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ..domain.detection import Anomaly, Baseline, teach_expected
from ..domain.model import Check
from ..errors import Conflict, NotFound
from ..ports import CheckStore
from .checks import MAX_ATTEMPTS
from .checks import _find as find_check


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
