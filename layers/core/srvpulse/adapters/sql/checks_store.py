"""SqlCheckStore: checks, pings, flips, projects and API keys over SQLAlchemy Core.

The row <-> ``Check`` mapping (``check_from_row`` / ``check_values``) is generic over the
columns of ``checks`` and the fields of the ``Check`` dataclass, so a column added by
another area (with the matching dataclass field) is read and written with no change
here. The analyzer's store reuses these two functions.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import json
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from itertools import compress
from operator import attrgetter, itemgetter, ne
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from ...domain.badges import check_badge_key
from ...domain.detection import Anomaly, Verdict
from ...domain.model import PINGS_KEPT_PER_CHECK, Check, Flip, FlipReason, Status
from ...domain.runs import SeriesPoint
from ...domain.status import RunLog
from ...errors import Conflict, InvalidInput, Unavailable
from ...ports import StoredPing
from . import anomalies_store
from .bulk import delete_up_to, insert_rows, select_in, update_tuples
from .errors import integrity_conflict, service_error
from .series_store import add_to_outbox, upsert_points
from .tables import (
    channels,
    check_channels,
    checks,
    flips,
    ingest_watermark,
    orphan_pings,
    ping_receipts,
    pings,
    projects,
)

_T = TypeVar("_T")

# --- generic row <-> Check mapping -------------------------------------------------------


@cache
def _enum_fields() -> dict[str, type[enum.Enum]]:
    """Check fields whose type is an Enum (or Enum | None): converted on the way in."""
    hints = typing.get_type_hints(Check)
    found: dict[str, type[enum.Enum]] = {}
    for name, hint in hints.items():
        candidates = typing.get_args(hint) or (hint,)
        for cand in candidates:
            if isinstance(cand, type) and issubclass(cand, enum.Enum):
                found[name] = cand
    return found


@cache
def _mapped_fields() -> tuple[str, ...]:
    """Names that are both a ``Check`` field and a ``checks`` column."""
    columns = set(checks.c.keys())
    return tuple(f.name for f in dataclasses.fields(Check) if f.name in columns)


def check_from_row(row: Mapping[str, Any]) -> Check:
    """Build a Check from a ``checks`` row mapping (``row._mapping``), column by field."""
    keys = tuple(row.keys())
    return check_reader(keys)([row[k] for k in keys])


def checks_from_result(result: CursorResult[Any]) -> list[Check]:
    """Every row of a select of ``checks`` columns as a Check (``check_reader``)."""
    read = check_reader(tuple(result.keys()))
    return [read(row) for row in result]


def _load_rule_settings(stored: str | None) -> dict[str, int | None]:
    return json.loads(stored) if stored else {}


def _dump_rule_settings(settings: Mapping[str, int | None]) -> str:
    return json.dumps(dict(settings), sort_keys=True, separators=(",", ":")) if settings else ""


# Columns the previous release reads instead of rule_settings (migration 0011): written
# from the settings of the same names until a later migration drops them.
_LEGACY_RULE_COLUMNS = ("min_duration", "max_duration")


def check_reader(keys: Sequence[str]) -> Callable[[Sequence[Any]], Check]:
    """``check_from_row`` for many rows of one result (``result.keys()``): the columns
    are looked up once, each row is read by position. About 4x faster per row, which
    the analyzer reads a thousand at a time and ingest a batch's checks."""
    return _reader(tuple(keys))


