"""Pattern detection (migration 0008): the anomalies found for a check.

The baseline itself is a column of ``checks`` (tables/checks.py), the per-assignment
switch one of ``check_channels``, and an anomaly's alerts are ``alert_events`` rows.
"""

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from ..types import UTCDateTime
from .base import metadata

# One row per verdict. Unique per (check, kind, run): a redelivered ping or a second
# analyzer never records the same anomaly twice. ``processed_at`` NULL: the analyzer
# has not yet sent its alerts (as for flips).
anomalies = Table(
    "anomalies",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("check_id", Integer, ForeignKey("checks.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("created", UTCDateTime, nullable=False),  # when it was detected
    Column("run_started", UTCDateTime, nullable=False),  # the run it concerns
    Column("ping_n", Integer, nullable=True),  # the ping it was detected at (None: clock)
    Column("explanation", String(1000), nullable=False),
    Column("facts", Text, nullable=False),  # JSON, what "expected" teaches the baseline
    Column("expected_at", UTCDateTime, nullable=True),  # the user said it was expected
    Column("processed_at", UTCDateTime, nullable=True),
    Index(None, "check_id", "kind", "run_started", unique=True),
    Index(None, "check_id", "processed_at"),
)
