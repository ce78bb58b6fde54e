"""Keyword filtering, as Healthchecks does it (pure): a check may decide a ping's kind
from words in its body instead of from its URL.

With ``filter_http_body`` on, an HTTP ping whose body contains one of ``failure_kw`` is
a failure, else one of ``success_kw`` a success, else one of ``start_kw`` a start; a
body with none of them is a failure with ``filter_default_fail``, and is otherwise
ignored (recorded as "ign", the check does not move). Keywords are comma-separated,
surrounding spaces trimmed, matched as case-sensitive substrings. ``filter_subject`` and
``filter_body`` are the same for email pings, which srvpulse does not receive: they are
stored and shown, and change nothing.
"""

from __future__ import annotations

from .model import Check, PingKind


def matches(text: str, keywords: str) -> bool:
    """Whether ``text`` contains one of the comma-separated ``keywords``."""
    return any(word and word in text for word in (k.strip() for k in keywords.split(",")))


def filtered_kind(check: Check, kind: PingKind, body: str) -> PingKind | None:
    """The kind an HTTP ping with ``body`` counts as for ``check`` (``kind`` is what its
    URL says); None when keyword filtering ignores it."""
    if not check.filter_http_body:
        return kind
    if check.failure_kw and matches(body, check.failure_kw):
        return PingKind.FAIL
    if check.success_kw and matches(body, check.success_kw):
        return PingKind.SUCCESS
    if check.start_kw and matches(body, check.start_kw):
        return PingKind.START
    return PingKind.FAIL if check.filter_default_fail else None