@cache
def _reader(keys: tuple[str, ...]) -> Callable[[Sequence[Any]], Check]:
    enums = _enum_fields()
    fields = {name: name for name in _mapped_fields()}
    mapped = [(i, fields[name]) for i, name in enumerate(keys) if name in fields]
    names = [name for _, name in mapped]
    get = itemgetter(*(i for i, _ in mapped))
    # Enum fields from their stored text through a dict of the members (an Enum call,
    # ``kind(value)``, costs 0.6 us; it still reads any text the dict does not hold).
    convert = [
        (j, enums[name], {m.value: m for m in enums[name]})
        for j, name in enumerate(names)
        if name in enums
    ]
    slug = names.index("slug") if "slug" in names else None
    rules = names.index("rule_settings") if "rule_settings" in names else None
    # Fields the select left out get their defaults (as ``Check(**values)`` would give
    # them), so the check is still built without ``__init__``.
    left_out = _defaults_except(frozenset(names))

    def read(row: Sequence[Any]) -> Check:
        values = list(get(row))
        for j, kind, members in convert:
            value = values[j]
            if value is not None:
                member = members.get(value)
                values[j] = kind(value) if member is None else member
        if slug is not None and values[slug] is None:
            values[slug] = ""  # NULL in the table: the check has no slug
        if rules is not None:
            values[rules] = _load_rule_settings(values[rules])
        found = dict(zip(names, values, strict=True))
        if left_out:
            found.update(left_out())
        return Check.from_fields(found)

    return read


