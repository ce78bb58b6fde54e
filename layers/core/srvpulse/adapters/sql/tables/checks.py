"""Projects, API keys, checks, pings and flips (migration 0001)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ..types import LongText, UTCDateTime
from .base import metadata

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("ping_key", String(64), nullable=False, unique=True),
    Column("created", UTCDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False, default=""),
    Column("read_only", Boolean, nullable=False, default=False),
    Column("key_hash", String(64), nullable=False, unique=True),  # sha256 hex of the key
    Column("prefix", String(8), nullable=False),  # first characters, to tell keys apart
    Column("created", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

checks = Table(
    "checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("slug", String(200), nullable=True),  # NULL when the check has no slug
    Column("tags", String(500), nullable=False, default=""),
    Column("desc", Text, nullable=False, default=""),
    Column("kind", String(10), nullable=False, default="simple"),
    Column("timeout", Integer, nullable=False, default=86400),
    Column("grace", Integer, nullable=False, default=3600),
    Column("schedule", String(100), nullable=False, default="* * * * *"),
    Column("tz", String(64), nullable=False, default="UTC"),
    Column("manual_resume", Boolean, nullable=False, default=False),
    Column("methods", String(10), nullable=False, default=""),
    # Read by the previous release only: the check rules' settings live in
    # rule_settings (0011), and the check store writes these two from there.
    Column("min_duration", Integer, nullable=True),
    Column("max_duration", Integer, nullable=True),
    Column("recovery_threshold", Integer, nullable=False, default=1),
    Column("filter_subject", Boolean, nullable=False, default=False),
    Column("filter_body", Boolean, nullable=False, default=False),
    Column("filter_http_body", Boolean, nullable=False, default=False),
    Column("filter_default_fail", Boolean, nullable=False, default=False),
    Column("start_kw", String(200), nullable=False, default=""),
    Column("success_kw", String(200), nullable=False, default=""),
    Column("failure_kw", String(200), nullable=False, default=""),
    # domain.badges.check_badge_key(uuid): the check's badge URL without its uuid.
    Column("badge_key", String(36), nullable=True, unique=True),
    Column("status", String(10), nullable=False, default="new"),
    Column("n_pings", Integer, nullable=False, default=0),
    Column("last_ping", UTCDateTime, nullable=True),
    Column("last_start", UTCDateTime, nullable=True),
    Column("last_start_rid", String(36), nullable=True),
    Column("last_duration_ms", BigInteger, nullable=True),
    Column("last_ping_kind", String(10), nullable=True),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("consecutive_successes", Integer, nullable=False, default=0),
    Column("alert_after", UTCDateTime, nullable=True),
    Column("next_reminder_at", UTCDateTime, nullable=True),
    Column("version", Integer, nullable=False, default=0),
    Column("created", UTCDateTime, nullable=False),
    # Added by the analyzer migration (0002): open runs per rid (JSON) and the last
    # missed run counted while down (see domain.status).
    Column("open_runs", String(4000), nullable=False, default="", server_default=""),
    Column("missed_deadline", UTCDateTime, nullable=True),
    # Pattern detection (0008): on/off, sensitivity and the learned baseline (JSON,
    # domain.detection.Baseline, bounded: about 2 KB), updated at ingest.
    Column("detection", Boolean, nullable=False, default=True, server_default="1"),
    Column("sensitivity", String(8), nullable=False, default="normal", server_default="normal"),
    Column("baseline", Text, nullable=True),
    # The check rules' settings that differ from their defaults, JSON (0011; "" = none):
    # domain/check_rules/, so a new rule needs no column.
    Column("rule_settings", String(1000), nullable=False, default="", server_default=""),
    UniqueConstraint("project_id", "slug"),
    Index(None, "alert_after"),
    Index(None, "next_reminder_at"),
)

# A check's pings in ping order (migration 0012): the primary key is (check_id, n), and
# the table is clustered by it (SQLite WITHOUT ROWID; InnoDB always clusters by its
# primary key), so a check's kept pings are contiguous and a new ping and the pruning
# of old ones touch the same few pages. No secondary index: ``ping_id`` is unique
# through ``ping_receipts`` (taken first, in the ping's own transaction), and ingest
# reads a batch's run ids from each check's kept pings (``CheckTx.run_logs``).
pings = Table(
    "pings",
    metadata,
    Column("ping_id", String(36), nullable=False),  # given at the edge
    Column(
        "check_id",
        Integer,
        ForeignKey("checks.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("n", Integer, primary_key=True, autoincrement=False),  # 1, 2, 3... per check
    Column("created", UTCDateTime, nullable=False),  # when the edge received it
    Column("kind", String(10), nullable=False),
    Column("exit_status", Integer, nullable=True),
    Column("rid", String(36), nullable=True),
    Column("method", String(10), nullable=False, default=""),
    Column("scheme", String(10), nullable=False, default="http"),
    Column("remote_addr", String(64), nullable=False, default=""),
    Column("ua", String(200), nullable=False, default=""),
    Column("body", LongText, nullable=True),  # the run's report
    Column("body_truncated", Boolean, nullable=False, default=False),
    Column("summary", String(1000), nullable=True),
    Column("duration_ms", BigInteger, nullable=True),
    sqlite_with_rowid=False,
)

# Idempotency memory of ingest: one row per ping id ever stored, kept longer than any
# queue retention, so a redelivered message never makes a second ping (even after the
# ping itself was pruned).
ping_receipts = Table(
    "ping_receipts",
    metadata,
    Column("ping_id", String(36), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False, index=True),
)

# Pings for checks that do not exist: counted, not errors.
orphan_pings = Table(
    "orphan_pings",
    metadata,
    Column("target", String(300), primary_key=True),  # "uuid:<uuid>" or "slug:<key>/<slug>"
    Column("count", Integer, nullable=False, default=0),
    Column("last_seen", UTCDateTime, nullable=False),
)

flips = Table(
    "flips",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("check_id", Integer, ForeignKey("checks.id", ondelete="CASCADE"), nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("old_status", String(10), nullable=False),
    Column("new_status", String(10), nullable=False),
    Column("reason", String(20), nullable=False, default=""),
    # Analyzer (0002): when the alert rules processed this flip; NULL = not yet.
    Column("processed_at", UTCDateTime, nullable=True),
    Index(None, "check_id", "created"),
    Index(None, "check_id", "processed_at"),
)


# How far ingestion has got (migration 0010): on AWS the "heartbeat" row is the send time
# of the newest analyzer heartbeat ingest took off the ping queue (services.lag).
ingest_watermark = Table(
    "ingest_watermark",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
)
