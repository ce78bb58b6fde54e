"""The shapes of the API's JSON answers, as typed dicts.

The routes build plain dicts (Healthchecks' field names, fields that are present for
some callers only); these TypedDicts say exactly which keys they have, so mypy checks
the builders against them and chalicelib/openapi.py turns them into the OpenAPI
document's response schemas (pydantic reads TypedDicts like models). ``NotRequired``
means "absent for some answers", ``X | None`` means "present, may be null".
Request bodies are pydantic models next to their routes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, RootModel, WithJsonSchema, with_config
from srvpulse.domain import check_rules
from srvpulse.domain.accounts import Role
from srvpulse.domain.model import FlipReason, Status

# pydantic needs typing_extensions' TypedDict before Python 3.12.
from typing_extensions import TypedDict

# Times the checks API writes itself (second precision, like Healthchecks).
IsoTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class ErrorOut(TypedDict):
    """Every error answer: a message safe to show, and the field it is about (dotted
    path, e.g. ``unique.0``) when there is one."""

    error: str
    field: NotRequired[str]


# --- checks, pings, flips -----------------------------------------------------------------


Sensitivity = Literal["low", "normal", "high"]
AnomalyKindName = Literal[
    "duration_long",
    "duration_short",
    "still_running_long",
    "unusual_time",
    "unusual_day",
    "too_often",
]


def _rule_settings(schema: dict[str, Any]) -> None:
    """CheckOut's check rule settings (domain/check_rules/), one field each, null when
    off: added from the registry (api_checks.check_json adds their values the same way)."""
    properties: dict[str, Any] = schema["properties"]
    required: list[str] = schema["required"]
    for setting in check_rules.SETTINGS:
        kind = {"type": "integer"}
        properties[setting.name] = {
            "anyOf": [kind, {"type": "null"}] if setting.optional else [kind],
            "description": setting.label + (" (seconds)" if setting.unit == "seconds" else ""),
        }
        required.append(setting.name)


@with_config(ConfigDict(json_schema_extra=_rule_settings))
class CheckOut(TypedDict):
    """A check as Healthchecks' Management API v3 shows it, plus srvpulse's fields.

    Read-write callers get ``uuid`` and the URLs; read-only keys get ``unique_key``
    instead. Simple checks have ``timeout``; cron checks ``schedule`` and ``tz``. Every
    check rule's setting is a field too (min_duration, max_duration, min_interval...)."""

    name: str
    slug: str
    tags: str
    desc: str
    grace: int
    n_pings: int
    status: Status
    started: bool
    last_ping: IsoTime | None
    next_ping: IsoTime | None
    manual_resume: bool
    methods: str  # "" (any method) or "POST"
    recovery_threshold: int
    subject: str
    subject_fail: str
    start_kw: str
    success_kw: str
    failure_kw: str
    filter_subject: bool
    filter_body: bool
    filter_http_body: bool
    filter_default_fail: bool
    badge_url: str
    detection: bool  # pattern detection on
    sensitivity: Sensitivity
    last_duration: NotRequired[int]
    unique_key: NotRequired[str]
    uuid: NotRequired[str]
    ping_url: NotRequired[str]
    update_url: NotRequired[str]
    pause_url: NotRequired[str]
    resume_url: NotRequired[str]
    channels: NotRequired[str]
    schedule: NotRequired[str]
    tz: NotRequired[str]
    timeout: NotRequired[int]


class CheckList(TypedDict):
    checks: list[CheckOut]


class RuleSettingOut(TypedDict):
    """A check rule's setting: the check's field of that name, its bounds, and the
    words the check form shows next to it."""

    name: str
    title: str  # how a listing names it ("Longest run allowed")
    label: str  # the form's label ("Alert when a run takes longer than")
    hint: str
    unit: Literal["seconds", "count"]
    default: int | None
    minimum: int
    maximum: int
    optional: bool  # null (off) is allowed


