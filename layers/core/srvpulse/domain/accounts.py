"""Account rules: password policy, token-bucket throttling, session lifetimes, roles.

Pure: no I/O, no clock (``now`` is a parameter). The common-password list is loaded by
the service layer and passed in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ..errors import InvalidInput

PASSWORD_MIN_LENGTH = 8
# argon2 hashes any length, but a cap stops multi-megabyte "passwords" being hashed.
PASSWORD_MAX_LENGTH = 128
EMAIL_MAX_LENGTH = 254  # RFC 5321 path limit

# Sessions: a dashboard session ends after 14 days without use, and after 30 days at most.
SESSION_IDLE_TIMEOUT = timedelta(days=14)
SESSION_ABSOLUTE_TIMEOUT = timedelta(days=30)
# last_seen is written at most this often, so a busy dashboard does not write every request.
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
# Between the password step and the TOTP step of a two-step sign-in.
PENDING_SIGNIN_TIMEOUT = timedelta(minutes=5)
PASSWORD_RESET_LIFETIME = timedelta(hours=1)
# A verification link may wait in the inbox longer than a reset link: it grants nothing
# but the proof that the address is the account's.
EMAIL_VERIFICATION_LIFETIME = timedelta(hours=24)
RECOVERY_CODE_COUNT = 10
TOTP_VALID_WINDOW = 1  # accept the previous and the next 30 s step (clock drift)


class Role(StrEnum):
    """A user's role in a project."""

    OWNER = "owner"  # everything, including deleting the project and managing members
    MEMBER = "member"  # read and write checks, channels and API keys
    READONLY = "readonly"  # read only

    @property
    def can_write(self) -> bool:
        return self is not Role.READONLY

    @property
    def can_manage(self) -> bool:
        return self is Role.OWNER


