"""Check use cases for the management API: create/update/delete, pause/resume, and the
read side (one check with its channels, its pings, its flips).

Every change to an existing check is a version-conditional save (the analyzer and
ingest write the same rows): on a lost race the change is re-applied to a fresh read.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import check_rules, status
from ..domain.model import Check, Flip, ScheduleKind, Status
from ..domain.schedule import canonical_tz, schedule_kind, validate_cron, validate_oncalendar
from ..errors import Conflict, InvalidInput, NotFound
from ..ports import CheckStore, CheckTx, StoredPing

MAX_ATTEMPTS = 5
# Fields a client may set (Healthchecks' names, plus srvpulse's own).
EDITABLE = (
    "name",
    "slug",
    "tags",
    "desc",
    "timeout",
    "grace",
    "schedule",
    "tz",
    "manual_resume",
    "methods",
    "recovery_threshold",
    "filter_subject",
    "filter_body",
    "filter_http_body",
    "filter_default_fail",
    "start_kw",
    "success_kw",
    "failure_kw",
    "detection",  # pattern detection on/off
    "sensitivity",  # low | normal | high
    # The check rules' settings (domain/check_rules/: min_duration, max_duration, ...).
    *(s.name for s in check_rules.SETTINGS),
)
# Healthchecks' "unique" upsert may match on these.
UNIQUE_FIELDS = ("name", "slug", "tags", "timeout", "grace")


@dataclass(frozen=True, slots=True)
class CheckView:
    """A check with what the API shows next to it."""

    check: Check
    channel_uuids: list[str]


def slug_from_name(name: str) -> str:
    """The slug the v1 and v2 APIs derive from a check's name, as Healthchecks does:
    ASCII-folded, lower case, runs of spaces and hyphens -> "-", other punctuation gone
    ("Nightly Backup (db)" -> "nightly-backup-db")."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.sub(r"[^\w\s-]", "", folded.lower())
    return re.sub(r"[-\s]+", "-", words).strip("-_")


def unique_key(check: Check) -> str:
    """A stable, non-secret id for read-only API keys (the uuid cannot be derived from
    it, so read-only users cannot ping or edit)."""
    return hashlib.sha1(uuid.UUID(check.uuid).hex[:16].encode()).hexdigest()  # noqa: S324


def _apply_fields(check: Check, fields: Mapping[str, Any]) -> Check:
    """Validate and apply client-given fields (already type-checked) to ``check``."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidInput(f"{name}: not an editable field", name)
    changes: dict[str, Any] = {k: v for k, v in fields.items() if not check_rules.is_setting(k)}
    rule_changes = {k: v for k, v in fields.items() if check_rules.is_setting(k)}
    if rule_changes:
        changes["rule_settings"] = check_rules.update_settings(check.rule_settings, rule_changes)
    if "schedule" in fields:
        kind = schedule_kind(str(fields["schedule"]))
        if kind is ScheduleKind.CRON:
            changes["schedule"] = validate_cron(str(fields["schedule"]))
        else:
            changes["schedule"] = validate_oncalendar(str(fields["schedule"]))
        changes["kind"] = kind
    elif "timeout" in fields:
        # Like Healthchecks: setting a timeout (without a schedule) makes it "simple".
        changes["kind"] = ScheduleKind.SIMPLE
    if "tz" in fields:
        changes["tz"] = canonical_tz(str(fields["tz"]))
    if "tags" in fields:
        changes["tags"] = " ".join(str(fields["tags"]).split())
    return check.with_changes(**changes)


def _find(tx: CheckTx, project_id: int, key: str) -> Check:
    """A check of the project by uuid, or by unique_key (read-only keys see only that)."""
    try:
        canonical = str(uuid.UUID(key))
    except ValueError:
        canonical = ""
    if canonical:
        check = tx.get_check_by_uuid(canonical, project_id)
        if check is not None:
            return check
    elif len(key) == 40:
        for check in tx.list_checks(project_id):
            if unique_key(check) == key:
                return check
    raise NotFound("check not found")


def _assign(tx: CheckTx, check: Check, channels: str | None) -> None:
    """Healthchecks' ``channels`` field: None = leave alone, "*" = every channel of the
    project, "" = none, else comma-separated channel uuids or names."""
    if channels is None:
        return
    if channels.strip() == "*":
        tx.set_check_channels(check, None)
        return
    wanted = [c.strip() for c in channels.split(",")]
    if channels.strip() and "" in wanted:
        raise InvalidInput("channels: empty channel identifier", "channels")
    tx.set_check_channels(check, [c for c in wanted if c])


def _view(tx: CheckTx, check: Check) -> CheckView:
    return CheckView(check, tx.check_channel_uuids(check.id))


def list_checks(
    store: CheckStore,
    project_id: int,
    *,
    tags: Sequence[str] = (),
    slug: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[CheckView]:
    """The project's checks, oldest first; every tag in ``tags`` must be present."""
    with store.transaction() as tx:
        found = tx.list_checks(project_id, tags=tags, slug=slug, limit=limit, offset=offset)
        # One query for every check's channels, not one per check (5x the list's cost).
        assigned = tx.channel_uuids_of([c.id for c in found])
        return [CheckView(c, assigned[c.id]) for c in found]


