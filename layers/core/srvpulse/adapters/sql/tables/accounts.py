"""Users, sessions, memberships, invitations, password resets, TOTP, recovery codes and
throttle buckets (migration 0004); address verification (migration 0006).

Every secret that authenticates someone (session ids, reset tokens, recovery codes) is
stored only as its sha256 hex digest: a leaked table lets nobody sign in.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from ..types import UTCDateTime
from .base import metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("email", String(254), nullable=False, unique=True),  # normalized (lowercase)
    Column("password_hash", String(255), nullable=False),  # argon2id encoded hash
    Column("created", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    # When the owner of the address proved it (a mailed link, or a password reset);
    # NULL until then. Invitations wait for it (see email_verification_tokens).
    Column("email_verified_at", UTCDateTime, nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 hex of the cookie value
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # False between the password and the TOTP step of a two-step sign-in.
    Column("verified", Boolean, nullable=False, default=True),
    Column("created", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("ip", String(64), nullable=False, default=""),
    Column("user_agent", String(200), nullable=False, default=""),
    Index(None, "user_id"),
)

project_members = Table(
    "project_members",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(10), nullable=False),  # owner | member | readonly
    Column("created", UTCDateTime, nullable=False),
    Index(None, "user_id"),
)

# An invitation for an address that has no account yet; it becomes a membership when
# that address registers.
invitations = Table(
    "invitations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("role", String(10), nullable=False),
    Column("invited_by", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created", UTCDateTime, nullable=False),
    UniqueConstraint("project_id", "email"),
    Index(None, "email"),
)

password_reset_tokens = Table(
    "password_reset_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Index(None, "user_id"),
)

# Mailed address-verification links (24 h, single use). ``email`` is the address the link
# was sent to: it verifies that address only, whatever the account's address is later.
email_verification_tokens = Table(
    "email_verification_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Index(None, "user_id"),
)

totp_devices = Table(
    "totp_devices",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("secret", String(64), nullable=False),  # base32; needed in clear to verify codes
    Column("confirmed_at", UTCDateTime, nullable=True),  # NULL while set-up is pending
    # The highest time step accepted so far: a code of this step or earlier is a replay.
    Column("last_used_step", BigInteger, nullable=True),
    Column("created", UTCDateTime, nullable=False),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    UniqueConstraint("user_id", "code_hash"),
)

# Token buckets for rate limiting (sign-in, resets, codes), keyed per account and per IP.
throttle_buckets = Table(
    "throttle_buckets",
    metadata,
    Column("key", String(200), primary_key=True),  # "<policy>:<account or ip digest>"
    Column("tokens", Float, nullable=False),
    Column("updated", UTCDateTime, nullable=False, index=True),
)
