"""Keyword filtering (domain/keywords.py): the kind a ping body gives, as Healthchecks."""

from __future__ import annotations

import pytest
from srvpulse.domain.keywords import filtered_kind, matches
from srvpulse.domain.model import Check, PingKind

FILTERING = Check(
    id=1,
    uuid="5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278",
    project_id=1,
    filter_http_body=True,
    start_kw="starting",
    success_kw="all good, done",
    failure_kw="error,  something bad",
)


@pytest.mark.parametrize(
    ("body", "url_kind", "expected"),
    [
        ("backup: something bad happened", PingKind.SUCCESS, PingKind.FAIL),
        ("error and done", PingKind.SUCCESS, PingKind.FAIL),  # failure words win
        ("done in 3 s", PingKind.FAIL, PingKind.SUCCESS),
        ("starting the backup", PingKind.SUCCESS, PingKind.START),
        ("nothing to report", PingKind.SUCCESS, None),
        ("Error (capital E)", PingKind.SUCCESS, None),  # case-sensitive, like Healthchecks
        ("", PingKind.LOG, None),
    ],
)
def test_the_body_decides_the_kind_when_filtering_is_on(
    body: str, url_kind: PingKind, expected: PingKind | None
) -> None:
    assert filtered_kind(FILTERING, url_kind, body) is expected


def test_without_a_keyword_a_ping_fails_with_filter_default_fail() -> None:
    strict = FILTERING.with_changes(filter_default_fail=True)
    assert filtered_kind(strict, PingKind.SUCCESS, "nothing to report") is PingKind.FAIL


def test_with_filtering_off_the_url_decides() -> None:
    off = FILTERING.with_changes(filter_http_body=False, filter_subject=True, filter_body=True)
    assert filtered_kind(off, PingKind.SUCCESS, "something bad") is PingKind.SUCCESS


def test_keywords_are_comma_separated_and_trimmed() -> None:
    assert matches("disk full", " nope ,disk ")
    assert not matches("disk full", " , ,")
