"""Keep the ping edge's set of known targets (domain/targets.py) in step with the store.

Called after every committed change that adds, removes or renames a ping target: a
check created, deleted or given another slug (API), a check created by ``?create=1``
(ingest), a project created or given a new ping key (accounts). Each call republishes
the whole set, read from the store, so a missed call is repaired by the next one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..domain.targets import project_target, slug_target, uuid_target
from ..ports import CheckStore, PingTargets

if TYPE_CHECKING:
    from .ingesting import CheckBatch

logger = logging.getLogger(__name__)


def all_targets(store: CheckStore) -> list[str]:
    """Every target a ping URL can address right now."""
    with store.transaction() as tx:
        rows = tx.ping_targets()
    found: list[str] = []
    for ping_key, check_uuid, slug in rows:
        if check_uuid is None:
            found.append(project_target(ping_key))
            continue
        found.append(uuid_target(check_uuid))
        if slug:
            found.append(slug_target(ping_key, slug))
    return found


def publish(store: CheckStore, targets: PingTargets) -> None:
    """Republish the edge's target set. Never raises: the change it follows is already
    committed, and an edge that cannot tell accepts pings (ingest counts orphans)."""
    try:
        targets.publish(lambda: all_targets(store))
    except Exception:
        logger.exception("could not publish the ping targets; the edge accepts unknown pings")


def after_ingest(store: CheckStore, targets: PingTargets) -> Callable[[Sequence[CheckBatch]], None]:
    """An ingest ``after_commit`` hook: republish when the batch created checks."""

    def hook(batches: Sequence[CheckBatch]) -> None:
        if any(b.created for b in batches):
            publish(store, targets)

    return hook


# How often the local mode's edge looks for targets made elsewhere (ingest runs in
# another process).
LOCAL_REFRESH_SECONDS = 2.0


def targets_stamp(store: CheckStore) -> tuple[int, ...]:
    """The store's fingerprint of the target rows (``ping_targets_stamp``: counts and
    newest ids of checks and projects), a few index lookups whatever their number."""
    with store.transaction() as tx:
        return tx.ping_targets_stamp()


def republish_if_changed(
    store: CheckStore, targets: PingTargets, seen: tuple[int, ...] | None
) -> tuple[int, ...] | None:
    """Republish when the stamp differs from ``seen`` (None: always); returns the stamp
    to compare with next time (None after a failure, so the next call republishes).

    The stamp is read before the targets, so a change committed in between is either
    in the set or makes the next stamp differ. Why not rebuild every time: a rebuild
    reads every check and hashes every target while holding the GIL the edge's event
    loop needs (10 000 checks: about 75 ms of the HTTP process's CPU every 2 s, and
    the pings of that window waited for it)."""
    try:
        stamp = targets_stamp(store)
        if stamp != seen:
            targets.publish(lambda: all_targets(store))
    except Exception:
        logger.exception("could not refresh the ping targets; the edge keeps its last set")
        return None
    return stamp


def keep_fresh(
    store: CheckStore, targets: PingTargets, every: float = LOCAL_REFRESH_SECONDS
) -> threading.Event:
    """Every ``every`` seconds, in a daemon thread, republish if checks or projects
    were created or deleted since (``republish_if_changed``): the local mode, whose
    ingest runs in another process and creates checks for ``?create=1``. The API's
    changes are published by the API itself, before it answers. Set the returned event
    to stop."""
    stop = threading.Event()

    def loop() -> None:
        seen: tuple[int, ...] | None = None  # the first pass republishes
        while not stop.wait(every):
            seen = republish_if_changed(store, targets, seen)

    threading.Thread(target=loop, name="ping-targets", daemon=True).start()
    return stop
