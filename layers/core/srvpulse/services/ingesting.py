"""Ingest: store one queued ping and move its check (idempotent on the ping id).

For each message, in ONE transaction: remember the ping id (a redelivery stops here),
find and lock the check (by uuid, or by ping key and slug), insert the ping
(n = n_pings + 1), let the domain move the check, save the check only if its
``version`` is unchanged (the analyzer writes the same rows), record a flip, and prune
the check's pings beyond the last ``PINGS_KEPT_PER_CHECK``. On a lost race the whole
transaction is rolled back and re-applied to a fresh read of the check.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ..domain.check_detection import on_ping
from ..domain.model import PINGS_KEPT_PER_CHECK, Check, PingKind, PingMessage
from ..domain.status import PingOutcome, apply_ping, effective_kind
from ..errors import Conflict
from ..ports import CheckStore, CheckTx, StoredPing

# Re-reads after a lost race before the record is failed (and retried by the queue).
MAX_ATTEMPTS = 5
RECEIPT_PRUNE_BATCH = 1000


class Outcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # already stored: a redelivery, nothing done
    ORPHAN = "orphan"  # no such check: counted in orphan_pings


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: Outcome
    check_id: int | None = None
    n: int | None = None
    created_check: bool = False  # auto-provisioned by ?create=1
    flipped_to: str | None = None
    target: str = ""  # what the ping addressed, safe to log (no ping key)


class _LostRace(Exception):
    """The check changed under us; roll back and re-apply."""


def _safe_target(msg: PingMessage) -> str:
    if msg.check_uuid:
        return f"uuid:{msg.check_uuid}"
    return f"slug:{(msg.ping_key or '')[:4]}…/{msg.slug}"


def _orphan_target(msg: PingMessage) -> str:
    if msg.check_uuid:
        return f"uuid:{msg.check_uuid}"
    return f"slug:{msg.ping_key}/{msg.slug}"


def _find_check(tx: CheckTx, msg: PingMessage) -> tuple[Check | None, int | None]:
    """The check the ping addresses, locked until the transaction ends, and for a slug
    ping the project its ping key names (None when the key names none)."""
    if msg.check_uuid:
        return tx.get_check_by_uuid(msg.check_uuid, for_update=True), None
    if not msg.ping_key or not msg.slug:
        raise ValueError("ping message names neither a check uuid nor a ping key and slug")
    project_id = tx.project_id_by_ping_key(msg.ping_key)
    if project_id is None:
        return None, None
    return tx.get_check_by_slug(project_id, msg.slug, for_update=True), project_id


def _provision(tx: CheckTx, project_id: int, msg: PingMessage) -> Check:
    """Create the check a ``?create=1`` slug ping names, in the ping's own transaction,
    so nobody ever sees it without its first ping. Raises Conflict when another ingest
    created it first (the unique (project, slug) decides); the caller retries."""
    new = Check(
        id=0,
        uuid=str(uuid.uuid4()),
        project_id=project_id,
        name=msg.slug or "",
        slug=msg.slug or "",
        created=msg.received_at,
    )
    created = tx.insert_check(new)
    # Like Healthchecks: an auto-provisioned check alerts on every channel.
    tx.set_check_channels(created, None)
    return created


def _start_of_run(tx: CheckTx, check: Check, msg: PingMessage) -> datetime | None:
    """When the run this ping completes began: the start ping with the same rid, else
    the check's last start (unless that start belongs to another run id)."""
    if msg.rid:
        found = tx.find_start(check.id, msg.rid)
        if found is not None:
            return found
        if check.last_start_rid not in (None, msg.rid):
            return None
    return check.last_start


def _is_late(tx: CheckTx, check: Check, msg: PingMessage) -> bool:
    """Whether ``msg`` was overtaken by a newer ping already applied to ``check``.

    Neither SQS nor concurrent ingests keep order: a fast job's start can be ingested
    after its own success, or an old failure after a newer success. Applying such a
    ping would reopen a finished run (a false "too long" alert later) or take a healthy
    check down. A completion is late when it is older than the check's last completion;
    a start is late when the completion of its run is already stored (by run id), or,
    without a run id, when it is older than the last completion.
    """
    kind = effective_kind(msg)
    if kind is PingKind.LOG:
        return False
    if kind is PingKind.START and msg.rid:
        done = tx.find_completion(check.id, msg.rid)
        return done is not None and done >= msg.received_at
    return check.last_ping is not None and msg.received_at < check.last_ping


