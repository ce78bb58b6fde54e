"""Ports: the Protocols the services depend on. Adapters implement them.

The transports (PingQueue, AlertBus, Mailer) have a local implementation (adapters/
memory.py, local_queue.py) used by the local mode and the tests, and an AWS one
(adapters/sqs.py, sns.py, email.py). The stores have SQL adapters only, run on SQLite
and MariaDB in the tests: their contract is their conditional updates, which a fake
would have to implement a second time (docs/architecture.md says more).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

# Types only: the ping function imports this module on its cold-start path, and the
# Protocols below never need these names at run time (annotations are not evaluated).
if TYPE_CHECKING:
    from email.message import EmailMessage

    from .domain.accounts import (
        ApiKey,
        BucketDecision,
        BucketPolicy,
        Member,
        Membership,
        Project,
        Role,
        Session,
        TotpDevice,
        User,
        VerificationLink,
    )
    from .domain.delivery import ChannelRow, ChannelTarget, Claim, Delivery, NotificationRecord
    from .domain.detection import Anomaly, Verdict
    from .domain.model import AlertEvent, Check, Flip, PingMessage
    from .domain.rules import Assignment, MaintenanceWindow
    from .domain.runs import SeriesPoint
    from .domain.status import RunLog


class QueueFull(Exception):
    """The queue cannot take a message now (throttled, unreachable): answer 503."""


class PingQueue(Protocol):
    """Where the ping edge puts accepted pings (SQS on AWS, a durable local queue)."""

    def enqueue(self, message: PingMessage) -> None:
        """Store the message durably or raise QueueFull. Must not block for long."""
        ...


class PingTargets(Protocol):
    """Which ping targets exist (domain/targets.py), as the edge can know without the
    database: in process locally, a snapshot in S3 on AWS. Written after every change by
    the API and ingest (``services.ping_targets.publish``)."""

    def knows(self, target: str) -> bool | None:
        """True: it exists; False: it certainly does not, as of a set published after
        the question was asked (so a target published before the ping is never denied);
        None: cannot tell now (not loaded yet, storage unreachable): the edge accepts."""
        ...

    def publish(self, build: Callable[[], Iterable[str]]) -> None:
        """Replace the set with ``build()`` (every target, read from the check store).
        ``build`` may be called again when a concurrent publish got in between, so the
        set written last was read last."""
        ...


class AlertBus(Protocol):
    """Where the analyzer publishes alert events (SNS on AWS, in-process bus locally)."""

    def publish(self, events: Sequence[AlertEvent]) -> None: ...


class MailError(Exception):
    """A Mailer could not hand a message over. ``retryable`` is False for permanent
    refusals (bad recipient, authentication failure, message rejected)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Mailer(Protocol):
    """Sends one email (SMTP locally and self-hosted, SES on AWS). Used for alerts and
    for account mail (password reset, invitations). Raises ``MailError``."""

    def send(self, message: EmailMessage) -> None: ...


class Notifier(Protocol):
    """One channel kind (email, slack, pagerduty, webhook): maps an alert event to one
    request to the provider, sends it within ``timeout`` seconds and reports what
    happened. Never retries, sleeps or records: services.alerting.dispatch does that.
    ``config`` is the channel's validated configuration (notifiers/<kind>.py)."""

    kind: str

    def send(self, event: AlertEvent, config: Mapping[str, Any], timeout: float) -> Delivery: ...


# --- Check store (ingest and the management API) ----------------------------------------


@dataclass(frozen=True, slots=True)
class StoredPing:
    """One ping as kept in the check store (the last 100 per check).

    ``kind`` is the recorded type: success/start/fail/log, or "ign" when the ping was
    received but did not count (wrong method, paused with manual resume).
    """

    check_id: int
    n: int
    created: datetime
    kind: str
    ping_id: str = ""
    exit_status: int | None = None
    rid: str | None = None
    method: str = ""
    scheme: str = "http"
    remote_addr: str = ""
    ua: str = ""
    body: str | None = None
    body_truncated: bool = False
    summary: str | None = None
    duration_ms: int | None = None


class SeriesUnavailable(Exception):
    """The series store did not answer (network, timeout, 5xx, credentials): retry."""


class SeriesRejected(Exception):
    """The series store refused the points themselves (e.g. InfluxDB's 400 for a
    max-values-per-tag limit or a field type conflict): writing them again cannot
    succeed, so they are dropped with an error log."""