class RuleReasonOut(TypedDict):
    """A flip reason a rule gives, with what it means in a sentence."""

    reason: FlipReason
    describes: str


class CheckRuleOut(TypedDict):
    name: str
    summary: str
    settings: list[RuleSettingOut]
    reasons: list[RuleReasonOut]


class CheckRuleList(TypedDict):
    """Every check rule the server has (domain/check_rules/), in the order it applies
    them."""

    rules: list[CheckRuleOut]


# "ign": received but not counted (wrong method, or paused with manual resume).
PingType = Literal["success", "start", "fail", "log", "ign"]


class PingOut(TypedDict):
    """One of the last pings of a check (newest first in lists)."""

    type: PingType
    date: datetime
    n: int
    scheme: str
    remote_addr: str
    method: str
    ua: str
    rid: str | None
    exit_status: int | None
    summary: str | None
    duration: NotRequired[float]
    body_url: str | None  # null when the ping has no body
    body_truncated: bool


class PingList(TypedDict):
    pings: list[PingOut]


class FlipOut(TypedDict):
    """A status change and why it happened."""

    timestamp: IsoTime | None
    up: Literal[0, 1]
    status: Status
    old_status: Status
    reason: FlipReason


class FlipList(TypedDict):
    """What Healthchecks' server answers (its docs show a bare list)."""

    flips: list[FlipOut]


class RunOut(TypedDict):
    """One run of the job, from the series store. An unfinished run (outcome
    ``started``: still going, or it never reported back) has no end."""

    outcome: Literal["success", "fail", "started"]
    started_at: datetime | None
    ended_at: datetime | None
    duration: float | None
    exit_status: int | None
    rid: str | None
    summary: str | None


class RunList(TypedDict):
    """A page of runs, newest first. ``next_before``: pass it as ``before`` for the
    next page (null: this is the last). ``complete_until``: runs after this time may
    still be on their way to the history (null: the history is up to date)."""

    runs: list[RunOut]
    next_before: datetime | None
    complete_until: datetime | None


# --- channels and notifications -----------------------------------------------------------


class ChannelOut(TypedDict):
    """A channel; secret config fields (URLs, routing keys) are never shown, and
    read-only callers get only ``id``, ``name`` and ``kind`` (Healthchecks' fields)."""

    id: str
    name: str
    kind: str
    description: NotRequired[str]
    config: NotRequired[dict[str, Any]]
    failing: NotRequired[bool]
    failing_since: NotRequired[datetime | None]
    last_error: NotRequired[str]


class ChannelList(TypedDict):
    channels: list[ChannelOut]


class TestSendOut(TypedDict):
    status: str
    error: str


class Deleted(TypedDict):
    deleted: str


class Unassigned(TypedDict):
    unassigned: str


class AssignmentSettings(TypedDict):
    after_failures: int
    after_down_minutes: int
    reminder_every_minutes: int
    reminder_max: int
    notify_on_recovery: bool
    anomaly_alerts: bool  # pattern detection's alerts go to this channel


class AssignmentOut(AssignmentSettings):
    """A channel assigned to a check, with its first-alert and reminder settings."""

    channel: str


class AssignedChannel(AssignmentSettings):
    uuid: str


class AssignmentList(TypedDict):
    channels: list[AssignedChannel]


class NotificationOut(TypedDict):
    """One notification to one channel and what became of it (every attempt counted)."""

    channel: str
    kind: str
    check_status: str
    reminder: bool
    test: bool
    status: str
    attempts: int
    error: str
    created: datetime
    updated: datetime


class NotificationList(TypedDict):
    notifications: list[NotificationOut]


# --- maintenance windows ------------------------------------------------------------------


class WindowOut(TypedDict):
    """A maintenance window: one-off (starts_at..ends_at) or recurring (schedule in tz,
    open ``duration`` seconds); ``check`` is null for project-wide windows."""

    uuid: str
    name: str
    check: str | None
    kind: Literal["once", "recurring"]
    starts_at: datetime | None
    ends_at: datetime | None
    schedule: str | None
    duration: int | None
    tz: str
    open: bool
    open_until: datetime | None


