"""Core domain types shared by every layer: checks, pings, flips and alert events.

Everything here is plain data plus pure functions; ``now`` is always a parameter.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import Any, TypeVar

_T = TypeVar("_T")

# A check's rule settings (domain/check_rules/): setting name -> value.
RuleSettings = Mapping[str, int | None]

# The report (request body) kept with a ping: larger bodies are cut and marked truncated.
MAX_REPORT_BYTES = 100_000
# Pings (with their reports) kept per check: a check's history is its last 100 pings;
# older ones are pruned at ingest, PINGS_PRUNED_EVERY at a time (pruned_pings_upto).
PINGS_KEPT_PER_CHECK = 100
PINGS_PRUNED_EVERY = 20


def pruned_pings_upto(n_pings: int) -> int:
    """The ping numbers (``n``) at most this are pruned once a check has ``n_pings``:
    those before its last ``PINGS_KEPT_PER_CHECK``, rounded down to a multiple of
    ``PINGS_PRUNED_EVERY``. So a check's old pings go 20 at a time, on every 20th ping
    (one range of rows, instead of one row per ping); between two prunings up to 19
    more are stored, which nothing shows: reads take the last 100 only."""
    return max(0, n_pings // PINGS_PRUNED_EVERY * PINGS_PRUNED_EVERY - PINGS_KEPT_PER_CHECK)


class Status(StrEnum):
    """What the API shows as a check's ``status``."""

    NEW = "new"
    UP = "up"
    STARTED = "started"
    GRACE = "grace"
    DOWN = "down"
    PAUSED = "paused"


class PingKind(StrEnum):
    """The kind of a ping, as the API shows it in a ping's ``type``."""

    SUCCESS = "success"
    START = "start"
    FAIL = "fail"
    LOG = "log"


class ScheduleKind(StrEnum):
    SIMPLE = "simple"  # period (timeout) + grace
    CRON = "cron"  # crontab expression in a time zone + grace
    ONCALENDAR = "oncalendar"  # systemd OnCalendar expression(s) in a time zone + grace


class FlipReason(StrEnum):
    """Why a check changed status (shown in flips and alerts). Too long, too short and
    too often belong to check rules (domain/check_rules/: each is owned by exactly one
    registered rule, which words it; a contract test checks)."""

    LATE = "late"
    FAILED = "failed"
    TOO_LONG = "too long"
    TOO_SHORT = "too short"
    TOO_OFTEN = "too often"
    RECOVERED = "recovered"
    REMINDER = "reminder"
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    # Never a flip's reason: the reason of an anomaly alert (pattern detection), which
    # tells without changing the status.
    ANOMALY = "anomaly"


def utc(dt: datetime) -> datetime:
    """Return ``dt`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if dt.tzinfo is UTC:
        return dt
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


# A text as a JSON string, quoted and escaped exactly as json.dumps does (its C code).
_text: Callable[[str], str] = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def _maybe_text(value: str | None) -> str:
    return "null" if value is None else _text(value)


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else utc(dt).isoformat()


_Layout = tuple[Callable[[Any], tuple[Any, ...]], dict[str, int]]
_LAYOUTS: dict[type, _Layout] = {}


def _layout(cls: type) -> _Layout:
    """How to read every field of a dataclass in ``__init__`` order, and each one's place."""
    found = _LAYOUTS.get(cls)
    if found is None:
        fs = fields(cls)
        if not all(f.init for f in fs) or len(fs) < 2:
            raise TypeError(f"replaced() needs a dataclass of init fields: {cls.__name__}")
        names = [f.name for f in fs]
        found = _LAYOUTS[cls] = (attrgetter(*names), {name: i for i, name in enumerate(names)})
    return found