def _defaults_except(names: frozenset[str]) -> Callable[[], dict[str, Any]] | None:
    """The default of each ``Check`` field not in ``names`` (a fresh one per call for a
    ``default_factory``), or None when ``names`` has them all. A field without a default
    is left out, so that ``Check.from_fields`` refuses the values as ``__init__`` would."""
    fixed: dict[str, Any] = {}
    made: list[tuple[str, Callable[[], Any]]] = []
    for f in dataclasses.fields(Check):
        if f.name in names:
            continue
        if f.default is not dataclasses.MISSING:
            fixed[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            made.append((f.name, f.default_factory))
    if not fixed and not made:
        return None

    def defaults() -> dict[str, Any]:
        values = dict(fixed)
        for name, factory in made:
            values[name] = factory()
        return values

    return defaults


def check_values(check: Check, *, with_id: bool = False) -> dict[str, Any]:
    """The column values of ``check`` for an INSERT/UPDATE of ``checks``."""
    values = {
        name: _column_value(name, getattr(check, name))
        for name in _mapped_fields()
        if with_id or name != "id"
    }
    for column in _LEGACY_RULE_COLUMNS:
        values[column] = check.rule_settings.get(column)
    return values


@cache
def _mapped_getter() -> Callable[[Check], tuple[Any, ...]]:
    return attrgetter(*_mapped_fields())


# Columns a version-guarded save never writes.
_FIXED_COLUMNS = frozenset({"id", "uuid", "project_id", "created"})


@cache
def _converted_fields() -> frozenset[str]:
    """The fields whose values ``_column_value`` may change: enums (or enum | None),
    the slug and the rule settings. Any other field's value is its column's."""
    return frozenset(_enum_fields()) | {"slug", "rule_settings"}


def _column_value(name: str, value: Any) -> Any:
    """A ``Check`` field's value as ``check_values`` writes it."""
    if isinstance(value, enum.Enum):
        return value.value  # pymysql cannot encode str subclasses such as StrEnum members
    if name == "slug" and value == "":
        return None
    if name == "rule_settings":
        return _dump_rule_settings(value)
    return value


def guarded_save_rows(
    saves: Sequence[tuple[Check, Check]],
) -> tuple[tuple[str, ...], list[list[Any]]]:
    """The columns and rows for ``update_tuples(conn, checks, columns, ("id",
    "version"), rows)`` saving each (before, after) pair: only the columns some check
    of the batch changed (fewer values to send, no index maintenance for columns nobody
    touched), version = before's + 1, guarded by before's id and version (each row: the
    values of ``columns``, then the id and the expected version). Compared field by
    field on the dataclasses, so unchanged columns cost no conversion."""
    names = _mapped_fields()
    get = _mapped_getter()
    changed: set[int] = set()
    indexes = range(len(names))  # the fields compared in C
    for before, after in saves:
        changed.update(compress(indexes, map(ne, get(before), get(after))))
    picked = [i for i in sorted(changed) if names[i] not in _FIXED_COLUMNS]
    columns = [names[i] for i in picked]
    legacy = "rule_settings" in columns
    # Only the values that may need converting go through _column_value (enums, the
    # slug, the rule settings): the others are written as they are.
    plain = [names[i] not in _converted_fields() for i in picked]
    rows = []
    is_enum = enum.Enum
    for before, after in saves:
        values = get(after)
        row = [
            v if keep and not isinstance(v, is_enum) else _column_value(name, v)
            for v, name, keep in zip(map(values.__getitem__, picked), columns, plain, strict=True)
        ]
        if legacy:
            row.extend(after.rule_settings.get(column) for column in _LEGACY_RULE_COLUMNS)
        row.append(before.version + 1)
        row.append(before.id)
        row.append(before.version)
        rows.append(row)
    if legacy:
        columns.extend(_LEGACY_RULE_COLUMNS)
    columns.append("version")
    return tuple(columns), rows


def _check_or_none(row: Any) -> Check | None:
    if row is None:
        return None
    return check_from_row(row._mapping)


def _ping_from_row(row: Any) -> StoredPing:
    m = row._mapping
    return StoredPing(
        check_id=m["check_id"],
        n=m["n"],
        created=m["created"],
        kind=m["kind"],
        ping_id=m["ping_id"],
        exit_status=m["exit_status"],
        rid=m["rid"],
        method=m["method"],
        scheme=m["scheme"],
        remote_addr=m["remote_addr"],
        ua=m["ua"],
        body=m["body"],
        body_truncated=bool(m["body_truncated"]),
        summary=m["summary"],
        duration_ms=m["duration_ms"],
    )


def flip_from_row(row: Any) -> Flip:
    """A ``flips`` row as a Flip (the ingest and analyzer stores both read them). A reason
    this version does not know (written by a newer one) reads as the generic reason for
    the new status."""
    m = row._mapping
    try:
        reason = FlipReason(m["reason"])
    except ValueError:
        reason = FlipReason.FAILED if m["new_status"] == "down" else FlipReason.RECOVERED
    return Flip(
        check_id=m["check_id"],
        created=m["created"],
        old_status=Status(m["old_status"]),
        new_status=Status(m["new_status"]),
        reason=reason,
        id=m["id"],
    )


# --- the store ---------------------------------------------------------------------------

_RUN_KINDS = ("start", "success", "fail")
_CHUNK = 500  # values per IN (...) list


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


# Only the columns that are Check fields (not badge_key or the legacy rule columns):
# on MySQL every column of every row is parsed in Python by pymysql.
_CHECK_COLUMNS = [checks.c[f.name] for f in dataclasses.fields(Check)]
_CHECKS_BY_ID = select(*_CHECK_COLUMNS).where(checks.c.id.in_(bindparam("ids", expanding=True)))
# The per-batch reads, built once (expanding IN lists: one cached compilation, no
# statement built and hashed for its cache key on every call).
# Only the pings a check keeps count (its last PINGS_KEPT_PER_CHECK: up to
# PINGS_PRUNED_EVERY - 1 older ones wait for the next pruning): what ``run_logs``, the
# history and a report can see.
_KEPT = pings.c.n > checks.c.n_pings - PINGS_KEPT_PER_CHECK
# Each check's kept pings are contiguous (primary key (check_id, n)): the read scans
# them instead of an index on rid (migration 0012).
_RUN_LOG = (
    select(pings.c.check_id, pings.c.rid, pings.c.kind, pings.c.created)
    .join_from(pings, checks, checks.c.id == pings.c.check_id)
    .where(
        pings.c.check_id.in_(bindparam("checks", expanding=True)),
        pings.c.rid.in_(bindparam("rids", expanding=True)),
        pings.c.kind.in_(_RUN_KINDS),
        _KEPT,
    )
    .order_by(pings.c.check_id, pings.c.n)
)
_PING_COLUMNS = (
    "ping_id",
    "check_id",
    "n",
    "created",
    "kind",
    "exit_status",
    "rid",
    "method",
    "scheme",
    "remote_addr",
    "ua",
    "body",
    "body_truncated",
    "summary",
    "duration_ms",
)

# The per-ping writes pass their values to execute() instead of .values(...): literal
# values make SQLAlchemy build and hash a bind parameter per column on every call to
# find its cached statement (a third of ingest's CPU, mostly the 28-column UPDATE).
_SAVE_CHECK = update(checks).where(
    checks.c.id == bindparam("_id"), checks.c.version == bindparam("_expected_version")
)


class CheckCache:
    """The checks ingest saved last, by uuid, kept across batches (one per store, i.e.
    per process or Lambda container): a batch reads only each check's ``(id, version)``
    under its lock and takes the whole row from here when the version has not moved.

    Sound because every writer of a check row bumps ``version`` (ingest, the API, the
    analyzer, channel assignments, a maintenance window's deletion), so a version names
    one content; entries are put in only after their transaction committed (a rolled
    back save would otherwise leave a version that another writer may reuse with other
    content). Bounded: the least recently used entries go first."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._checks: dict[str, Check] = {}

    def get(self, uuid: str, check_id: int, version: int) -> Check | None:
        found = self._checks.get(uuid)
        if found is None or found.id != check_id or found.version != version:
            return None
        return found

    def put(self, saved: Sequence[Check]) -> None:
        entries = self._checks
        for check in saved:
            entries.pop(check.uuid, None)  # to the newest end
            entries[check.uuid] = check
        excess = len(entries) - self.size
        if excess > 0:
            for uuid in list(itertools.islice(entries, excess)):
                entries.pop(uuid, None)

    def __len__(self) -> int:
        return len(self._checks)


class SqlCheckTx:
    """CheckTx on one connection inside one transaction (see ports.CheckTx)."""

    def __init__(self, conn: Connection, cache: CheckCache | None = None) -> None:
        self.conn = conn
        self.cache = cache
        # Checks saved in this transaction, for the cache once it has committed.
        self.saved: list[Check] = []

    # checks ------------------------------------------------------------------------------
    def get_check(self, check_id: int, *, for_update: bool = False) -> Check | None:
        q = select(checks).where(checks.c.id == check_id)
        if for_update:
            q = q.with_for_update()  # SELECT ... FOR UPDATE on MySQL; a no-op on SQLite
        return _check_or_none(self.conn.execute(q).first())

    def get_check_by_uuid(
        self, uuid: str, project_id: int | None = None, *, for_update: bool = False
    ) -> Check | None:
        q = select(checks).where(checks.c.uuid == uuid)
        if project_id is not None:
            q = q.where(checks.c.project_id == project_id)
        if for_update:
            q = q.with_for_update()
        return _check_or_none(self.conn.execute(q).first())

    def get_check_by_slug(
        self, project_id: int, slug: str, *, for_update: bool = False
    ) -> Check | None:
        q = select(checks).where(checks.c.project_id == project_id, checks.c.slug == slug)
        if for_update:
            q = q.with_for_update()
        return _check_or_none(self.conn.execute(q).first())

    def lock_checks(
        self, uuids: Sequence[str], slugs: Sequence[tuple[int, str]]
    ) -> tuple[dict[str, Check], dict[tuple[int, str], Check]]:
        by_uuid: dict[str, Check] = {}
        by_slug: dict[tuple[int, str], Check] = {}
        cache = self.cache
        for part in _chunks(sorted(set(uuids))):
            # Lock the rows and learn their versions; read in full only the checks the
            # cache does not hold at that version.
            stale: list[int] = []
            for uuid, check_id, version in select_in(
                self.conn, checks, ("uuid", "id", "version"), "uuid", part, for_update=True
            ):
                cached = None if cache is None else cache.get(uuid, check_id, version)
                if cached is None:
                    stale.append(check_id)
                else:
                    by_uuid[uuid] = cached
            if stale:
                found = checks_from_result(self.conn.execute(_CHECKS_BY_ID, {"ids": stale}))
                by_uuid.update((check.uuid, check) for check in found)
        for slug_part in _chunks(sorted(set(slugs))):
            q = (
                select(*_CHECK_COLUMNS)
                .where(tuple_(checks.c.project_id, checks.c.slug).in_(slug_part))
                .with_for_update()
            )
            for check in checks_from_result(self.conn.execute(q)):
                by_slug[(check.project_id, check.slug)] = check
        return by_uuid, by_slug

    def list_checks(
        self,
        project_id: int,
        *,
        tags: Sequence[str] = (),
        slug: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Check]:
        q = select(checks).where(checks.c.project_id == project_id).order_by(checks.c.id)
        if slug is not None:
            q = q.where(checks.c.slug == slug)
        for tag in tags:
            # Tags are space-separated words; pad both sides so "a" never matches "ab".
            padded = literal(" ", String) + checks.c.tags + literal(" ", String)
            q = q.where(padded.contains(f" {tag} ", autoescape=True))
        if limit is not None:
            q = q.limit(limit)
        if offset:
            q = q.offset(offset)
        return [c for c in (_check_or_none(r) for r in self.conn.execute(q)) if c is not None]

    def insert_check(self, check: Check) -> Check:
        values = check_values(check)
        values["badge_key"] = check_badge_key(check.uuid)
        try:
            # No savepoint (pysqlite's savepoints would commit the outer transaction): a
            # duplicate slug fails the whole transaction, which the caller rolls back.
            new_id = self.conn.execute(insert(checks).values(**values)).inserted_primary_key
        except IntegrityError as exc:
            raise integrity_conflict(exc) from exc
        assert new_id is not None
        return check.with_changes(id=int(new_id[0]))

    def save_check(self, check: Check, expected_version: int) -> Check | None:
        saved = check.with_changes(version=expected_version + 1)
        values = check_values(saved)
        values.pop("created", None)
        values.pop("uuid", None)
        values.pop("project_id", None)
        values["_id"], values["_expected_version"] = check.id, expected_version
        result = self.conn.execute(_SAVE_CHECK, values)
        return saved if result.rowcount == 1 else None

    def save_checks(self, saves: Sequence[tuple[Check, Check]]) -> bool:
        if not saves:
            return True
        # Only the columns some check of the batch changed: fewer values to send and
        # no index maintenance for columns a ping never touches (slug, name, ...).
        columns, rows = guarded_save_rows(saves)
        matched = update_tuples(self.conn, checks, columns, ("id", "version"), rows)
        if matched != len(rows):
            return False
        if self.cache is not None:
            # Each row now holds its ``after`` (the columns that changed were written,
            # the others were already so), unless ``after`` differs in what a save
            # never writes.
            self.saved.extend(
                after
                for before, after in saves
                if after.version == before.version + 1
                and (after.id, after.uuid, after.project_id, after.created)
                == (before.id, before.uuid, before.project_id, before.created)
            )
        return True

    def delete_check(self, check_id: int) -> None:
        # Children first: the SQLite foreign keys cascade, but keep it explicit for both.
        for table in (pings, flips, check_channels):
            self.conn.execute(delete(table).where(table.c.check_id == check_id))
        self.conn.execute(delete(checks).where(checks.c.id == check_id))

    def check_channel_uuids(self, check_id: int) -> list[str]:
        return self.channel_uuids_of([check_id])[check_id]

    def channel_uuids_of(self, check_ids: Sequence[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {i: [] for i in check_ids}
        for chunk in _chunks(check_ids):
            q = (
                select(check_channels.c.check_id, channels.c.uuid)
                .join(check_channels, check_channels.c.channel_id == channels.c.id)
                .where(check_channels.c.check_id.in_(chunk))
                .order_by(channels.c.uuid)
            )
            for check_id, uuid in self.conn.execute(q):
                found[int(check_id)].append(str(uuid))
        return found

    def set_check_channels(self, check: Check, channel_uuids: Sequence[str] | None) -> None:
        """Assign exactly these channels, each named by its uuid or, as Healthchecks
        allows, its name (a name two channels share is refused); None = all of them."""
        q = select(channels.c.id, channels.c.uuid, channels.c.name).where(
            channels.c.project_id == check.project_id
        )
        rows = [(int(r.id), str(r.uuid), str(r.name)) for r in self.conn.execute(q)]
        if channel_uuids is None:
            wanted = {row[0] for row in rows}
        else:
            wanted = set()
            for ident in channel_uuids:
                matches = [row[0] for row in rows if ident in (row[1], row[2])]
                if not matches:
                    raise InvalidInput(
                        f"channels: no channel {ident!r} in this project", "channels"
                    )
                if len(set(matches)) > 1:
                    raise InvalidInput(
                        f"channels: {ident!r} names more than one channel, use its id", "channels"
                    )
                wanted.add(matches[0])
        existing = set(
            self.conn.execute(
                select(check_channels.c.channel_id).where(check_channels.c.check_id == check.id)
            ).scalars()
        )
        gone = existing - wanted
        if gone:
            self.conn.execute(
                delete(check_channels).where(
                    check_channels.c.check_id == check.id, check_channels.c.channel_id.in_(gone)
                )
            )
        for channel_id in sorted(wanted - existing):
            self.conn.execute(
                insert(check_channels).values(
                    check_id=check.id,
                    channel_id=channel_id,
                    after_failures=1,
                    after_down_minutes=0,
                    reminder_every_minutes=0,
                    reminder_max=0,
                    notify_on_recovery=True,
                    reminders_sent=0,
                    created=check.created,
                )
            )

    # pings and flips ---------------------------------------------------------------------
    def add_receipts(self, receipts: Mapping[str, datetime]) -> set[str]:
        ids = list(receipts)
        known: set[str] = set()
        for part in _chunks(ids):
            rows = select_in(self.conn, ping_receipts, ("ping_id",), "ping_id", part)
            known.update(ping_id for (ping_id,) in rows)
        new = [(i, receipts[i]) for i in ids if i not in known]
        if new:
            try:
                insert_rows(self.conn, ping_receipts, ("ping_id", "received_at"), new)
            except IntegrityError as exc:
                # A concurrent delivery of the same message committed first: the caller
                # rolls back and re-runs, and then sees its receipt.
                raise Conflict("a ping of this batch was stored concurrently") from exc
        return set(receipts) - known

    def prune_receipts(self, before: datetime, limit: int) -> int:
        ids = list(
            self.conn.execute(
                select(ping_receipts.c.ping_id)
                .where(ping_receipts.c.received_at < before)
                .order_by(ping_receipts.c.received_at)
                .limit(limit)
            ).scalars()
        )
        if not ids:
            return 0
        self.conn.execute(delete(ping_receipts).where(ping_receipts.c.ping_id.in_(ids)))
        return len(ids)

    def advance_watermark(self, name: str, at: datetime) -> None:
        w = ingest_watermark.c
        moved = self.conn.execute(
            update(ingest_watermark).where(w.name == name, w.at < at).values(at=at)
        )
        if moved.rowcount == 0 and self.watermark(name) is None:
            try:
                self.conn.execute(insert(ingest_watermark).values(name=name, at=at))
            except IntegrityError as exc:  # a concurrent ingest inserted it first
                raise Conflict("the watermark was created concurrently") from exc

    def watermark(self, name: str) -> datetime | None:
        found: datetime | None = self.conn.execute(
            select(ingest_watermark.c.at).where(ingest_watermark.c.name == name)
        ).scalar()
        return found

    def count_orphans(self, counts: Mapping[str, tuple[int, datetime]]) -> None:
        for target, (count, last_seen) in counts.items():
            target = target[:300]
            bumped = self.conn.execute(
                update(orphan_pings)
                .where(orphan_pings.c.target == target)
                .values(count=orphan_pings.c.count + count, last_seen=last_seen)
            )
            if bumped.rowcount == 0:
                self.conn.execute(
                    insert(orphan_pings).values(target=target, count=count, last_seen=last_seen)
                )

    def run_logs(self, rids: Mapping[int, set[str]]) -> dict[int, RunLog]:
        wanted = {check_id: r for check_id, r in rids.items() if r}
        starts: dict[int, dict[str, datetime]] = {i: {} for i in wanted}
        done: dict[int, dict[str, datetime]] = {i: {} for i in wanted}
        all_rids = sorted({rid for r in wanted.values() for rid in r})
        for part in _chunks(sorted(wanted)):
            for rid_part in _chunks(all_rids):
                rows = self.conn.execute(_RUN_LOG, {"checks": list(part), "rids": list(rid_part)})
                # Oldest first: the newest of each rid wins.
                for check_id, rid, kind, created in rows.tuples():
                    if rid not in wanted[check_id]:
                        continue
                    into = starts if kind == "start" else done
                    into[check_id][rid] = created
        return {i: RunLog(starts[i], done[i]) for i in wanted}

    def add_pings(self, stored: Sequence[StoredPing]) -> None:
        insert_rows(
            self.conn,
            pings,
            _PING_COLUMNS,
            [
                (
                    ping.ping_id,
                    ping.check_id,
                    ping.n,
                    ping.created,
                    ping.kind,
                    ping.exit_status,
                    ping.rid,
                    ping.method[:10],
                    ping.scheme[:10],
                    ping.remote_addr[:64],
                    ping.ua[:200],
                    ping.body,
                    ping.body_truncated,
                    None if ping.summary is None else ping.summary[:1000],
                    ping.duration_ms,
                )
                for ping in stored
            ],
        )

    def add_series_points(self, points: Sequence[tuple[str, SeriesPoint]]) -> None:
        add_to_outbox(self.conn, points)

    def store_series_points(self, points: Sequence[SeriesPoint]) -> None:
        upsert_points(self.conn, points)

    def prune_pings(self, upto: Mapping[int, int]) -> None:
        delete_up_to(self.conn, pings, "check_id", "n", upto)

    def list_pings(self, check_id: int, limit: int) -> list[StoredPing]:
        q = (
            select(pings)
            .join_from(pings, checks, checks.c.id == pings.c.check_id)
            .where(pings.c.check_id == check_id, _KEPT)
            .order_by(pings.c.n.desc())
            .limit(limit)
        )
        return [_ping_from_row(r) for r in self.conn.execute(q)]

    def get_ping(self, check_id: int, n: int) -> StoredPing | None:
        row = self.conn.execute(
            select(pings)
            .join_from(pings, checks, checks.c.id == pings.c.check_id)
            .where(pings.c.check_id == check_id, pings.c.n == n, _KEPT)
        ).first()
        return None if row is None else _ping_from_row(row)

    def add_flip(self, flip: Flip) -> Flip:
        new_id = self.conn.execute(
            insert(flips).values(
                check_id=flip.check_id,
                created=flip.created,
                old_status=flip.old_status.value,
                new_status=flip.new_status.value,
                reason=flip.reason.value,
            )
        ).inserted_primary_key
        assert new_id is not None
        return dataclasses.replace(flip, id=int(new_id[0]))

    def add_flips(self, new: Sequence[Flip]) -> None:
        if not new:
            return
        self.conn.execute(
            insert(flips),
            [
                dict(
                    check_id=f.check_id,
                    created=f.created,
                    old_status=f.old_status.value,
                    new_status=f.new_status.value,
                    reason=f.reason.value,
                )
                for f in new
            ],
        )

    def list_flips(
        self, check_id: int, start: datetime | None, end: datetime | None, limit: int
    ) -> list[Flip]:
        conds = [flips.c.check_id == check_id]
        if start is not None:
            conds.append(flips.c.created >= start)
        if end is not None:
            conds.append(flips.c.created <= end)
        q = (
            select(flips)
            .where(and_(*conds))
            .order_by(flips.c.created.desc(), flips.c.id.desc())
            .limit(limit)
        )
        return [flip_from_row(r) for r in self.conn.execute(q)]

    # projects and API keys ---------------------------------------------------------------
    def check_by_badge_key(self, badge_key: str) -> Check | None:
        row = self.conn.execute(select(checks).where(checks.c.badge_key == badge_key)).first()
        return _check_or_none(row)

    def project_ping_keys(self) -> list[tuple[int, str]]:
        rows = self.conn.execute(select(projects.c.id, projects.c.ping_key))
        return [(int(r.id), str(r.ping_key)) for r in rows]

    def ping_targets(self) -> list[tuple[str, str | None, str | None]]:
        q = select(projects.c.ping_key, checks.c.uuid, checks.c.slug).join(
            checks, checks.c.project_id == projects.c.id
        )
        found: list[tuple[str, str | None, str | None]] = [
            (str(r.ping_key), str(r.uuid), str(r.slug or "")) for r in self.conn.execute(q)
        ]
        found.extend(
            (str(key), None, None)
            for key in self.conn.execute(select(projects.c.ping_key)).scalars()
        )
        return found

    def ping_targets_stamp(self) -> tuple[int, ...]:
        counted = [
            select(func.count()).select_from(table).scalar_subquery()
            for table in (checks, projects)
        ]
        newest = [select(func.max(table.c.id)).scalar_subquery() for table in (checks, projects)]
        row = self.conn.execute(select(*counted, *newest)).one()
        return tuple(int(v or 0) for v in row)

    def project_ids_by_ping_key(self, ping_keys: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in _chunks(sorted(set(ping_keys))):
            rows = self.conn.execute(
                select(projects.c.ping_key, projects.c.id).where(projects.c.ping_key.in_(part))
            )
            found.update({str(r.ping_key): int(r.id) for r in rows})
        return found

    def project_id_by_ping_key(self, ping_key: str) -> int | None:
        found = self.conn.execute(
            select(projects.c.id).where(projects.c.ping_key == ping_key)
        ).scalar()
        return None if found is None else int(found)

    # --- pattern detection (adapters/sql/anomalies_store.py) ---------------------------

    def add_anomalies(
        self, check_id: int, verdicts: Sequence[Verdict], ping_n: int | None
    ) -> list[Anomaly]:
        return anomalies_store.add_anomalies(self.conn, check_id, verdicts, ping_n)

    def list_anomalies(self, check_id: int, limit: int, offset: int) -> list[Anomaly]:
        return anomalies_store.list_anomalies(self.conn, check_id, limit, offset)

    def count_anomalies(self, check_id: int) -> int:
        return anomalies_store.count_anomalies(self.conn, check_id)

    def get_anomaly(self, check_id: int, anomaly_uuid: str) -> Anomaly | None:
        return anomalies_store.get_anomaly(self.conn, check_id, anomaly_uuid)

    def mark_anomaly_expected(self, anomaly_id: int, now: datetime) -> None:
        anomalies_store.mark_expected(self.conn, anomaly_id, now)


class SqlCheckStore:
    """CheckStore over an engine: ``with store.transaction() as tx: ...``."""

    def __init__(self, engine: Engine, cache: CheckCache | None = None) -> None:
        self.engine = engine
        self.cache = CheckCache() if cache is None else cache

    @contextmanager
    def transaction(self) -> Iterator[SqlCheckTx]:
        with self.engine.begin() as conn:
            tx = SqlCheckTx(conn, self.cache)
            yield tx
        # Committed: what it saved is what the rows now hold.
        if tx.saved:
            self.cache.put(tx.saved)

    def is_transient(self, exc: BaseException) -> bool:
        # The API's classification (errors.py): unreachable or restarting server, lost
        # connection, deadlock, lock wait timeout, SQLite's "database is locked" are a
        # 503 there and a retry here. Data, integrity and programming errors are not.
        return isinstance(service_error(exc), Unavailable)
