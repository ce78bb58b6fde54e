"""Writes of many rows in one statement, for ingest's and the analyzer's batches.

SQLite runs in the process, so an executemany of the plain statement costs no round
trips and is the fastest there; ``update_rows`` hands it to the driver with the values
already bound (SQLAlchemy's own executemany builds a parameter dict per row, a third
of an analyzer pass's writes). On MySQL every statement is a round trip (pymysql's
executemany sends UPDATEs and DELETEs one by one), which made one conditional UPDATE
per check the largest cost of a batch; these helpers send one statement per
``CHUNK`` rows instead:

- ``update_rows``: ``UPDATE t JOIN (SELECT ... UNION ALL SELECT ...) AS v ON <match>
  SET t.col = v.col, ...``. A multi-table UPDATE only ever changes rows that exist (an
  upsert such as ``INSERT ... ON DUPLICATE KEY UPDATE`` would bring back a row another
  transaction deleted), and the match can include a version guard.
- ``delete_up_to``: ``DELETE ... WHERE (k = ? AND n <= ?) OR (k = ? AND n <= ?) ...``,
  one index range per key.

Values go through each column's own bind processing (aware datetimes become naive UTC,
as ``UTCDateTime`` stores them), so the rows are what ``execute()`` would have written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete

CHUNK = 500  # rows per statement: well inside max_allowed_packet for checks rows


def _chunks(rows: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


def _processors(
    conn: Connection, table: Table, columns: Sequence[str]
) -> list[Callable[[Any], Any] | None]:
    dialect = conn.dialect
    return [table.c[c].type.bind_processor(dialect) for c in columns]


def _processed(
    row: Mapping[str, Any],
    keys: Sequence[str],
    procs: Sequence[Callable[[Any], Any] | None],
) -> list[Any]:
    out = []
    for key, proc in zip(keys, procs, strict=True):
        value = row[key]
        out.append(proc(value) if proc is not None and value is not None else value)
    return out


def update_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    match: Mapping[str, str],
) -> int:
    """Update existing rows of ``table``. ``match`` maps the columns that pick a row
    (and any guard, e.g. ``version``) to the row key holding their value; every other
    key of a row is a column to set. All rows have the same keys. Returns how many rows
    matched (a guard that failed does not count)."""
    if not rows:
        return 0
    pairs = tuple(match.items())
    match_keys = set(match.values())
    sets = [k for k in rows[0] if k not in match_keys]
    q = conn.dialect.identifier_preparer.quote
    if conn.dialect.name != "mysql":
        keys = sets + [key for _, key in pairs]
        procs = _processors(conn, table, sets + [col for col, _ in pairs])
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        assign = ", ".join(f"{q(col)} = {mark}" for col in sets)
        where = " AND ".join(f"{q(col)} = {mark}" for col, _ in pairs)
        sql = f"UPDATE {q(table.name)} SET {assign} WHERE {where}"  # noqa: S608
        params = [tuple(_processed(row, keys, procs)) for row in rows]
        return int(conn.exec_driver_sql(sql, params).rowcount)
    keys = [key for _, key in pairs] + sets
    columns = [col for col, _ in pairs] + sets
    procs = _processors(conn, table, columns)
    aliases = [f"v{i}" for i in range(len(keys))]
    first = "SELECT " + ", ".join(f"%s AS {a}" for a in aliases)
    other = "SELECT " + ", ".join("%s" for _ in aliases)
    on = " AND ".join(f"t.{q(col)} = v.v{i}" for i, (col, _) in enumerate(pairs))
    assign = ", ".join(f"t.{q(col)} = v.v{i + len(pairs)}" for i, col in enumerate(sets))
    matched = 0
    for part in _chunks(rows):
        derived = " UNION ALL ".join([first] + [other] * (len(part) - 1))
        # Identifiers are the tables own, quoted by the dialect; values are parameters.
        sql = f"UPDATE {q(table.name)} AS t JOIN ({derived}) AS v ON {on} SET {assign}"  # noqa: S608
        params = [value for row in part for value in _processed(row, keys, procs)]
        matched += int(conn.exec_driver_sql(sql, tuple(params)).rowcount)
    return matched


@cache
def _plain_delete(table: Table, key: str, upto: str) -> Any:
    return delete(table).where(table.c[key] == bindparam("_k"), table.c[upto] <= bindparam("_u"))


def delete_up_to(
    conn: Connection, table: Table, key: str, upto: str, limits: Mapping[Any, Any]
) -> None:
    """Delete the rows of ``table`` whose ``key`` column is a key of ``limits`` and whose
    ``upto`` column is at most that key's limit (through an index on (key, upto))."""
    if not limits:
        return
    items = list(limits.items())
    if conn.dialect.name != "mysql":
        conn.execute(_plain_delete(table, key, upto), [{"_k": k, "_u": u} for k, u in items])
        return
    q = conn.dialect.identifier_preparer.quote
    term = f"({q(key)} = %s AND {q(upto)} <= %s)"
    for part in _chunks(items):
        sql = f"DELETE FROM {q(table.name)} WHERE " + " OR ".join([term] * len(part))  # noqa: S608
        conn.exec_driver_sql(sql, tuple(v for pair in part for v in pair))
