"""Maintenance windows: while one is open, checks do not alert (domain.rules). CRUD for
the management API; the analyzer reads windows itself (AnalyzerStore.load)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..domain.model import utc
from ..domain.rules import MaintenanceWindow, validate_window
from ..errors import InvalidInput, NotFound
from ..ports import MaintenanceStore


@dataclass(frozen=True, slots=True)
class WindowView:
    window: MaintenanceWindow
    check_uuid: str | None
    open_until: datetime | None  # when it closes, if it is open now


def _view(store: MaintenanceStore, w: MaintenanceWindow, now: datetime) -> WindowView:
    check_uuid = store.check_uuid_by_id(w.check_id) if w.check_id is not None else None
    return WindowView(w, check_uuid, w.open_until(now))


def list_windows(store: MaintenanceStore, project_id: int, now: datetime) -> list[WindowView]:
    return [_view(store, w, now) for w in store.list_windows(project_id)]


def get_window(store: MaintenanceStore, project_id: int, uuid: str, now: datetime) -> WindowView:
    w = store.get_window(project_id, uuid)
    if w is None:
        raise NotFound("no such maintenance window")
    return _view(store, w, now)


def create_window(
    store: MaintenanceStore,
    project_id: int,
    now: datetime,
    *,
    name: str = "",
    check_uuid: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    schedule: str = "",
    duration: int = 0,
    tz: str = "UTC",
) -> WindowView:
    """A one-off window (``starts_at``..``ends_at``) or a recurring one (cron
    ``schedule`` in ``tz`` + ``duration`` seconds), for one check or (no ``check_uuid``)
    every check of the project. Errors name the field."""
    starts_at = utc(starts_at) if starts_at is not None else None
    ends_at = utc(ends_at) if ends_at is not None else None
    expr = validate_window(
        starts_at=starts_at, ends_at=ends_at, schedule=schedule, duration=duration, tz=tz
    )
    check_id = None
    if check_uuid:
        check_id = store.check_id_by_uuid(project_id, check_uuid)
        if check_id is None:
            raise InvalidInput("check: no such check in this project", "check")
    if len(name) > 100:
        raise InvalidInput("name: at most 100 characters", "name")
    window = MaintenanceWindow(
        id=0,
        project_id=project_id,
        check_id=check_id,
        name=name,
        starts_at=None if expr else starts_at,
        ends_at=None if expr else ends_at,
        schedule=expr,
        duration=duration if expr else 0,
        tz=tz,
    )
    return _view(store, store.add_window(window, now), now)


def delete_window(store: MaintenanceStore, project_id: int, uuid: str, now: datetime) -> WindowView:
    """Delete a window; alerts it was holding back are looked at on the next pass."""
    view = get_window(store, project_id, uuid, now)
    store.delete_window(project_id, uuid, now)
    return view
