"""SqlThrottleStore: token buckets for sign-in, registration and mail throttles, in SQL
because Lambda containers share nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...domain.accounts import BucketDecision, BucketPolicy, BucketState, take_token
from .tables import throttle_buckets


class SqlThrottleStore:
    """The ThrottleStore port over SQLAlchemy Core (SQLite and MySQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def take_token(self, key: str, policy: BucketPolicy, now: datetime) -> BucketDecision:
        """Take one token from the bucket ``key`` (created full on first use).

        The row is read with FOR UPDATE (MySQL; SQLite serializes writers anyway), so
        concurrent attempts each see the other's take. A lost race creating the row is
        retried once.
        """
        for attempt in range(2):
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(
                        select(throttle_buckets.c.tokens, throttle_buckets.c.updated)
                        .where(throttle_buckets.c.key == key)
                        .with_for_update()
                    ).first()
                    state = None if row is None else BucketState(row.tokens, row.updated)
                    decision = take_token(policy, state, now)
                    values = {"tokens": decision.state.tokens, "updated": decision.state.updated}
                    if row is None:
                        conn.execute(insert(throttle_buckets).values(key=key, **values))
                    else:
                        conn.execute(
                            update(throttle_buckets)
                            .where(throttle_buckets.c.key == key)
                            .values(**values)
                        )
                    return decision
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def prune_buckets(self, older_than: datetime) -> None:
        """Forget buckets untouched since ``older_than`` (they would be full again)."""
        with self.engine.begin() as conn:
            conn.execute(delete(throttle_buckets).where(throttle_buckets.c.updated < older_than))
