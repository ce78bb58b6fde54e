"""``Check.with_changes``: the copy every state change of a check goes through."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields, replace
from datetime import UTC, datetime

import pytest
from srvpulse.domain.model import Check, Status

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_a_copy_has_the_changes_and_leaves_the_check_as_it_was() -> None:
    check = Check(id=7, uuid="u", project_id=1, name="backup", n_pings=3, last_ping=T0)
    moved = check.with_changes(status=Status.UP, n_pings=4)
    assert (moved.status, moved.n_pings, moved.name, moved.last_ping) == (
        Status.UP,
        4,
        "backup",
        T0,
    )
    assert (check.status, check.n_pings) == (Status.NEW, 3)
    assert moved == replace(check, status=Status.UP, n_pings=4)
    assert [getattr(moved, f.name) for f in fields(Check)] == [
        getattr(replace(check, status=Status.UP, n_pings=4), f.name) for f in fields(Check)
    ]


def test_a_copy_is_still_frozen_and_refuses_unknown_fields() -> None:
    moved = Check(id=7, uuid="u", project_id=1).with_changes(n_pings=1)
    with pytest.raises(FrozenInstanceError):
        moved.n_pings = 2  # type: ignore[misc]
    with pytest.raises(TypeError, match="n_ping"):
        moved.with_changes(n_ping=2)


def test_a_check_made_from_all_its_fields_is_the_check_init_would_make() -> None:
    check = Check(id=7, uuid="u", project_id=1, name="backup", last_ping=T0, status=Status.UP)
    values = {f.name: getattr(check, f.name) for f in fields(Check)}
    made = Check.from_fields(values)
    assert made == check
    with pytest.raises(FrozenInstanceError):
        made.name = "other"  # type: ignore[misc]
    # Not every field: __init__ fills in the defaults (and refuses unknown ones).
    assert Check.from_fields({"id": 7, "uuid": "u", "project_id": 1}) == Check(7, "u", 1)
    with pytest.raises(TypeError):
        Check.from_fields({**values, "colour": "red"})