class WindowList(TypedDict):
    windows: list[WindowOut]


# --- the check page -----------------------------------------------------------------------


class SummaryAssignment(AssignmentSettings):
    """A channel assigned to the check, with the assignment's settings."""

    channel: ChannelOut


class CheckSummary(TypedDict):
    """Everything the check page shows; each list newest first (channels and windows
    in creation order). ``maintenance`` holds the check's own windows and the
    project-wide ones."""

    check: CheckOut
    pings: list[PingOut]
    flips: list[FlipOut]
    notifications: list[NotificationOut]
    channels: list[SummaryAssignment]
    maintenance: list[WindowOut]


# --- accounts and projects ----------------------------------------------------------------


class UserOut(TypedDict):
    uuid: str
    email: str
    email_verified: bool


class SignedIn(TypedDict):
    """A new session (its cookies are set); with ``totp_required`` the second step
    (``/auth/signin/totp``) is still to come."""

    user: UserOut
    totp_required: bool
    csrf_token: str


class AccountOut(TypedDict):
    uuid: str
    email: str
    email_verified: bool
    created: datetime
    totp_enabled: bool
    recovery_codes_left: int


class MessageOut(TypedDict):
    message: str


class EmailVerified(TypedDict):
    """The address is verified; on the link's first use (no 2FA on) the user is signed
    in too: the new session's user and CSRF token follow and its cookies are set."""

    email_verified: bool
    signed_in: bool
    user: NotRequired[UserOut]
    totp_required: NotRequired[bool]
    csrf_token: NotRequired[str]


class TotpSetupOut(TypedDict):
    secret: str
    provisioning_uri: str
    qr_svg: str


class RecoveryCodes(TypedDict):
    """Shown once: the server keeps only their hashes."""

    recovery_codes: list[str]


class ProjectOut(TypedDict):
    uuid: str
    name: str
    role: Role


class ProjectList(TypedDict):
    projects: list[ProjectOut]


class MemberOut(TypedDict):
    email: str
    role: Role
    pending: bool


class MemberList(TypedDict):
    members: list[MemberOut]


class ApiKeyOut(TypedDict):
    id: int
    name: str
    read_only: bool
    prefix: str
    created: datetime
    last_used_at: datetime | None


class NewApiKey(ApiKeyOut):
    """The key itself is in this answer only."""

    key: str


class ApiKeyList(TypedDict):
    keys: list[ApiKeyOut]


class PingKeyOut(TypedDict):
    ping_key: str
    ping_url: str


class OpenApiDocument(RootModel[dict[str, Any]]):
    """This document."""


# --- badges (Healthchecks' formats) ----------------------------------------------------------


class BadgeUrls(TypedDict):
    """One tag's badge URLs: two-state (up/down) and three-state (…3: up/late/down)."""

    svg: str
    svg3: str
    json: str
    json3: str
    shields: str
    shields3: str


class BadgeList(TypedDict):
    """Every tag of the project, and "*" for all its checks."""

    badges: dict[str, BadgeUrls]


class BadgeJson(TypedDict):
    status: Literal["up", "late", "down"]
    total: int
    grace: int
    down: int


class AnomalyOut(TypedDict):
    """A change in the check's pattern that detection noticed. ``run_started``: the run
    it concerns; ``ping_n``: the ping it was noticed at (null: noticed by the analyzer,
    for a run still going); ``expected``: a user marked it expected."""

    uuid: str
    kind: AnomalyKindName
    detected_at: datetime
    run_started: datetime
    ping_n: int | None
    explanation: str
    expected: bool
    expected_at: datetime | None


class AnomalyList(TypedDict):
    anomalies: list[AnomalyOut]
    total: int  # anomalies of the check in all
    limit: int
    offset: int
