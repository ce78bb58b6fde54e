"""Ingest: store a batch of queued pings and move their checks, in ONE transaction.

For a batch (``ingest_batch``):

1. remember every ping id (``ping_receipts``): a redelivered id is a duplicate and
   stops there; taking the write first also keeps SQLite from failing a lock upgrade;
2. find and lock every check the batch addresses, one read for the uuids and one for
   the (ping key, slug) pairs; ``?create=1`` slug pings create theirs; pings for no
   check are counted as orphans;
3. per check, oldest message first, let the domain decide what each ping does
   (``domain.status.apply_ping``: one call, given the check and what its kept pings
   say about run ids); the service does not decide anything itself;
4. let the other areas' ``decide`` hooks have their say on each check (pattern
   detection's baseline), then write it all: the checks (conditional on their
   ``version``), the pings, the flips,
   the pruning of each check's pings before its last ``PINGS_KEPT_PER_CHECK``
   (``domain.model.pruned_pings_upto``: 20 at a time), then the
   ``in_transaction`` hooks, and commit once; then the ``after_commit`` hooks.

A lost race (another writer changed a check without its lock) or a concurrent delivery
of the same ping rolls the whole batch back and re-runs it on a fresh read.
``ingest_messages`` wraps this for the handlers: a transient error (database
unreachable, deadlock, lock timeout) fails the whole batch as retryable; any other error
is narrowed down by splitting the batch, so one message that can never be stored does
not hold back the others.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from ..domain.model import (
    HEARTBEAT_WATERMARK,
    Check,
    Flip,
    Heartbeat,
    PingMessage,
    pruned_pings_upto,
)
from ..domain.status import PingOutcome, RunLog, apply_ping
from ..errors import Conflict
from ..ports import CheckStore, CheckTx, StoredPing

log = logging.getLogger(__name__)

# Re-runs of a batch after a lost race before it fails (and the queue retries it).
MAX_ATTEMPTS = 5
RECEIPT_PRUNE_BATCH = 1000


class Outcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # already stored: a redelivery, nothing done
    ORPHAN = "orphan"  # no such check: counted in orphan_pings
    RETRY = "retry"  # not stored: a transient error; the queue must deliver it again
    UNSTORABLE = "unstorable"  # not stored: this message fails on its own, every time


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: Outcome
    check_id: int | None = None
    n: int | None = None
    created_check: bool = False  # auto-provisioned by ?create=1
    flipped_to: str | None = None
    target: str = ""  # what the ping addressed, safe to log (no ping key)
    error: str = ""  # RETRY / UNSTORABLE: what went wrong (no message content)


@dataclass(frozen=True, slots=True)
class AppliedPing:
    """One ping as ingest applied it: the message, the domain's decision, the row."""

    message: PingMessage
    outcome: PingOutcome
    stored: StoredPing


@dataclass(frozen=True, slots=True)
class CheckBatch:
    """One check's share of a batch, as decided inside the transaction."""

    before: Check  # as read, locked
    after: Check  # as saved (version + 1)
    pings: Sequence[AppliedPing]  # in the order they were applied
    created: bool = False  # made by a ?create=1 ping of this batch


DecideHook = Callable[[CheckTx, Sequence[CheckBatch]], Sequence[CheckBatch]]
InTransactionHook = Callable[[CheckTx, Sequence[CheckBatch]], None]
AfterCommitHook = Callable[[Sequence[CheckBatch]], None]


@dataclass(frozen=True, slots=True)
class IngestHooks:
    """What other areas do with a batch (wired in bootstrap.Runtime.ingest_hooks).

    ``decide`` hooks run after the status machine's decisions and before anything is
    written: each returns the batches with the checks as they are to be saved (``after``
    changed, nothing else: pattern detection's baseline and wake-up), so a check row is
    written once per batch; it may write rows of its own on the transaction.
    ``in_transaction`` hooks run after every domain decision and write of the batch,
    before the commit, on the same transaction: what they write commits (or rolls back)
    with the pings; an exception fails the batch. ``after_commit`` hooks see the stored
    pings once they are durable; an exception there is logged and does not fail the
    batch (the pings are stored; a redelivery would be a duplicate).
    """

    decide: Sequence[DecideHook] = ()
    in_transaction: Sequence[InTransactionHook] = ()
    after_commit: Sequence[AfterCommitHook] = ()