def _shallow_dict(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, values as they are (for flat dataclasses)."""
    get, index = _layout(type(obj))
    return dict(zip(index, get(obj), strict=True))


def replaced(obj: _T, /, **changes: Any) -> _T:
    """``dataclasses.replace`` for the domain's flat dataclasses (every field an
    ``__init__`` argument, no ``__post_init__``): a copy with ``changes``, built with
    one positional ``__init__`` call. About twice as fast as ``replace``, which looks
    every field up by name; the analyzer copies a check and its assignments several
    times per decision (bench/analyzer_scale.py)."""
    get, index = _layout(type(obj))
    values = list(get(obj))
    for name, value in changes.items():
        place = index.get(name)
        if place is None:
            raise TypeError(f"{type(obj).__name__} has no field {name!r}")
        values[place] = value
    return type(obj)(*values)


def _load_json(text: str) -> Any:
    """``json.loads(text)``, through orjson when it reads the text the same way (5x
    faster; ingest decodes every ping): anything orjson refuses (a lone surrogate
    escape, NaN, 1e400) or reads differently (an integer beyond 64 bits, which it
    makes a float) is read by the json module, so the result is always json's.
    Imported here, not at the top: the ping function, which never decodes, does not
    load it."""
    import orjson

    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    if isinstance(data, dict) and float in map(type, data.values()):
        return json.loads(text)
    return data


def _parse_dt(value: str | None) -> datetime | None:
    return None if value is None else utc(datetime.fromisoformat(value))


@dataclass(slots=True)
class PingMessage:
    """One accepted ping, as the edge enqueues it and ingest receives it.

    ``ping_id`` is given at the edge; ingest is idempotent on it. Exactly one of
    ``check_uuid`` or (``ping_key``, ``slug``) identifies the check.

    Not frozen, unlike the other domain types: one is built for every ping at the edge,
    and a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``
    (32 500 instructions a message, 4 500 without; callgrind). Nothing changes a message
    once it is built; ``dataclasses.replace`` makes a changed copy.
    """

    ping_id: str
    received_at: datetime
    kind: PingKind
    check_uuid: str | None = None
    ping_key: str | None = None
    slug: str | None = None
    create: bool = False
    exit_status: int | None = None
    rid: str | None = None
    method: str = "GET"
    scheme: str = "http"
    remote_addr: str = ""
    user_agent: str = ""
    body: str = ""
    body_truncated: bool = False
    summary: str | None = None

    def to_json(self) -> str:
        """The message as compact JSON, every field in field order: the text
        ``json.dumps(fields, separators=(",", ":"))`` gives (tests/unit/
        test_ping_protocol.py compares them).

        Written out rather than through json.dumps because it runs for every accepted
        ping at the edge: building the dict and encoding it cost 64 000 instructions a
        ping, this 30 000 (half of them the timestamp); every text still goes through
        the json module's own escaping (``encode_basestring_ascii``)."""
        at = self.received_at
        exit_status = self.exit_status
        return (
            f'{{"ping_id":{_text(self.ping_id)},'
            f'"received_at":"{at.isoformat() if at.tzinfo is UTC else _iso(at)}",'
            f'"kind":{_text(self.kind.value)},'
            f'"check_uuid":{_maybe_text(self.check_uuid)},'
            f'"ping_key":{_maybe_text(self.ping_key)},'
            f'"slug":{_maybe_text(self.slug)},'
            f'"create":{"true" if self.create else "false"},'
            f'"exit_status":{"null" if exit_status is None else int.__repr__(exit_status)},'
            f'"rid":{_maybe_text(self.rid)},'
            f'"method":{_text(self.method)},'
            f'"scheme":{_text(self.scheme)},'
            f'"remote_addr":{_text(self.remote_addr)},'
            f'"user_agent":{_text(self.user_agent)},'
            f'"body":{_text(self.body)},'
            f'"body_truncated":{"true" if self.body_truncated else "false"},'
            f'"summary":{_maybe_text(self.summary)}}}'
        )

    @classmethod
    def from_json(cls, text: str) -> PingMessage:
        """Parse a queued message; raises ``ValueError`` (or ``KeyError``/``TypeError``)
        when it is malformed, so the caller can fail just that record."""
        data = _load_json(text)
        if not isinstance(data, dict):
            raise ValueError("ping message must be a JSON object")
        received = _parse_dt(data.pop("received_at"))
        if received is None:
            raise ValueError("received_at is required")
        kind = PingKind(data.pop("kind"))
        return cls(received_at=received, kind=kind, **data)