def check_password(password: str, common: Collection[str]) -> None:
    """Raise InvalidInput (field ``password``) unless ``password`` meets the policy.

    ``common`` holds lowercased common passwords; the comparison ignores case and
    surrounding spaces, like the list it comes from.
    """
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(
            f"password must be at least {PASSWORD_MIN_LENGTH} characters", "password"
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput(f"password must be at most {PASSWORD_MAX_LENGTH} characters", "password")
    if password.strip().lower() in common:
        raise InvalidInput("password is too common, choose another one", "password")


def normalize_email(email: str) -> str:
    """Trim and lowercase an address; raise InvalidInput (field ``email``) if it is not
    plausibly one. Deliverability is proved by the mails we send, not by a regex."""
    value = email.strip().lower()
    local, _, domain = value.rpartition("@")
    if (
        not local
        or "." not in domain
        or domain.startswith(".")
        or domain.endswith(".")
        or len(value) > EMAIL_MAX_LENGTH
        or any(c.isspace() for c in value)
    ):
        raise InvalidInput("a valid email address is required", "email")
    return value


# --- throttling -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BucketPolicy:
    """A token bucket: ``capacity`` attempts at once, refilled at ``capacity`` per
    ``period`` (so a steady ``capacity`` attempts per period are allowed)."""

    name: str
    capacity: int
    period: timedelta

    @property
    def refill_per_second(self) -> float:
        return self.capacity / self.period.total_seconds()


@dataclass(frozen=True, slots=True)
class BucketState:
    tokens: float
    updated: datetime


@dataclass(frozen=True, slots=True)
class BucketDecision:
    allowed: bool
    state: BucketState  # the state to store (unchanged tokens when refused)
    retry_after: int  # seconds until one token is back (0 when allowed)


def take_token(policy: BucketPolicy, state: BucketState | None, now: datetime) -> BucketDecision:
    """Refill the bucket for the time since ``state.updated`` and take one token.

    A new bucket starts full. Time going backwards (clock skew between Lambdas) refills
    nothing rather than draining.
    """
    if state is None:
        tokens = float(policy.capacity)
    else:
        elapsed = max(0.0, (now - state.updated).total_seconds())
        tokens = min(float(policy.capacity), state.tokens + elapsed * policy.refill_per_second)
    if tokens >= 1.0:
        return BucketDecision(True, BucketState(tokens - 1.0, now), 0)
    missing = 1.0 - tokens
    retry_after = max(1, int(missing / policy.refill_per_second + 0.999))
    return BucketDecision(False, BucketState(tokens, now), retry_after)


# Per account and per IP. An IP gets more than an account: several users may share one.
SIGNIN_PER_ACCOUNT = BucketPolicy("signin-account", 10, timedelta(minutes=15))
SIGNIN_PER_IP = BucketPolicy("signin-ip", 50, timedelta(minutes=15))
RESET_PER_ACCOUNT = BucketPolicy("reset-account", 3, timedelta(hours=1))
RESET_PER_IP = BucketPolicy("reset-ip", 20, timedelta(hours=1))
# TOTP and recovery codes: 6 digits are guessable only with many attempts.
CODE_PER_ACCOUNT = BucketPolicy("code-account", 5, timedelta(minutes=15))
CODE_PER_IP = BucketPolicy("code-ip", 30, timedelta(minutes=15))
REGISTER_PER_IP = BucketPolicy("register-ip", 20, timedelta(hours=1))
# Resending the verification mail: as many as reset mails (each one mails an address).
VERIFY_MAIL_PER_ACCOUNT = BucketPolicy("verify-mail-account", 3, timedelta(hours=1))
VERIFY_MAIL_PER_IP = BucketPolicy("verify-mail-ip", 20, timedelta(hours=1))


def throttle_ip(ip: str) -> str:
    """The identity of a per-IP throttle bucket: an IPv4 address as is, an IPv6 address
    by its /64 network (one subscriber line or host gets a whole /64, so counting
    single addresses would limit nothing); anything unparsable as given."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


# --- sessions ---------------------------------------------------------------------------


def session_is_live(
    created: datetime,
    last_seen: datetime,
    now: datetime,
    idle: timedelta = SESSION_IDLE_TIMEOUT,
    absolute: timedelta = SESSION_ABSOLUTE_TIMEOUT,
) -> bool:
    """A session is live until it was idle for ``idle`` or is older than ``absolute``."""
    return now - last_seen < idle and now - created < absolute


def session_needs_touch(last_seen: datetime, now: datetime) -> bool:
    return now - last_seen >= SESSION_TOUCH_INTERVAL


def totp_step(now: datetime, interval: int = 30) -> int:
    """The RFC 6238 time step that contains ``now``."""
    return int(now.timestamp()) // interval


# --- records the account store returns ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class User:
    id: int
    uuid: str
    email: str
    password_hash: str
    created: datetime
    # The owner of the address proved it (mailed link or password reset). Until then
    # invitations to the address wait, and the account cannot invite others.
    email_verified: bool = False


@dataclass(frozen=True, slots=True)
class VerificationLink:
    """A mailed verification link as the store found it: whose, for which address, and
    whether this use was its first (unused and unexpired until now)."""

    user_id: int
    email: str
    used_now: bool


@dataclass(frozen=True, slots=True)
class Session:
    """A stored session (the store only knows the hash of its id)."""

    id_hash: str
    user_id: int
    verified: bool  # False between the password and TOTP steps of a sign-in
    created: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class TotpDevice:
    user_id: int
    secret: str
    confirmed: bool
    last_used_step: int | None


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    uuid: str
    name: str
    ping_key: str
    created: datetime


@dataclass(frozen=True, slots=True)
class Membership:
    """A project seen by one user, with that user's role in it."""

    project: Project
    role: Role


@dataclass(frozen=True, slots=True)
class Member:
    """A project's member (or pending invitation when ``pending``)."""

    email: str
    role: Role
    pending: bool
    user_uuid: str | None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as stored: never the key itself, only its first characters."""

    id: int
    project_id: int
    name: str
    read_only: bool
    prefix: str
    created: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