NO_HOOKS = IngestHooks()


@dataclass(frozen=True, slots=True)
class BatchResult:
    results: Sequence[IngestResult]  # one per message, in the order given
    checks: Sequence[CheckBatch] = field(default_factory=list)


class _LostRace(Exception):
    """A check changed under us; roll back and re-run."""


class PoisonMessage(ValueError):
    """A queued message that can never become a ping (not a ping message at all)."""


def decode(body: str) -> PingMessage | Heartbeat:
    """The ping (or analyzer heartbeat) in a queue message's body; raises PoisonMessage
    when it is neither (the only failure a retry cannot fix: the queue may dead-letter
    it at once)."""
    try:
        beat = Heartbeat.from_json(body)
        if beat is not None:
            return beat
        msg = PingMessage.from_json(body)
        _validate(msg)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise PoisonMessage(f"not a ping message: {type(exc).__name__}") from exc
    return msg


def record_heartbeat(store: CheckStore, beat: Heartbeat) -> None:
    """Ingestion has got past ``beat`` (the pings taken off the queue with it are
    stored): move the heartbeat watermark forward to its send time (never back)."""
    with store.transaction() as tx:
        tx.advance_watermark(HEARTBEAT_WATERMARK, beat.sent_at)


class KeptChanging(Exception):
    """The batch lost ``MAX_ATTEMPTS`` races in a row: retry it later."""


def _safe_target(msg: PingMessage) -> str:
    if msg.check_uuid:
        return f"uuid:{msg.check_uuid}"
    return f"slug:{(msg.ping_key or '')[:4]}…/{msg.slug}"


def _orphan_target(msg: PingMessage) -> str:
    if msg.check_uuid:
        return f"uuid:{msg.check_uuid}"
    return f"slug:{msg.ping_key}/{msg.slug}"


def _validate(msg: PingMessage) -> None:
    if not msg.check_uuid and not (msg.ping_key and msg.slug):
        raise ValueError("ping message names neither a check uuid nor a ping key and slug")


def _provision(tx: CheckTx, project_id: int, msg: PingMessage) -> Check:
    """Create the check a ``?create=1`` slug ping names, in the ping's own transaction,
    so nobody ever sees it without its first ping. Raises Conflict when another ingest
    created it first (the unique (project, slug) decides); the batch is re-run."""
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


