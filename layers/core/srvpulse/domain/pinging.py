"""The ping protocol: one HTTP request -> one PingMessage (pure; no I/O, no clock).

Compatible with the Healthchecks.io pinging API, so existing scripts work unchanged:

    /<uuid>                 success          /<ping_key>/<slug>            success
    /<uuid>/start           start            /<ping_key>/<slug>/start      start
    /<uuid>/fail            failure          /<ping_key>/<slug>/fail       failure
    /<uuid>/log             log (no state)   /<ping_key>/<slug>/log        log
    /<uuid>/<0-255>         exit status      /<ping_key>/<slug>/<0-255>    exit status

(paths are relative to the ping base, ``/ping/`` locally), ``?rid=<uuid>`` pairs a start
with its completion, ``?create=1`` auto-provisions a check for an unknown slug (ignored on
uuid URLs). GET, HEAD
and POST are accepted; the request body (first ``MAX_REPORT_BYTES``) is the report.

srvpulse extension: on the success, fail and start forms, a body sent with
``Content-Type: application/json`` that is an object with only the keys ``status``,
``summary`` and ``report`` is a *completion body*: ``status`` ("success", "fail" or an
exit status 0-255) decides the outcome, ``summary`` is a one-line summary, ``report`` the
job's output. Any other body is stored verbatim as the report, so a job that happens to
print JSON is never misread. Text that cannot be stored (bytes that are not UTF-8, a lone
surrogate spelled as a JSON escape) becomes U+FFFD, the mark of a replaced character, so
every accepted ping can be stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..errors import InvalidInput, NotFound
from .model import MAX_REPORT_BYTES, PingKind, PingMessage

ALLOWED_METHODS = frozenset({"GET", "HEAD", "POST"})
# Healthchecks keeps the first 200 characters of the user agent; so do we.
MAX_USER_AGENT_CHARS = 200
MAX_SUMMARY_CHARS = 500
# A completion body may be larger than the report limit (JSON escaping inflates it);
# beyond this it is not parsed and is kept, cut, as a plain report.
MAX_COMPLETION_BODY_BYTES = 4 * MAX_REPORT_BYTES
MAX_EXIT_STATUS = 255

_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# Ping keys are URL-safe tokens; slugs are a-z, 0-9, hyphens and underscores (Healthchecks
# also accepts upper case in the URL, which then simply matches no check).
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SLUG_RE = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_EXIT_RE = re.compile(r"^[0-9]{1,10}$")
# A JSON string may spell a lone UTF-16 surrogate ("\ud83d"): Python decodes it, but no
# database (nor UTF-8) can store it, so it becomes U+FFFD like any undecodable byte.
_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_ACTIONS = {"start": PingKind.START, "fail": PingKind.FAIL, "log": PingKind.LOG}
_COMPLETION_KEYS = frozenset({"status", "summary", "report"})


@dataclass(slots=True)
class PingRequest:
    """An HTTP request to a ping URL, as any entry point sees it.

    Not frozen, unlike the other domain types, for the reason PingMessage is not (one is
    built for every ping); nothing changes a request once it is built.

    ``path`` is relative to the ping base (``<uuid>/start``, no leading ``/ping/``);
    ``headers`` have lower-case names; ``query`` holds the first value of each parameter.
    """

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    remote_addr: str = ""
    scheme: str = "http"


def behind_proxy(request: PingRequest, trusted: frozenset[str]) -> PingRequest:
    """``request`` as the client sent it, when it came through a trusted proxy: the first
    address of X-Forwarded-For (as Healthchecks records it; an ``ipv4:port`` loses its
    port) and the scheme of X-Forwarded-Proto. ``trusted`` holds proxy addresses, or "*"
    for any peer (a server reachable only through its proxy). Others are left alone, so a
    client cannot choose the address it is recorded with."""
    if not trusted or ("*" not in trusted and request.remote_addr not in trusted):
        return request
    forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
    if forwarded.count(".") == 3 and forwarded.count(":") == 1:
        forwarded = forwarded.split(":")[0]
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return replace(
        request,
        remote_addr=forwarded or request.remote_addr,
        scheme=proto if proto in ("http", "https") else request.scheme,
    )


# What a ping URL names: (kind, check_uuid, ping_key, slug, exit_status). A plain
# tuple: one is made for every ping, and a NamedTuple's __new__ (Python code) cost
# 4 900 instructions of _parse_path's 12 700 (a frozen dataclass three times that).
_Target = tuple[PingKind, str | None, str | None, str | None, int | None]


def parse_ping(request: PingRequest, ping_id: str, received_at: datetime) -> PingMessage:
    """Turn ``request`` into the PingMessage the edge enqueues.

    Raises InvalidInput with a one-line reason (shown to the caller with a 400) when the
    URL, the query or a completion body is malformed, and NotFound ("not found", a 404)
    for a path that is no ping URL at all, as Healthchecks answers.
    """
    method = request.method.upper()
    if method not in ALLOWED_METHODS:
        raise InvalidInput(f"method {method} is not allowed: use GET, HEAD or POST", "method")
    url_kind, check_uuid, ping_key, slug, exit_status = _parse_path(request.path)
    rid = _parse_rid(request.query.get("rid"))
    # Like Healthchecks, create=1 means something on slug URLs only; a uuid URL ignores it
    # (a script that always appends it must not lose its pings).
    create = request.query.get("create") == "1" and slug is not None

    kind = url_kind
    summary: str | None = None
    body, truncated = _cut(request.body)
    completion = _completion_body(request, url_kind, exit_status)
    if completion is not None:
        kind, exit_status, summary, body, truncated = _apply_completion(
            completion, url_kind, exit_status
        )

    # Positional, in field order (see PingMessage): 16 keyword arguments cost 7 700
    # instructions a ping to match, the message itself 4 500.
    return PingMessage(
        ping_id,
        received_at,
        kind,
        check_uuid,
        ping_key,
        slug,
        create,
        exit_status,
        rid,
        method,
        request.scheme if request.scheme in ("http", "https") else "http",  # scheme
        request.remote_addr[:45],  # remote_addr: the longest textual IPv6 address
        request.headers.get("user-agent", "")[:MAX_USER_AGENT_CHARS],  # user_agent
        body,
        truncated,  # body_truncated
        summary,
    )


def _not_found() -> NotFound:
    # Healthchecks' answer for a path that is not a ping URL (no route matches it).
    return NotFound("not found")


def _parse_path(path: str) -> _Target:
    """The target and action of a ping URL. Like Healthchecks: a path that is not a ping
    URL (not a uuid, not ``<ping_key>/<slug>``, an unknown action) is NotFound (404); an
    exit status over 255 or a slug with upper case is InvalidInput (400)."""
    parts = path.strip("/").split("/")
    head = parts[0]
    if _UUID_RE.match(head):
        kind, exit_status = _parse_action(parts[1:])
        return kind, head.lower(), None, None, exit_status
    if len(parts) >= 2 and _KEY_RE.match(head) and _SLUG_RE.match(parts[1]):
        slug = parts[1]
        if slug != slug.lower():
            raise InvalidInput("invalid slug: slugs are lower case (a-z, 0-9, - and _)", "slug")
        kind, exit_status = _parse_action(parts[2:])
        return kind, None, head, slug, exit_status
    raise _not_found()


def _parse_action(rest: list[str]) -> tuple[PingKind, int | None]:
    if not rest:
        return PingKind.SUCCESS, None
    if len(rest) > 1:
        raise _not_found()
    action = rest[0]
    if action in _ACTIONS:
        return _ACTIONS[action], None
    if action.isascii() and action.isdigit():
        if not _EXIT_RE.match(action) or int(action) > MAX_EXIT_STATUS:
            raise InvalidInput("exit status must be between 0 and 255", "exit_status")
        status = int(action)
        return PingKind.SUCCESS if status == 0 else PingKind.FAIL, status
    raise _not_found()


def _parse_rid(value: str | None) -> str | None:
    if value is None:
        return None
    if not _UUID_RE.match(value):
        raise InvalidInput("invalid rid: must be a uuid", "rid")
    return value.lower()


def _cut(data: bytes) -> tuple[str, bool]:
    """The first MAX_REPORT_BYTES of ``data`` as text, and whether it was cut.

    The cut backs off to a UTF-8 character boundary so a multi-byte character is never
    split; bytes that are not UTF-8 become U+FFFD rather than failing the ping.
    """
    if len(data) <= MAX_REPORT_BYTES:
        return data.decode("utf-8", "replace"), False
    end = MAX_REPORT_BYTES
    # Continuation bytes are 0b10xxxxxx: step back to the start of the split character.
    while end > MAX_REPORT_BYTES - 4 and (data[end] & 0xC0) == 0x80:
        end -= 1
    return data[:end].decode("utf-8", "replace"), True


def _cut_text(text: str) -> tuple[str, bool]:
    return _cut(storable(text).encode("utf-8"))


def storable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (see ``_LONE_SURROGATE_RE``)."""
    return _LONE_SURROGATE_RE.sub("\ufffd", text)