def get_check(store: CheckStore, project_id: int, key: str) -> CheckView:
    with store.transaction() as tx:
        return _view(tx, _find(tx, project_id, key))


def create_check(
    store: CheckStore,
    project_id: int,
    fields: Mapping[str, Any],
    now: datetime,
    *,
    channels: str | None = None,
    unique: Sequence[str] = (),
    check_uuid: str | None = None,
) -> tuple[CheckView, bool]:
    """Create a check, or with ``unique`` (Healthchecks' upsert) update the first
    existing check whose listed fields equal the given ones. Returns (view, created).

    ``channels`` as in Healthchecks: "*" all, "" or None none, else channel uuids.
    ``check_uuid`` keeps a check's uuid when it moves here from elsewhere (the import
    from Healthchecks), so the ping URLs in existing cron lines only change host.
    """
    bad = [f for f in unique if f not in UNIQUE_FIELDS]
    if bad:
        raise InvalidInput(f"unique: cannot match on {bad[0]!r}", "unique")
    if check_uuid is not None:
        try:
            check_uuid = str(uuid.UUID(check_uuid))
        except ValueError as exc:
            raise InvalidInput("uuid: must be a UUID", "uuid") from exc
    check = _apply_fields(
        Check(id=0, uuid=check_uuid or str(uuid.uuid4()), project_id=project_id, created=now),
        fields,
    )
    # Like Healthchecks: when a field named in ``unique`` is not in the request, nothing
    # can match on it and a new check is created.
    if unique and all(f in fields for f in unique):
        with store.transaction() as tx:
            match = next(
                (
                    c
                    for c in tx.list_checks(project_id)
                    if all(getattr(c, f) == getattr(check, f) for f in unique)
                ),
                None,
            )
        if match is not None:
            view = update_check(store, project_id, match.uuid, fields, channels=channels)
            return view, False
    with store.transaction() as tx:
        if check_uuid is not None and tx.get_check_by_uuid(check_uuid) is not None:
            raise Conflict("uuid: a check with this uuid already exists")
        created = tx.insert_check(check)
        _assign(tx, created, channels)
        return _view(tx, created), True


def _change(
    store: CheckStore,
    project_id: int,
    key: str,
    change: Callable[[Check], tuple[Check, Flip | None]],
    channels: str | None = None,
) -> CheckView:
    """Re-read, change, conditionally save; again on a lost race."""
    for _attempt in range(MAX_ATTEMPTS):
        with store.transaction() as tx:
            current = _find(tx, project_id, key)
            updated, flip = change(current)
            saved = tx.save_check(updated, current.version)
            if saved is None:
                continue
            if flip is not None:
                tx.add_flip(flip)
            _assign(tx, saved, channels)
            return _view(tx, saved)
    raise Conflict("the check is changing too often right now, try again")


def update_check(
    store: CheckStore,
    project_id: int,
    key: str,
    fields: Mapping[str, Any],
    *,
    channels: str | None = None,
) -> CheckView:
    """Change the given fields (omitted ones stay). ``channels``: None leaves the
    assignments alone, "*" all, "" none, else comma-separated channel uuids."""

    def edit(c: Check) -> tuple[Check, Flip | None]:
        # Schedule settings move the deadline the analyzer watches.
        return status.with_deadlines(_apply_fields(c, fields)), None

    return _change(store, project_id, key, edit, channels)


def delete_check(store: CheckStore, project_id: int, key: str) -> CheckView:
    """Delete a check with its pings and flips; returns it as it was."""
    with store.transaction() as tx:
        check = _find(tx, project_id, key)
        view = _view(tx, check)
        tx.delete_check(check.id)
    return view


def pause_check(store: CheckStore, project_id: int, key: str, now: datetime) -> CheckView:
    """Stop monitoring until the next ping (or an explicit resume with manual_resume)."""
    return _change(store, project_id, key, lambda c: status.pause(c, now))


def resume_check(store: CheckStore, project_id: int, key: str, now: datetime) -> CheckView:
    """Resume a paused check: it becomes "new" and waits for its next ping.
    Conflict when the check is not paused (like Healthchecks)."""

    def resume(c: Check) -> tuple[Check, Flip | None]:
        if c.status is not Status.PAUSED:
            raise Conflict("the check is not paused")
        return status.resume(c, now)

    return _change(store, project_id, key, resume)


def list_pings(
    store: CheckStore, project_id: int, key: str, limit: int
) -> tuple[Check, list[StoredPing]]:
    """The check's kept pings, newest first."""
    with store.transaction() as tx:
        check = _find(tx, project_id, key)
        return check, tx.list_pings(check.id, limit)


def ping_body(store: CheckStore, project_id: int, key: str, n: int) -> str:
    """The report (request body) of ping number ``n``; NotFound if pruned or empty."""
    with store.transaction() as tx:
        check = _find(tx, project_id, key)
        found = tx.get_ping(check.id, n)
    if found is None:
        raise NotFound("ping not found")
    if not found.body:
        raise NotFound("the ping has no body")
    return found.body


def list_flips(
    store: CheckStore,
    project_id: int,
    key: str,
    *,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[Flip]:
    """The check's status changes, newest first."""
    with store.transaction() as tx:
        check = _find(tx, project_id, key)
        return tx.list_flips(check.id, start, end, limit)
