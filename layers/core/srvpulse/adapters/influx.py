"""SeriesStore on InfluxDB's v1-compatible HTTP API: line protocol to /write, InfluxQL
on /query, over httpx.

Served alike by InfluxDB 1.x, 2.x (v1 compatibility API), 3.x and Timestream for
InfluxDB. What differs between them is only the set-up (database and retention):
``setup="v1"`` creates the database and a default retention policy ``srvpulse`` of the
configured duration (1.x, self-hosted); ``setup="none"`` leaves both to the operator
(2.x/Timestream: a bucket with its retention and a DBRP mapping; 3.x: a database with
its retention period), see docs/timeseries.md.

Points: measurement ``pings``, tag ``check_id`` (the check's uuid), microsecond
timestamps (``precision=u``): a point written twice (a redelivered ping) is the same
point, which InfluxDB overwrites. The line-protocol serializer is ours (a few lines)
rather than influxdb-client's ``Point``: importing ``Point`` loads the whole client
package (0.15-1 s here), a cold-start cost for the ingest function; a test checks
our lines against ``Point``'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ..domain.runs import SeriesPoint
from ..ports import SeriesRejected, SeriesUnavailable

MEASUREMENT = "pings"
TAG = "check_id"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
# InfluxData's advice for 1.x/2.x: batches of about 5 000 lines per write request.
# https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_tutorial/
WRITE_BATCH = 5000
_FIELDS = ("kind", "exit_status", "duration_ms", "rid", "summary", "report_bytes", "remote_addr")
_INT_FIELDS = frozenset({"exit_status", "duration_ms", "report_bytes"})
_TAG_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_STR_ESCAPES = str.maketrans({'"': r"\"", "\\": "\\\\", "\n": " ", "\r": " "})
_UUID = re.compile(r"^[0-9a-fA-F-]{1,36}$")


def micros(at: datetime) -> int:
    """Exact microseconds since the epoch (no float rounding)."""
    return (at - EPOCH) // US


def line(point: SeriesPoint) -> str:
    """One point in line protocol. String fields lose CR/LF (replaced by spaces):
    newlines in string fields are not portable across 1.x/2.x/3.x."""
    fields: list[str] = []
    for name in sorted(_FIELDS):
        value = getattr(point, name)
        if value is None:
            continue
        if name in _INT_FIELDS:
            fields.append(f"{name}={int(value)}i")
        else:
            fields.append(f'{name}="{str(value).translate(_STR_ESCAPES)}"')
    tag = point.check_uuid.translate(_TAG_ESCAPES)
    return f"{MEASUREMENT},{TAG}={tag} {','.join(fields)} {micros(point.at)}"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class InfluxSeriesStore:
    """SeriesStore over the v1 HTTP API (see the module docstring)."""

    def __init__(
        self,
        url: str,
        database: str,
        retention: timedelta,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        setup: str = "v1",
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if setup not in ("v1", "none"):
            raise ValueError(f"INFLUX_SETUP must be v1 or none, not {setup!r}")
        self.url = url.rstrip("/")
        self.database = database
        self.retention = retention
        self.setup = setup
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._client = httpx.Client(
            base_url=self.url,
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            transport=transport,
        )
        self._ready = False

    # --- HTTP -------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            resp = self._client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise SeriesUnavailable(f"InfluxDB at {self.url}: {exc!r}") from exc
        if resp.status_code >= 300:
            message = _error_of(resp)
            if resp.status_code == 404:
                self._ready = False  # database dropped under us: set it up again
            if resp.status_code == 400 and path == "/write":
                raise SeriesRejected(f"InfluxDB refused points: {message}")
            raise SeriesUnavailable(f"InfluxDB answered {resp.status_code}: {message}")
        return resp

    def _query(self, q: str, *, write: bool = False) -> list[dict[str, Any]]:
        params = {"db": self.database, "epoch": "u"}
        if write:
            resp = self._request("POST", "/query", params=params, data={"q": q})
        else:
            resp = self._request("GET", "/query", params={**params, "q": q})
        results: list[dict[str, Any]] = resp.json().get("results", [])
        for r in results:
            if "error" in r:
                raise SeriesUnavailable(f"InfluxQL error: {r['error']}")
        return results

    # --- set-up (1.x) -----------------------------------------------------------------
    def ensure_ready(self) -> None:
        """Create the database and its default retention policy (setup="v1"), once."""
        if self._ready:
            return
        if self.setup == "v1":
            db = '"' + self.database.replace('"', '\\"') + '"'
            hours = max(1, int(self.retention.total_seconds() // 3600))
            self._query(f"CREATE DATABASE {db}", write=True)
            spec = f"DURATION {hours}h REPLICATION 1 DEFAULT"
            try:
                self._query(f'CREATE RETENTION POLICY "srvpulse" ON {db} {spec}', write=True)
            except SeriesUnavailable as exc:
                if "already exists" not in str(exc):
                    raise
                self._query(f'ALTER RETENTION POLICY "srvpulse" ON {db} {spec}', write=True)
        self._ready = True

    # --- SeriesStore ------------------------------------------------------------------
    def write(self, points: Sequence[SeriesPoint]) -> None:
        self.ensure_ready()
        for i in range(0, len(points), WRITE_BATCH):
            body = "\n".join(line(p) for p in points[i : i + WRITE_BATCH])
            self._request(
                "POST",
                "/write",
                params={"db": self.database, "precision": "u"},
                content=body.encode(),
            )

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
        if not _UUID.match(check_uuid):
            return []
        self.ensure_ready()
        where = [f"{TAG} = {_literal(check_uuid)}"]
        if since is not None:
            where.append(f"time >= {micros(since) * 1000}")
        if until is not None:
            where.append(f"time < {micros(until) * 1000}")
        if kinds:
            where.append("(" + " OR ".join(f"kind = {_literal(k)}" for k in kinds) + ")")
        order = "DESC" if newest_first else "ASC"
        # InfluxQL has no bind parameters on 1.x: every value above is an integer or
        # a quoted, escaped literal of a validated uuid or a constant kind.
        q = (
            f"SELECT {', '.join(_FIELDS)} FROM {MEASUREMENT} WHERE {' AND '.join(where)}"  # noqa: S608
            f" ORDER BY time {order} LIMIT {int(limit)}"
        )
        found: list[SeriesPoint] = []
        for result in self._query(q):
            for series in result.get("series", []):
                columns = series["columns"]
                for values in series["values"]:
                    found.append(_point(check_uuid, dict(zip(columns, values, strict=True))))
        return found

    def apply_retention(self, now: datetime) -> int:
        """InfluxDB drops expired shards itself; this only makes sure the retention
        policy exists with the configured duration."""
        self.ensure_ready()
        return 0

    def drop_all(self) -> None:
        """Delete every point (tests and benches only)."""
        self.ensure_ready()
        self._query(f"DROP SERIES FROM {MEASUREMENT}", write=True)

    def close(self) -> None:
        self._client.close()


def _error_of(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    if isinstance(body, Mapping) and "error" in body:
        return str(body["error"])[:300]
    return resp.text[:300]


def _point(check_uuid: str, row: Mapping[str, Any]) -> SeriesPoint:
    def as_int(name: str) -> int | None:
        value = row.get(name)
        return None if value is None else int(value)

    return SeriesPoint(
        check_uuid=check_uuid,
        at=EPOCH + int(row["time"]) * US,
        kind=str(row.get("kind") or ""),
        exit_status=as_int("exit_status"),
        duration_ms=as_int("duration_ms"),
        rid=row.get("rid"),
        summary=row.get("summary"),
        report_bytes=as_int("report_bytes") or 0,
        remote_addr=str(row.get("remote_addr") or ""),
    )