def _stored_ping(check_id: int, msg: PingMessage, outcome: PingOutcome) -> StoredPing:
    return StoredPing(
        check_id=check_id,
        n=outcome.check.n_pings,
        created=msg.received_at,
        kind=outcome.recorded_kind,
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


def _run_batch(
    tx: CheckTx, messages: Sequence[PingMessage], hooks: IngestHooks
) -> tuple[list[IngestResult], list[CheckBatch]]:
    targets = [_safe_target(m) for m in messages]
    results: list[IngestResult | None] = [None] * len(messages)

    # 1. Receipts: the first message of each new ping id goes on; the rest are duplicates.
    first: dict[str, int] = {}
    for i, m in enumerate(messages):
        first.setdefault(m.ping_id, i)
    new_ids = tx.add_receipts({m.ping_id: m.received_at for m in messages})
    todo: list[int] = []
    for i, m in enumerate(messages):
        if m.ping_id in new_ids and first[m.ping_id] == i:
            todo.append(i)
        else:
            results[i] = IngestResult(Outcome.DUPLICATE, target=targets[i])

    # 2. The checks, locked (pings of one hot check queue on its row lock instead of
    # racing; the conditional save still guards writers that do not lock).
    keys = tx.project_ids_by_ping_key(
        [m.ping_key for i in todo if not (m := messages[i]).check_uuid and m.ping_key]
    )

    def slug_key(m: PingMessage) -> tuple[int, str] | None:
        project_id = keys.get(m.ping_key or "")
        return None if project_id is None else (project_id, m.slug or "")

    slug_keys = [k for i in todo if not messages[i].check_uuid and (k := slug_key(messages[i]))]
    by_uuid, by_slug = tx.lock_checks([u for i in todo if (u := messages[i].check_uuid)], slug_keys)
    per_check: dict[int, list[int]] = {}
    found: dict[int, Check] = {}
    created: set[int] = set()  # check ids made by this batch
    creators: set[int] = set()  # the messages that made them
    orphans: dict[str, tuple[int, datetime]] = {}
    for i in todo:
        m = messages[i]
        check: Check | None
        if m.check_uuid:
            check = by_uuid.get(m.check_uuid)
        else:
            key = slug_key(m)
            check = None if key is None else by_slug.get(key)
            if check is None and key is not None and m.create:
                check = by_slug[key] = _provision(tx, key[0], m)
                created.add(check.id)
                creators.add(i)
        if check is None:
            target = _orphan_target(m)
            count, last = orphans.get(target, (0, m.received_at))
            orphans[target] = (count + 1, max(last, m.received_at))
            results[i] = IngestResult(Outcome.ORPHAN, target=targets[i])
            continue
        found[check.id] = check
        per_check.setdefault(check.id, []).append(i)
    if orphans:
        tx.count_orphans(orphans)

    # 3. The domain decides, ping by ping, for each check.
    rids = {
        check_id: {r for i in idx if (r := messages[i].rid)} for check_id, idx in per_check.items()
    }
    run_logs = tx.run_logs(rids) if any(rids.values()) else {}
    batches: list[CheckBatch] = []
    stored: list[StoredPing] = []
    flips: list[Flip] = []
    for check_id in sorted(per_check):
        before = check = found[check_id]
        runs: RunLog | None = run_logs.get(check_id)
        applied: list[AppliedPing] = []
        for i in per_check[check_id]:
            m = messages[i]
            outcome = apply_ping(check, m, runs)
            check, runs = outcome.check, outcome.runs
            row = _stored_ping(check_id, m, outcome)
            applied.append(AppliedPing(m, outcome, row))
            stored.append(row)
            if outcome.flip is not None:
                flips.append(outcome.flip)
            results[i] = IngestResult(
                Outcome.STORED,
                check_id,
                row.n,
                created_check=i in creators,
                flipped_to=None if outcome.flip is None else outcome.flip.new_status.value,
                target=targets[i],
            )
        after = check.with_changes(version=before.version + 1)
        batches.append(CheckBatch(before, after, applied, check_id in created))

    # 4. The other areas' last word on each check (pattern detection), then the writes
    # and the hooks, in the same transaction.
    for decide in hooks.decide:
        decided = list(decide(tx, batches))
        if len(decided) != len(batches) or any(
            d.before is not b.before or d.pings is not b.pings
            for d, b in zip(decided, batches, strict=True)
        ):
            raise ValueError("an ingest decide hook may change only the saved checks")
        batches = decided
    if not tx.save_checks([(b.before, b.after) for b in batches]):
        raise _LostRace
    tx.add_pings(stored)
    tx.add_flips(flips)
    # Amortized: a check's old pings go PINGS_PRUNED_EVERY at a time (domain rule).
    tx.prune_pings(
        {
            b.after.id: upto
            for b in batches
            if (upto := pruned_pings_upto(b.after.n_pings)) > pruned_pings_upto(b.before.n_pings)
        }
    )
    for hook in hooks.in_transaction:
        hook(tx, batches)
    done = [r for r in results if r is not None]
    assert len(done) == len(messages)
    return done, batches


def ingest_batch(
    store: CheckStore, messages: Sequence[PingMessage], hooks: IngestHooks = NO_HOOKS
) -> BatchResult:
    """Store ``messages`` and move their checks in one transaction; idempotent on each
    ``ping_id``. Raises ValueError for a message that names no check (before touching the
    database), KeptChanging when the checks kept changing under us, and whatever the
    store raises (``store.is_transient`` tells whether a retry can help)."""
    for m in messages:
        _validate(m)
    if not messages:
        return BatchResult([])
    for _attempt in range(MAX_ATTEMPTS):
        try:
            with store.transaction() as tx:
                results, batches = _run_batch(tx, messages, hooks)
        except (_LostRace, Conflict):
            # A check changed, or was created, or a ping stored, by another writer under
            # us: the transaction was rolled back, so read again and re-run.
            continue
        for after_commit in hooks.after_commit:
            try:
                after_commit(batches)
            except Exception:
                log.exception("an after-commit ingest hook failed; the pings are stored")
        return BatchResult(results, batches)
    raise KeptChanging("checks kept changing during ingest; retry later")


def ingest_ping(store: CheckStore, msg: PingMessage, hooks: IngestHooks = NO_HOOKS) -> IngestResult:
    """Store one ping and move its check (a batch of one)."""
    return ingest_batch(store, [msg], hooks).results[0]


def ingest_messages(
    store: CheckStore, messages: Sequence[PingMessage], hooks: IngestHooks = NO_HOOKS
) -> BatchResult:
    """``ingest_batch`` for the queue handlers: never raises for the messages.

    A transient error fails the whole batch as ``RETRY`` (the queue delivers it again,
    for as long as the outage lasts). Any other error is narrowed down by splitting the
    batch in halves and storing each on its own, so only a message that fails alone is
    ``UNSTORABLE``; its batch-mates are stored.
    """
    if not messages:
        return BatchResult([])
    invalid: dict[int, IngestResult] = {}
    for i, m in enumerate(messages):
        try:
            _validate(m)
        except ValueError:
            invalid[i] = IngestResult(Outcome.UNSTORABLE, error="names no check")
    if invalid:
        valid = ingest_messages(
            store, [m for i, m in enumerate(messages) if i not in invalid], hooks
        )
        rest = iter(valid.results)
        results = [invalid[i] if i in invalid else next(rest) for i in range(len(messages))]
        return BatchResult(results, valid.checks)
    try:
        return ingest_batch(store, messages, hooks)
    except Exception as exc:
        if store.is_transient(exc) or isinstance(exc, KeptChanging):
            log.warning("ingest batch of %d failed, to be retried: %r", len(messages), exc)
            retry = IngestResult(Outcome.RETRY, error=type(exc).__name__)
            return BatchResult([retry] * len(messages))
        if len(messages) == 1:
            log.error("a ping cannot be stored: %s", type(exc).__name__, exc_info=exc)
            bad = IngestResult(
                Outcome.UNSTORABLE, target=_safe_target(messages[0]), error=type(exc).__name__
            )
            return BatchResult([bad])
    half = len(messages) // 2
    left = ingest_messages(store, messages[:half], hooks)
    right = ingest_messages(store, messages[half:], hooks)
    return BatchResult([*left.results, *right.results], [*left.checks, *right.checks])


@dataclass(frozen=True, slots=True)
class QueueBatchReport:
    """What became of each queue message of a batch (``ingest_queue_batch``)."""

    failed: dict[str, str]  # message id -> why it was not stored (to be redelivered)
    poison: list[str]  # message ids whose body is not a ping message
    results: list[tuple[str, IngestResult]]  # message id -> outcome, for the pings
    heartbeats: int = 0


def ingest_queue_batch(
    store: CheckStore, records: Sequence[tuple[str, str]], hooks: IngestHooks = NO_HOOKS
) -> QueueBatchReport:
    """A batch as the queue delivers it: (message id, body) pairs. Decodes each body (a
    body that is neither a ping nor a heartbeat is poison and fails alone), ingests the
    pings with ``ingest_messages`` and then moves the heartbeat watermark past the
    batch's heartbeats, but only once none of its pings is left to retry."""
    failed: dict[str, str] = {}
    poison: list[str] = []
    pings: list[tuple[str, PingMessage]] = []
    beats: list[tuple[str, Heartbeat]] = []
    for message_id, body in records:
        try:
            message = decode(body)
        except PoisonMessage as exc:
            poison.append(message_id)
            failed[message_id] = str(exc)
            continue
        if isinstance(message, Heartbeat):
            beats.append((message_id, message))
        else:
            pings.append((message_id, message))
    batch = ingest_messages(store, [m for _, m in pings], hooks)
    results = [(message_id, r) for (message_id, _), r in zip(pings, batch.results, strict=True)]
    for message_id, r in results:
        if r.outcome in (Outcome.RETRY, Outcome.UNSTORABLE):
            failed[message_id] = f"{r.outcome.value}: {r.error}"
    if beats:
        try:
            if any(r.outcome is Outcome.RETRY for _, r in results):
                raise KeptChanging("the pings of the heartbeat's batch are to be retried")
            record_heartbeat(store, max((b for _, b in beats), key=lambda b: b.sent_at))
        except Exception as exc:
            if not (store.is_transient(exc) or isinstance(exc, KeptChanging | Conflict)):
                raise
            for message_id, _beat in beats:
                failed[message_id] = f"retry: {type(exc).__name__}"
    return QueueBatchReport(failed, poison, results, len(beats))


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