class SeriesStore(Protocol):
    """Every stored ping, for history and charts (InfluxDB v1 API, or a SQL table).

    Nothing a ping's acknowledgement or a check's status depends on reads it: ingest
    writes through the outbox (``CheckTx.add_series_points``) and ships after commit.
    Errors from the backend are raised as ``SeriesUnavailable``.
    """

    def write(self, points: Sequence[SeriesPoint]) -> None:
        """Store the points (idempotent per check and timestamp)."""
        ...

    def read(
        self,
        check_uuid: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Sequence[str] = (),
        limit: int = 1000,
        newest_first: bool = True,
    ) -> list[SeriesPoint]:
        """One check's points with ``since <= at < until`` (either bound optional),
        only the given kinds (all when empty), at most ``limit``, by time."""
        ...

    def apply_retention(self, now: datetime) -> int:
        """Make sure points older than the retention are (or will be) dropped; returns
        how many were removed now when the backend says (SQL), else 0."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxBatch:
    """Points waiting in the SQL outbox, oldest first, with the keys to delete them."""

    keys: list[str]
    points: list[SeriesPoint]


class SeriesOutbox(Protocol):
    """The SQL table of points not yet in the series store (written in the ping's own
    transaction by ``CheckTx.add_series_points``), read and emptied after commit."""

    def take(self, limit: int, keys: Sequence[str] | None = None) -> OutboxBatch:
        """Up to ``limit`` waiting points (only those with ``keys`` when given)."""
        ...

    def remove(self, keys: Sequence[str]) -> None: ...
    def oldest(self) -> datetime | None:
        """The receive time of the oldest waiting point (None when none waits)."""
        ...

    def count(self, cap: int = 100_000) -> int:
        """How many points wait, counting at most ``cap``."""
        ...


class CheckTx(Protocol):
    """The check store's operations inside ONE database transaction.

    Obtained from ``CheckStore.transaction()``; leaving the block commits, an exception
    rolls everything back. Writes that may race take the row's ``version`` into account.
    """

    # checks
    def get_check(self, check_id: int, *, for_update: bool = False) -> Check | None:
        """``for_update``: lock the row until the transaction ends (MySQL; SQLite already
        serializes writers), so concurrent ingests of one check queue instead of racing."""
        ...

    def get_check_by_uuid(
        self, uuid: str, project_id: int | None = None, *, for_update: bool = False
    ) -> Check | None: ...
    def get_check_by_slug(
        self, project_id: int, slug: str, *, for_update: bool = False
    ) -> Check | None: ...
    def lock_checks(
        self, uuids: Sequence[str], slugs: Sequence[tuple[int, str]]
    ) -> tuple[dict[str, Check], dict[tuple[int, str], Check]]:
        """The checks with these uuids and these (project id, slug) pairs, locked until
        the transaction ends (``FOR UPDATE`` on MySQL), in one read per kind: ingest's
        batch read. Missing ones are simply absent."""
        ...

    def list_checks(
        self,
        project_id: int,
        *,
        tags: Sequence[str] = (),
        slug: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Check]:
        """Checks of a project, oldest first; ``tags`` must all be present."""
        ...

    def insert_check(self, check: Check) -> Check:
        """Insert a new check (its ``id`` is ignored) and return it with its id.
        Raises ``Conflict`` when the project already has a check with that slug."""
        ...

    def save_check(self, check: Check, expected_version: int) -> Check | None:
        """Conditional UPDATE: write ``check`` only if the row still has
        ``expected_version``; returns the check with version+1, or None on a lost race
        (re-read and re-apply)."""
        ...

    def save_checks(self, saves: Sequence[tuple[Check, Check]]) -> bool:
        """Write many checks, each given as (as read, as it is to be saved), in one
        statement per backend round trip, each row only if it still has the version it
        was read with (version + 1); False when any row had moved on (roll back and
        re-run)."""
        ...

    def delete_check(self, check_id: int) -> None: ...
    def check_channel_uuids(self, check_id: int) -> list[str]: ...
    def channel_uuids_of(self, check_ids: Sequence[int]) -> dict[int, list[str]]:
        """The channels of many checks in one query (a list page), uuid order."""
        ...

    def set_check_channels(self, check: Check, channel_uuids: Sequence[str] | None) -> None:
        """Assign exactly these channels (None = all of the project's channels).
        Raises ``InvalidInput(field="channels")`` for a channel not in the project."""
        ...

    # pings and flips
    def add_receipts(self, receipts: Mapping[str, datetime]) -> set[str]:
        """Remember ping ids (id -> received_at); returns the ids that were new, the
        others being redeliveries. Raises ``Conflict`` when a concurrent transaction
        stored one of them first (roll back and re-run: the receipt is then found)."""
        ...

    def prune_receipts(self, before: datetime, limit: int) -> int: ...
    def advance_watermark(self, name: str, at: datetime) -> None:
        """Set the named ingest watermark to ``at`` unless it is already later."""
        ...

    def watermark(self, name: str) -> datetime | None:
        """The named ingest watermark (None before the first ``advance_watermark``)."""
        ...

    def count_orphans(self, counts: Mapping[str, tuple[int, datetime]]) -> None:
        """Add to the orphan counts: target -> (pings, last seen)."""
        ...

    def run_logs(self, rids: Mapping[int, set[str]]) -> dict[int, RunLog]:
        """For each check id, what its kept pings (its last ``PINGS_KEPT_PER_CHECK``)
        say about these run ids: the newest start and the newest completion received
        with each (one read for a batch)."""
        ...

    def add_pings(self, stored: Sequence[StoredPing]) -> None:
        """Insert pings (one statement for the batch)."""
        ...

    def prune_pings(self, upto: Mapping[int, int]) -> None:
        """Delete each check's pings numbered at most ``upto[check id]``."""
        ...

    def add_series_points(self, points: Sequence[tuple[str, SeriesPoint]]) -> None:
        """Queue (key, point) pairs in the series outbox, in this transaction: they are
        shipped to the series store after commit, and survive its outages."""
        ...

    def store_series_points(self, points: Sequence[SeriesPoint]) -> None:
        """Write points straight into the embedded series table, in this transaction
        (when that table is the series store: no outbox needed)."""
        ...

    def list_pings(self, check_id: int, limit: int) -> list[StoredPing]:
        """The check's kept pings (its last ``PINGS_KEPT_PER_CHECK``), newest first."""
        ...

    def get_ping(self, check_id: int, n: int) -> StoredPing | None:
        """Ping number ``n`` of the check, if it is one of its kept pings."""
        ...

    def add_flip(self, flip: Flip) -> Flip: ...
    def add_flips(self, flips: Sequence[Flip]) -> None:
        """Insert flips (one statement; their ids are not read back)."""
        ...

    def list_flips(
        self, check_id: int, start: datetime | None, end: datetime | None, limit: int
    ) -> list[Flip]:
        """Newest first."""
        ...

    # the projects ping keys name (ingest, in the pings' transaction)
    def project_ids_by_ping_key(self, ping_keys: Sequence[str]) -> dict[str, int]:
        """ping key -> project id, for the keys that name a project."""
        ...

    def project_id_by_ping_key(self, ping_key: str) -> int | None: ...
    def check_by_badge_key(self, badge_key: str) -> Check | None: ...
    def project_ping_keys(self) -> list[tuple[int, str]]:
        """(project id, ping key) of every project (badges are keyed by the ping key)."""
        ...

    def ping_targets(self) -> list[tuple[str, str | None, str | None]]:
        """(ping key, check uuid, slug) for every check, and (ping key, None, None) for
        every project: what services.ping_targets publishes to the edge."""
        ...

    def ping_targets_stamp(self) -> tuple[int, ...]:
        """A cheap fingerprint of the rows ``ping_targets`` reads (counts and newest ids
        of checks and projects): it moves whenever a check or project is created or
        deleted, so a reader polling for checks another process created (ingest's
        ``?create=1``) rebuilds the set only when this changed."""
        ...

    # pattern detection: the check's anomalies (verdicts recorded once per kind and run)
    def add_anomalies(
        self, check_id: int, verdicts: Sequence[Verdict], ping_n: int | None
    ) -> list[Anomaly]: ...
    def list_anomalies(self, check_id: int, limit: int, offset: int) -> list[Anomaly]:
        """Newest first."""
        ...

    def count_anomalies(self, check_id: int) -> int: ...
    def get_anomaly(self, check_id: int, anomaly_uuid: str) -> Anomaly | None: ...
    def mark_anomaly_expected(self, anomaly_id: int, now: datetime) -> None: ...


class CheckStore(Protocol):
    """Checks, pings and flips (SQL: adapters/sql/checks_store.py)."""

    def transaction(self) -> AbstractContextManager[CheckTx]: ...

    def is_transient(self, exc: BaseException) -> bool:
        """Whether ``exc`` (raised by a transaction) is infrastructure trouble that a
        later retry can get past: the database unreachable or restarting, a lost
        connection, a deadlock, a lock wait timeout. Ingest retries those for as long
        as it takes instead of giving up on a ping."""
        ...


# --- Account stores: one port per concern (users, sessions, mailed links, 2FA, throttle
# buckets, projects with their members and API keys). The rules that span them (a first
# user adopting orphan projects, a new password ending sessions and voiding reset links,
# a proven address claiming its invitations) live in services/accounts.py and
# services/project_admin.py; each method here is one transaction, and single-use things
# (links, codes, TOTP steps) are taken with conditional updates that report whether this
# call won. SQL adapters: adapters/sql/{users,sessions,links,totp,throttle,projects}_store.py.


class UserStore(Protocol):
    """Accounts: address, password hash, verification."""

    def create_user(
        self, uuid: str, email: str, password_hash: str, now: datetime, project: Project | None
    ) -> User:
        """The user and their first project (as owner), together; None only for the
        installation's first user, who adopts the waiting default project. Conflict if
        the address is taken."""
        ...

    def first_user_id(self) -> int | None: ...
    def user_by_email(self, email: str) -> User | None: ...
    def user_by_id(self, user_id: int) -> User | None: ...
    def set_password(self, user_id: int, password_hash: str, now: datetime) -> None: ...
    def rehash_password(self, user_id: int, password_hash: str) -> None: ...
    def mark_verified(self, user_id: int, email: str, now: datetime) -> bool:
        """Record ``email`` as proven for ``user_id``; False when the account's address
        is another one or was verified already."""
        ...

    def delete_user(self, user_id: int) -> None: ...


class SessionStore(Protocol):
    def create_session(
        self,
        id_hash: str,
        user_id: int,
        verified: bool,
        now: datetime,
        ip: str,
        user_agent: str,
        replaces: str | None = None,
    ) -> None: ...
    def session(self, id_hash: str) -> Session | None: ...
    def touch_session(self, id_hash: str, now: datetime) -> None: ...
    def prune_sessions(
        self, user_id: int, last_seen_before: datetime, created_before: datetime
    ) -> None: ...
    def end_session(self, id_hash: str) -> None: ...
    def end_sessions(self, user_id: int, keep_session: str | None = None) -> None: ...


class LinkStore(Protocol):
    """The single-use links srvpulse mails: password reset and address verification."""

    def create_reset_token(
        self, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None: ...
    def use_reset_token(self, token_hash: str, now: datetime) -> int | None:
        """The user id of an unused, unexpired reset link, now used; else None."""
        ...

    def void_reset_tokens(self, user_id: int, now: datetime) -> None: ...
    def create_verification_token(
        self, token_hash: str, user_id: int, email: str, now: datetime, expires_at: datetime
    ) -> None: ...
    def use_verification_token(self, token_hash: str, now: datetime) -> VerificationLink | None:
        """The link's user and address (``used_now`` when this call used it: it was
        unused and unexpired); None for an unknown link."""
        ...

    def void_verification_tokens(self, user_id: int, now: datetime) -> None: ...


class TotpStore(Protocol):
    def totp_device(self, user_id: int) -> TotpDevice | None: ...
    def start_totp_setup(self, user_id: int, secret: str, now: datetime) -> bool: ...
    def confirm_totp(
        self, user_id: int, step: int, now: datetime, recovery_code_hashes: Sequence[str]
    ) -> bool: ...
    def use_totp_step(self, user_id: int, step: int) -> bool: ...
    def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool: ...
    def recovery_codes_left(self, user_id: int) -> int: ...
    def delete_totp(self, user_id: int) -> None: ...


class ThrottleStore(Protocol):
    def take_token(self, key: str, policy: BucketPolicy, now: datetime) -> BucketDecision: ...
    def prune_buckets(self, older_than: datetime) -> None: ...


class ProjectStore(Protocol):
    """Projects, their members and invitations, their API keys: the one path for each."""

    def create_project(self, project: Project, owner_id: int | None, now: datetime) -> Project:
        """A new project; ``owner_id`` None for the local mode's default project, which
        the installation's first user adopts."""
        ...

    def first_project(self) -> Project | None: ...
    def adopt_orphan_projects(self, user_id: int, now: datetime) -> None: ...
    def memberships(self, user_id: int) -> list[Membership]: ...
    def membership(self, user_id: int, project_uuid: str) -> Membership | None: ...
    def rename_project(self, project_id: int, name: str) -> None: ...
    def delete_project(self, project_id: int) -> None: ...
    def set_ping_key(self, project_id: int, ping_key: str) -> None: ...
    def members(self, project_id: int) -> list[Member]: ...
    def add_member(self, project_id: int, user_id: int, role: Role, now: datetime) -> None: ...
    def add_invitation(
        self, project_id: int, email: str, role: Role, invited_by: int, now: datetime
    ) -> None: ...
    def claim_invitations(self, user_id: int, email: str, now: datetime) -> None:
        """Turn the invitations for ``email`` into memberships of ``user_id``."""
        ...

    def remove_member(self, project_id: int, email: str) -> bool: ...
    def create_api_key(
        self,
        project_id: int,
        name: str,
        read_only: bool,
        key_hash: str,
        prefix: str,
        now: datetime,
    ) -> ApiKey: ...
    def api_keys(self, project_id: int) -> list[ApiKey]: ...
    def find_api_key(self, key_hash: str) -> ApiKey | None: ...
    def touch_api_key(self, key_id: int, now: datetime, if_before: datetime) -> None: ...
    def revoke_api_key(self, project_id: int, key_id: int, now: datetime) -> bool: ...


@dataclass(frozen=True, slots=True)
class AccountStores:
    """The account ports together, as the account and project services take them."""

    users: UserStore
    sessions: SessionStore
    links: LinkStore
    totp: TotpStore
    throttle: ThrottleStore
    projects: ProjectStore


# --- Analyzer store (due checks, flips, alert rules, the alert-event outbox) --------------


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What the analyzer needs about one due check, read in bulk for a pass."""

    check: Check
    new_flips: Sequence[Flip]  # not yet processed by the alert rules, oldest first
    assignments: Sequence[Assignment]
    windows: Sequence[MaintenanceWindow]
    last_ping_summary: str | None = None  # of the check's latest ping, for the alerts
    last_exit_status: int | None = None  # of the check's latest ping, for the alerts
    new_anomalies: Sequence[Anomaly] = ()  # recorded at ingest, alerts not yet decided


@dataclass(frozen=True, slots=True)
class AnalysisPlan:
    """Everything one analyzer decision writes, as one transaction. New flips carry
    negative placeholder ids; assignments and events may refer to them, and the store
    swaps in the real ids."""

    check: Check
    # The check as the plan read it: its version guards the write (a plan whose check
    # changed since writes nothing), and only the columns that differ are written.
    before: Check
    new_flips: Sequence[Flip]
    processed_flip_ids: Sequence[int]
    assignments: Sequence[Assignment]
    events: Sequence[AlertEvent]
    # Pattern detection: verdicts of this evaluation (runs still going) to record, and
    # the recorded anomalies whose alerts this plan decided. Events for a new verdict
    # carry ``anomaly_id`` = -(its index + 1); the store swaps in the real id.
    new_anomalies: Sequence[Verdict] = ()
    processed_anomaly_ids: Sequence[int] = ()
    # The assignments as the plan read them, in the order of ``assignments``: only the
    # state that differs is written (empty: all of it).
    assignments_before: Sequence[Assignment] = ()

    @property
    def expected_version(self) -> int:
        return self.before.version


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    id: int  # alert_events row
    event: AlertEvent


class AnalyzerStore(Protocol):
    """The analyzer's view of the SQL store (adapters/sql/analyzer_store.py)."""

    rows_read: int  # rows read so far (the pass report and the benchmark count them)

    def due_check_ids(
        self, now: datetime, limit: int, deadlines_until: datetime | None = None
    ) -> list[int]:
        """Ids of checks whose ``alert_after`` is at or before ``deadlines_until``
        (default ``now``: the clock's deadlines, held back while ingestion lags) or whose
        ``next_reminder_at`` is at or before ``now`` (the alert rules'), through their
        indexes (never a scan of all checks)."""
        ...

    def load(self, check_ids: Sequence[int]) -> list[CheckContext]: ...

    def apply_many(
        self, plans: Sequence[AnalysisPlan], now: datetime
    ) -> list[list[OutboxEvent] | None]:
        """Write the plans, grouped in few transactions; each plan only if its check
        still has the plan's version. Per plan: the alert events it recorded (claimed for
        publishing by this caller), or None when another writer changed the check first
        (nothing of that plan was written)."""
        ...

    def claim_unpublished(
        self, now: datetime, stale_before: datetime, limit: int
    ) -> list[OutboxEvent]:
        """Claim recorded events never marked published whose claim is older than
        ``stale_before`` (their publisher crashed), for re-publishing."""
        ...

    def mark_published(self, ids: Sequence[int], now: datetime) -> None: ...


class IngestLag(Protocol):
    """How far ingestion has got. Locally: the oldest message still in the durable
    queue (adapters/lag.py, ``LocalQueueLag``); on AWS: the newest analyzer heartbeat
    that came through the ping queue into the SQL store (``HeartbeatLag``)."""

    def caught_up_to(self, now: datetime) -> datetime:
        """An instant (at most ``now``) before which every acknowledged ping has been
        ingested: the analyzer judges no deadline after it. The lag is ``now`` minus it."""
        ...


class MaintenanceStore(Protocol):
    """Maintenance windows (CRUD for the API)."""

    def list_windows(self, project_id: int) -> list[MaintenanceWindow]: ...
    def get_window(self, project_id: int, uuid: str) -> MaintenanceWindow | None: ...
    def add_window(self, window: MaintenanceWindow, now: datetime) -> MaintenanceWindow: ...
    def delete_window(self, project_id: int, uuid: str, now: datetime) -> bool:
        """Delete it; checks whose alerts it held back are made due at ``now``."""
        ...

    def check_id_by_uuid(self, project_id: int, uuid: str) -> int | None: ...
    def check_uuid_by_id(self, check_id: int) -> str | None: ...


class NotificationStore(Protocol):
    """Notifications and channel health for the alert dispatcher
    (SQL: adapters/sql/channels_store.py)."""

    def channel_target(self, channel_id: int) -> ChannelTarget | None: ...

    def check_exists(self, check_uuid: str) -> bool: ...

    def claim(
        self,
        key: str,
        event: AlertEvent,
        kind: str,
        is_test: bool,
        now: datetime,
        lease_until: datetime,
    ) -> Claim | None:
        """Create the notification row for ``key`` (or take over one whose lease ran
        out while it was sending or waiting to retry). None when it was already sent or
        failed, or another worker holds it: the caller must not send."""
        ...

    def record(
        self, notification_id: int, status: str, attempts: int, error: str, now: datetime
    ) -> None: ...

    def channel_result(
        self, channel_id: int, ok: bool, error: str, broken: bool, now: datetime
    ) -> bool:
        """Update the channel's health; True when this call marked it failing and the
        owner has not been told yet (the caller tells them once)."""
        ...

    def owner_emails(self, project_id: int) -> list[str]: ...


class ChannelStore(Protocol):
    """Channels CRUD, their assignment to checks, and notifications per check
    (SQL: adapters/sql/channels_store.py)."""

    def list_channels(self, project_id: int) -> list[ChannelRow]: ...
    def get_channel(self, project_id: int, channel_uuid: str) -> ChannelRow | None: ...
    def add_channel(
        self,
        project_id: int,
        channel_uuid: str,
        kind: str,
        name: str,
        config: dict[str, object],
        now: datetime,
    ) -> None: ...
    def update_channel(self, channel_id: int, name: str, config: dict[str, object]) -> None: ...
    def delete_channel(self, channel_id: int) -> None: ...
    def check_id(self, project_id: int, check_uuid: str) -> int | None: ...
    def assign(
        self, check_id: int, channel_id: int, settings: dict[str, object], now: datetime
    ) -> None: ...
    def unassign(self, check_id: int, channel_id: int) -> bool: ...
    def assignments(self, check_id: int) -> list[dict[str, object]]: ...
    def notifications_for_check(
        self, check_id: int, limit: int = 100
    ) -> list[NotificationRecord]: ...
