"""What a database error means for the caller, as a service error: the API's one error
policy (chalicelib/http.py) asks here (through bootstrap) about any exception a route
let through, so no route has to catch SQLAlchemy errors itself.

- a unique constraint another row holds -> Conflict (409) naming the field, e.g.
  "slug: another check has this slug" (SQLite names the columns, MySQL the constraint;
  both are looked up in the table metadata);
- any other integrity error (a row deleted meanwhile) -> Conflict, try again;
- a value the column cannot hold -> InvalidInput (400) naming the column;
- the database unreachable, gone away, locked or out of connections -> Unavailable
  (503, Retry-After).
"""

from __future__ import annotations

import re

from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ...errors import Conflict, InvalidInput, SrvpulseError, Unavailable
from .tables import metadata

RETRY_AFTER_SECONDS = 5
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w., ]+)")
_MYSQL_UNIQUE = re.compile(r"Duplicate entry .* for key '(?:\w+\.)?(?P<name>\w+)'")
_MYSQL_COLUMN = re.compile(r"(?:for|at) column '(?P<column>\w+)'")


def _noun(table: str) -> str:
    return table[:-1] if table.endswith("s") else table


def _unique_columns() -> dict[str, tuple[str, list[str]]]:
    """Unique constraint and index name -> (table, columns), from the metadata."""
    found: dict[str, tuple[str, list[str]]] = {}
    for table in metadata.tables.values():
        for constraint in table.constraints:
            columns = [c.name for c in getattr(constraint, "columns", [])]
            if constraint.name and columns and constraint.__visit_name__ == "unique_constraint":
                found[str(constraint.name)] = (table.name, columns)
        for index in table.indexes:
            if index.unique and index.name:
                found[str(index.name)] = (table.name, [c.name for c in index.columns])
    return found


def _taken(table: str, columns: list[str]) -> Conflict:
    # The field is the column a user chose; the others scope it (project_id, user_id...).
    chosen = [c for c in columns if c != "id" and not c.endswith("_id")] or columns
    field = chosen[-1]
    return Conflict(f"{field}: another {_noun(table)} has this {field}", field)


def integrity_conflict(exc: IntegrityError) -> Conflict:
    """The Conflict an integrity error stands for, naming the field when it is a unique
    value another row holds."""
    text = str(exc.orig)
    m = _SQLITE_UNIQUE.search(text)
    if m:
        pairs = [part.strip().split(".", 1) for part in m.group("columns").split(",")]
        if all(len(p) == 2 for p in pairs):
            return _taken(pairs[0][0], [p[1] for p in pairs])
    m = _MYSQL_UNIQUE.search(text)
    if m and m.group("name") in _unique_columns():
        return _taken(*_unique_columns()[m.group("name")])
    return Conflict("this change collides with another one made at the same time; try again")


def service_error(exc: BaseException) -> SrvpulseError | None:
    """The service error ``exc`` stands for, or None when it is not a database error
    the caller can act on (then it is a bug)."""
    if isinstance(exc, IntegrityError):
        return integrity_conflict(exc)
    if isinstance(exc, DataError):
        m = _MYSQL_COLUMN.search(str(exc.orig))
        field = m.group("column") if m else None
        return InvalidInput(f"{field or 'a value'}: too long or out of range", field)
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return Unavailable(
            "the database is unavailable; try again shortly", retry_after=RETRY_AFTER_SECONDS
        )
    return None