def _apply(tx: CheckTx, check: Check, msg: PingMessage) -> IngestResult:
    late = _is_late(tx, check, msg)
    if late:
        # Kept in the history under its own kind and time; the check does not move.
        outcome = PingOutcome(check.with_changes(n_pings=check.n_pings + 1), None, None, True)
    else:
        start = None if effective_kind(msg) is PingKind.START else _start_of_run(tx, check, msg)
        outcome = apply_ping(check, msg, start)
    n = check.n_pings + 1
    # Pattern detection learns from the ping and may give verdicts (it never flips).
    detected = on_ping(
        outcome.check,
        effective_kind(msg),
        msg.received_at,
        outcome.duration_ms,
        outcome.counted and not late,
    )
    saved = tx.save_check(detected.check.with_changes(n_pings=n), check.version)
    if saved is None:
        raise _LostRace
    kind = effective_kind(msg).value
    if not outcome.counted and kind != PingKind.LOG.value:
        kind = "ign"  # received, but it did not move the check (shown as such)
    tx.add_ping(
        StoredPing(
            check_id=check.id,
            n=n,
            created=msg.received_at,
            kind=kind,
            ping_id=msg.ping_id,
            exit_status=msg.exit_status,
            rid=msg.rid,
            method=msg.method,
            scheme=msg.scheme,
            remote_addr=msg.remote_addr,
            ua=msg.user_agent,
            body=msg.body or None,
            body_truncated=msg.body_truncated,
            summary=msg.summary,
            duration_ms=outcome.duration_ms,
        )
    )
    tx.add_anomalies(check.id, detected.verdicts, n)
    flipped_to = None
    if outcome.flip is not None:
        tx.add_flip(outcome.flip)
        flipped_to = outcome.flip.new_status.value
    tx.prune_pings(check.id, PINGS_KEPT_PER_CHECK, n)
    return IngestResult(Outcome.STORED, check.id, n, flipped_to=flipped_to)


def ingest_ping(store: CheckStore, msg: PingMessage) -> IngestResult:
    """Store one ping and move its check; idempotent on ``msg.ping_id``.

    Returns what happened (stored, duplicate, orphan). Raises ValueError for a message
    that names no check, and RuntimeError when the check kept changing under us (the
    queue retries the record later).
    """
    target = _safe_target(msg)
    check_id: int | None = None
    for _attempt in range(MAX_ATTEMPTS):
        created = False
        try:
            with store.transaction() as tx:
                if not tx.add_receipt(msg.ping_id, msg.received_at):
                    return IngestResult(Outcome.DUPLICATE, target=target)
                # Locked: concurrent pings of one check queue here instead of losing
                # the version race; the conditional save still guards other writers.
                check, project_id = _find_check(tx, msg)
                if check is None and msg.create and project_id is not None:
                    check, created = _provision(tx, project_id, msg), True
                if check is None:
                    tx.count_orphan(_orphan_target(msg), msg.received_at)
                    return IngestResult(Outcome.ORPHAN, target=target)
                check_id = check.id
                result = _apply(tx, check, msg)
            return IngestResult(
                result.outcome,
                result.check_id,
                result.n,
                created_check=created,
                flipped_to=result.flipped_to,
                target=target,
            )
        except (_LostRace, Conflict):
            # The check changed (or was created by another ingest) under us: the
            # transaction was rolled back, so read again and re-apply.
            continue
    raise RuntimeError(f"check {check_id} kept changing during ingest; retry later")


def prune_receipts(
    store: CheckStore, now: datetime, keep_days: int, limit: int = RECEIPT_PRUNE_BATCH
) -> int:
    """Forget ping ids older than ``keep_days`` (at most ``limit`` per call, oldest
    first, through the received_at index). Returns how many were removed."""
    with store.transaction() as tx:
        return tx.prune_receipts(now - timedelta(days=keep_days), limit)


class ReceiptPruner:
    """Runs ``prune_receipts`` at most once per ``every`` (one per process/container),
    so the idempotency table stays bounded at no cost per ping."""

    def __init__(self, keep_days: int, every: timedelta = timedelta(minutes=10)) -> None:
        self.keep_days = keep_days
        self.every = every
        self.last_run: datetime | None = None

    def maybe_prune(self, store: CheckStore, now: datetime) -> int:
        if self.last_run is not None and now - self.last_run < self.every:
            return 0
        self.last_run = now
        return prune_receipts(store, now, self.keep_days)