# The ingest_watermark row that holds the newest heartbeat ingest has stored.
HEARTBEAT_WATERMARK = "heartbeat"


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A marker the analyzer sends through the ping queue (AWS): once ingest has taken
    it off the queue, everything sent before ``sent_at`` has been ingested too (give or
    take the queue's reordering). How the analyzer measures ingestion lag on SQS."""

    sent_at: datetime

    def to_json(self) -> str:
        return json.dumps({"heartbeat": _iso(self.sent_at)}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Heartbeat | None:
        """The heartbeat in a queue message, or None when the message is not one."""
        if not text.startswith('{"heartbeat"'):
            return None
        data = json.loads(text)
        at = _parse_dt(data.get("heartbeat")) if isinstance(data, dict) else None
        return None if at is None else cls(at)


@dataclass(frozen=True)
class Check:
    """A monitored job and its current state (one row of the check store).

    The stored ``status`` is one of new/up/down/paused (plus started while a run is
    open); ``grace`` is derived from the clock (see ``status_at``).

    Not ``slots``: ``with_changes`` copies the instance ``__dict__`` in one C call,
    where ``dataclasses.replace`` sets the 40-odd fields one by one through the frozen
    ``__setattr__`` (13 vs 1.6 us here, and ingest makes about three copies per ping).
    """

    id: int
    uuid: str
    project_id: int
    name: str = ""
    slug: str = ""
    tags: str = ""
    desc: str = ""
    kind: ScheduleKind = ScheduleKind.SIMPLE
    timeout: int = 86400  # seconds, simple schedules
    grace: int = 3600  # seconds
    schedule: str = "* * * * *"  # cron schedules
    tz: str = "UTC"
    manual_resume: bool = False
    methods: str = ""  # "" = any method, "POST" = only POST pings count
    # The check rules' settings (domain/check_rules/): name -> value, only those that
    # differ from their default (min_duration, max_duration, min_interval, ...).
    rule_settings: RuleSettings = field(default_factory=dict)
    recovery_threshold: int = 1  # consecutive successes needed to go back up
    # Keyword filtering (domain/keywords.py), Healthchecks' fields.
    filter_subject: bool = False
    filter_body: bool = False
    filter_http_body: bool = False
    filter_default_fail: bool = False
    start_kw: str = ""
    success_kw: str = ""
    failure_kw: str = ""
    status: Status = Status.NEW
    n_pings: int = 0
    last_ping: datetime | None = None
    last_start: datetime | None = None
    last_start_rid: str | None = None
    last_duration_ms: int | None = None
    last_ping_kind: PingKind | None = None
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    alert_after: datetime | None = None  # when the analyzer must look at this check next
    next_reminder_at: datetime | None = None
    # Open runs, JSON {rid: started_at ISO} ("" = the run started without a rid); kept on
    # the row so the domain stays pure and ingest just persists the Check (domain.status).
    open_runs: str = ""
    # The last expected run counted as missed while down (None after any ping).
    missed_deadline: datetime | None = None
    # Pattern detection (domain.detection): on/off, low/normal/high, the learned baseline
    # (JSON, None before the first ping); ingest and the analyzer keep it.
    detection: bool = True
    sensitivity: str = "normal"
    baseline: str | None = None
    version: int = 0  # optimistic concurrency: every state change increments it
    created: datetime = field(default_factory=lambda: datetime(1970, 1, 1, tzinfo=UTC))

    @classmethod
    def from_fields(cls, values: Mapping[str, Any]) -> Check:
        """A Check from a value for each of its fields (a stored row), without
        ``__init__``'s frozen setattr per field, which was most of the cost of reading a
        batch's checks; anything else (a field missing or unknown) goes to ``__init__``."""
        if values.keys() != _CHECK_FIELDS:
            return cls(**values)
        check = object.__new__(cls)
        check.__dict__.update(values)
        return check

    def with_changes(self, **changes: Any) -> Check:
        """A copy with ``changes`` (field names, as ``dataclasses.replace`` takes)."""
        if not _CHECK_FIELDS.issuperset(changes):
            unknown = sorted(changes.keys() - _CHECK_FIELDS)
            raise TypeError(f"Check has no field {unknown[0]!r}")
        copy = object.__new__(Check)
        state = copy.__dict__
        state.update(self.__dict__)
        state.update(changes)
        return copy


_CHECK_FIELDS = frozenset(f.name for f in fields(Check))


@dataclass(frozen=True, slots=True)
class Flip:
    """A change of a check's status, with the reason. Alerts are sent for flips."""

    check_id: int
    created: datetime
    old_status: Status
    new_status: Status
    reason: FlipReason
    id: int | None = None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """What the analyzer publishes on the AlertBus: one event per (flip, channel).

    ``dedup_key`` is stable per check (PagerDuty incidents); ``idempotency_key`` is
    unique per (flip, channel) so a redelivered event is never sent twice.
    """

    flip_id: int
    channel_id: int
    check_uuid: str
    check_name: str
    project_id: int
    status: Status  # new status: down or up
    reason: FlipReason
    created: datetime
    is_reminder: bool = False
    last_ping: datetime | None = None
    last_ping_summary: str | None = None
    check_url: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    channel_kind: str = ""  # email | slack | pagerduty | webhook (SNS filter attribute)
    # An anomaly alert (pattern detection) instead of a flip's: ``flip_id`` is 0, the
    # explanation is ``extra["detail"]``, ``status`` is the check's (unchanged) status.
    anomaly_id: int | None = None
    anomaly_kind: str = ""

    @property
    def idempotency_key(self) -> str:
        if self.anomaly_id is not None:
            return f"anomaly-{self.anomaly_id}-channel-{self.channel_id}"
        return f"flip-{self.flip_id}-channel-{self.channel_id}"

    @property
    def dedup_key(self) -> str:
        # An anomaly is its own PagerDuty incident: it must not resolve, or be resolved
        # by, the check's down/up incident.
        if self.anomaly_id is not None:
            return f"srvpulse-{self.check_uuid}-anomaly-{self.anomaly_id}"
        return f"srvpulse-{self.check_uuid}"

    def to_json(self) -> str:
        """Every field in field order, compact: the text ``_to_json_dumps`` (json.dumps)
        gives, written out for the usual value types (the analyzer writes one per alert,
        a thousand a pass: 2 us instead of 8), every text through the json module's own
        escaping; anything else goes to json.dumps (tests/unit/test_model_copies.py)."""
        extra = self.extra
        ids = (self.flip_id, self.channel_id, self.project_id)
        anomaly = self.anomaly_id
        plain = (
            all(type(i) is int for i in ids)
            and (anomaly is None or type(anomaly) is int)
            and type(self.is_reminder) is bool
            and all(type(k) is str and type(v) is str for k, v in extra.items())
        )
        if not plain:
            return self._to_json_dumps()
        try:
            return self._to_json_written(extra)
        except TypeError:  # a text field holding something else (None, ...)
            return self._to_json_dumps()

    def _to_json_written(self, extra: Mapping[str, str]) -> str:
        summary = self.last_ping_summary
        last_ping = _iso(self.last_ping)
        anomaly = self.anomaly_id
        extra_text = ",".join(f"{_text(k)}:{_text(v)}" for k, v in extra.items())
        return (
            f'{{"flip_id":{int.__repr__(self.flip_id)},'
            f'"channel_id":{int.__repr__(self.channel_id)},'
            f'"check_uuid":{_text(self.check_uuid)},'
            f'"check_name":{_text(self.check_name)},'
            f'"project_id":{int.__repr__(self.project_id)},'
            f'"status":{_text(self.status.value)},'
            f'"reason":{_text(self.reason.value)},'
            f'"created":{_maybe_text(_iso(self.created))},'
            f'"is_reminder":{"true" if self.is_reminder else "false"},'
            f'"last_ping":{_maybe_text(last_ping)},'
            f'"last_ping_summary":{_maybe_text(summary)},'
            f'"check_url":{_text(self.check_url)},'
            f'"extra":{{{extra_text}}},'
            f'"channel_kind":{_text(self.channel_kind)},'
            f'"anomaly_id":{"null" if anomaly is None else int.__repr__(anomaly)},'
            f'"anomaly_kind":{_text(self.anomaly_kind)}}}'
        )

    def _to_json_dumps(self) -> str:
        data = _shallow_dict(self)  # asdict() deep-copies: a third of an analyzer pass
        data["extra"] = dict(self.extra)
        data["created"] = _iso(self.created)
        data["last_ping"] = _iso(self.last_ping)
        data["status"] = self.status.value
        data["reason"] = self.reason.value
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> AlertEvent:
        data = json.loads(text)
        created = _parse_dt(data.pop("created"))
        if created is None:
            raise ValueError("created is required")
        return cls(
            created=created,
            last_ping=_parse_dt(data.pop("last_ping")),
            status=Status(data.pop("status")),
            reason=FlipReason(data.pop("reason")),
            **data,
        )


def ping_window(check: Check) -> timedelta:
    return timedelta(seconds=check.timeout + check.grace)