def _completion_body(
    request: PingRequest, url_kind: PingKind, exit_status: int | None
) -> dict[str, object] | None:
    """The JSON completion body, if this request carries one (see the module docstring)."""
    if url_kind is PingKind.LOG or exit_status is not None:
        return None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" or not request.body:
        return None
    if len(request.body) > MAX_COMPLETION_BODY_BYTES:
        return None
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # Not JSON we can read (RecursionError: nested thousands deep): a plain report.
        return None
    if not isinstance(data, dict) or not data or not set(data) <= _COMPLETION_KEYS:
        return None
    return data


def _apply_completion(
    data: dict[str, object], url_kind: PingKind, exit_status: int | None
) -> tuple[PingKind, int | None, str | None, str, bool]:
    kind = url_kind
    status = data.get("status")
    if status is not None:
        if url_kind is PingKind.START:
            raise InvalidInput("status is not allowed on a start ping", "status")
        if status == "success":
            kind, exit_status = PingKind.SUCCESS, None
        elif status == "fail":
            kind, exit_status = PingKind.FAIL, None
        elif isinstance(status, int) and not isinstance(status, bool):
            if not 0 <= status <= MAX_EXIT_STATUS:
                raise InvalidInput("status must be between 0 and 255", "status")
            kind, exit_status = (PingKind.SUCCESS if status == 0 else PingKind.FAIL), status
        else:
            raise InvalidInput('status must be "success", "fail" or 0-255', "status")
        if url_kind is PingKind.FAIL and kind is PingKind.SUCCESS:
            raise InvalidInput("status says success on a /fail URL", "status")

    summary = data.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise InvalidInput("summary must be a string", "summary")
    report = data.get("report", "")
    if not isinstance(report, str):
        raise InvalidInput("report must be a string", "report")
    if summary is not None:
        # One line: a summary is shown in lists and alert subjects.
        summary = " ".join(storable(summary).split())[:MAX_SUMMARY_CHARS]
    body, truncated = _cut_text(report)
    return kind, exit_status, summary, body, truncated
