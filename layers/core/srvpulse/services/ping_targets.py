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


# How often the local mode's edge re-reads the targets (ingest runs in another process).
LOCAL_REFRESH_SECONDS = 2.0


def keep_fresh(
    store: CheckStore, targets: PingTargets, every: float = LOCAL_REFRESH_SECONDS
) -> threading.Event:
    """Republish every ``every`` seconds in a daemon thread, off the ping path (the local
    mode, whose ingest runs in another process); set the returned event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            publish(store, targets)

    threading.Thread(target=loop, name="ping-targets", daemon=True).start()
    return stop
