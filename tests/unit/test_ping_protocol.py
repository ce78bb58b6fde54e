"""The ping protocol (Healthchecks-compatible URLs + srvpulse completion bodies): pure
parsing, table-driven."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from srvpulse.domain.model import MAX_REPORT_BYTES, PingKind, PingMessage
from srvpulse.domain.pinging import PingRequest, parse_ping
from srvpulse.errors import InvalidInput, NotFound

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
UUID = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"
RID = "0a1b2c3d-0000-4000-8000-000000000001"
KEY = "fJ8v2kQ0aZ3xR5tY7uW9bC"
JSON_CT = {"content-type": "application/json"}


def ping(path: str, method: str = "GET", **kw: Any) -> PingMessage:
    return parse_ping(PingRequest(method=method, path=path, **kw), "ping-1", NOW)


@pytest.mark.parametrize(
    ("path", "kind", "exit_status"),
    [
        (UUID, PingKind.SUCCESS, None),
        (f"{UUID}/", PingKind.SUCCESS, None),
        (f"{UUID}/start", PingKind.START, None),
        (f"{UUID}/fail", PingKind.FAIL, None),
        (f"{UUID}/log", PingKind.LOG, None),
        (f"{UUID}/0", PingKind.SUCCESS, 0),
        (f"{UUID}/1", PingKind.FAIL, 1),
        (f"{UUID}/255", PingKind.FAIL, 255),
    ],
)
def test_every_uuid_url_form_maps_to_its_ping_kind(
    path: str, kind: PingKind, exit_status: int | None
) -> None:
    message = ping(path)
    assert (message.kind, message.exit_status, message.check_uuid) == (kind, exit_status, UUID)
    assert message.ping_key is None and message.slug is None


@pytest.mark.parametrize(
    ("suffix", "kind", "exit_status"),
    [
        ("", PingKind.SUCCESS, None),
        ("/start", PingKind.START, None),
        ("/fail", PingKind.FAIL, None),
        ("/log", PingKind.LOG, None),
        ("/42", PingKind.FAIL, 42),
        ("/0", PingKind.SUCCESS, 0),
    ],
)
def test_every_slug_url_form_names_the_ping_key_and_slug(
    suffix: str, kind: PingKind, exit_status: int | None
) -> None:
    message = ping(f"{KEY}/nightly-backup{suffix}")
    assert (message.ping_key, message.slug, message.check_uuid) == (KEY, "nightly-backup", None)
    assert (message.kind, message.exit_status) == (kind, exit_status)


def test_an_upper_case_uuid_is_accepted_and_stored_in_lower_case() -> None:
    assert ping(UUID.upper()).check_uuid == UUID


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (f"{UUID}/256", "exit status must be between 0 and 255"),
        (f"{UUID}/99999999999", "exit status must be between 0 and 255"),
        (f"{KEY}/nightly/1000", "exit status must be between 0 and 255"),
        (f"{KEY}/Nightly", "slugs are lower case"),
        (f"{KEY}/NIGHTLY/start", "slugs are lower case"),
    ],
)
def test_a_malformed_url_is_rejected_with_a_one_line_reason(path: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as info:
        ping(path)
    assert reason in info.value.message
    assert "\n" not in info.value.message


@pytest.mark.parametrize(
    "path",
    [
        "",
        "not-a-uuid",
        "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea27z",
        f"{UUID}/-1",
        f"{UUID}/restart",
        f"{UUID}/start/now",
        f"{KEY}/bad.slug",
        f"{KEY}/nightly/start/x",
        "bad$key/nightly",
    ],
)
def test_a_path_that_is_no_ping_url_is_not_found_as_in_healthchecks(path: str) -> None:
    with pytest.raises(NotFound) as info:
        ping(path)
    assert info.value.message == "not found"


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "post"])
def test_get_head_and_post_are_accepted_and_recorded(method: str) -> None:
    assert ping(UUID, method=method).method == method.upper()


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_rejected(method: str) -> None:
    with pytest.raises(InvalidInput, match="not allowed"):
        ping(UUID, method=method)


def test_a_run_id_pairs_start_and_completion() -> None:
    assert ping(f"{UUID}/start", query={"rid": RID}).rid == RID
    assert ping(UUID, query={"rid": RID.upper()}).rid == RID


def test_a_malformed_run_id_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="invalid rid") as info:
        ping(UUID, query={"rid": "123"})
    assert info.value.field == "rid"


def test_create_1_asks_for_auto_provisioning_on_slug_urls_only() -> None:
    assert ping(f"{KEY}/new-job", query={"create": "1"}).create is True
    assert ping(f"{KEY}/new-job", query={"create": "0"}).create is False


def test_create_1_on_a_uuid_url_is_ignored_like_healthchecks_does() -> None:
    message = ping(f"{UUID}/fail", query={"create": "1"})
    assert (message.check_uuid, message.kind, message.create) == (UUID, PingKind.FAIL, False)


def test_the_request_details_are_recorded() -> None:
    message = ping(
        UUID,
        method="POST",
        headers={"user-agent": "curl/8.5.0"},
        remote_addr="203.0.113.9",
        scheme="https",
        body=b"backup done: 12 GB",
    )
    assert message.ping_id == "ping-1" and message.received_at == NOW
    assert (message.user_agent, message.remote_addr, message.scheme) == (
        "curl/8.5.0",
        "203.0.113.9",
        "https",
    )
    assert (message.body, message.body_truncated, message.summary) == (
        "backup done: 12 GB",
        False,
        None,
    )


def test_a_long_user_agent_is_cut_to_200_characters() -> None:
    assert len(ping(UUID, headers={"user-agent": "x" * 1000}).user_agent) == 200


def test_a_body_over_100_kb_is_cut_and_marked_truncated() -> None:
    message = ping(UUID, method="POST", body=b"a" * (MAX_REPORT_BYTES + 10))
    assert len(message.body) == MAX_REPORT_BYTES and message.body_truncated


def test_a_body_of_exactly_100_kb_is_kept_whole() -> None:
    message = ping(UUID, method="POST", body=b"a" * MAX_REPORT_BYTES)
    assert len(message.body) == MAX_REPORT_BYTES and not message.body_truncated


def test_the_cut_never_splits_a_multibyte_character() -> None:
    body = ("é" * MAX_REPORT_BYTES).encode()  # 2 bytes each; the limit falls mid-text
    message = ping(UUID, method="POST", body=body[1:])  # odd offset: the cut splits one
    assert message.body_truncated
    assert "\ufffd" not in message.body[1:]
    assert len(message.body[1:].encode()) <= MAX_REPORT_BYTES


def test_a_body_that_is_not_utf8_is_kept_with_replacement_characters() -> None:
    assert ping(UUID, method="POST", body=b"ok \xff\xfe end").body == "ok \ufffd\ufffd end"


@pytest.mark.parametrize(
    ("path", "body", "kind", "exit_status"),
    [
        (UUID, {"status": "success"}, PingKind.SUCCESS, None),
        (UUID, {"status": "fail"}, PingKind.FAIL, None),
        (UUID, {"status": 0}, PingKind.SUCCESS, 0),
        (UUID, {"status": 3}, PingKind.FAIL, 3),
        (UUID, {"summary": "12 GB"}, PingKind.SUCCESS, None),
        (f"{UUID}/fail", {"status": "fail"}, PingKind.FAIL, None),
        (f"{UUID}/fail", {"status": 2}, PingKind.FAIL, 2),
        (f"{UUID}/fail", {"report": "trace"}, PingKind.FAIL, None),
        (f"{UUID}/start", {"summary": "starting"}, PingKind.START, None),
        (f"{KEY}/nightly", {"status": 1}, PingKind.FAIL, 1),
    ],
)
def test_a_json_completion_body_sets_status_summary_and_report(
    path: str, body: dict[str, Any], kind: PingKind, exit_status: int | None
) -> None:
    message = ping(path, method="POST", headers=JSON_CT, body=json.dumps(body).encode())
    assert (message.kind, message.exit_status) == (kind, exit_status)
    assert message.summary == body.get("summary")
    assert message.body == body.get("report", "")


def test_a_summary_is_one_line() -> None:
    body = json.dumps({"summary": "line one\n  line two\t", "report": "x\ny"}).encode()
    message = ping(UUID, method="POST", headers=JSON_CT, body=body)
    assert (message.summary, message.body) == ("line one line two", "x\ny")


def test_a_report_in_a_completion_body_is_cut_at_100_kb() -> None:
    body = json.dumps({"status": "success", "report": "r" * (MAX_REPORT_BYTES + 1)}).encode()
    message = ping(UUID, method="POST", headers=JSON_CT, body=body)
    assert len(message.body) == MAX_REPORT_BYTES and message.body_truncated


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        # Not JSON content: whatever the job printed is its report.
        (UUID, {}, '{"status": "fail"}'),
        (UUID, {"content-type": "text/plain"}, '{"status": "fail"}'),
        # JSON, but not a completion body: other keys, not an object, not valid JSON.
        (UUID, JSON_CT, '{"status": "fail", "rows": 3}'),
        (UUID, JSON_CT, '["fail"]'),
        (UUID, JSON_CT, "{not json"),
        (UUID, JSON_CT, "{}"),
        # The log and exit-status forms never read a completion body.
        (f"{UUID}/log", JSON_CT, '{"status": "fail"}'),
        (f"{UUID}/0", JSON_CT, '{"status": "fail"}'),
    ],
)
def test_any_other_body_is_stored_verbatim_as_the_report(
    path: str, headers: dict[str, str], body: str
) -> None:
    message = ping(path, method="POST", headers=headers, body=body.encode())
    assert message.body == body and message.summary is None
    assert message.kind is not PingKind.FAIL or path.endswith("/fail")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (UUID, {"status": "maybe"}, "status"),
        (UUID, {"status": 256}, "status"),
        (UUID, {"status": -1}, "status"),
        (UUID, {"status": True}, "status"),
        (UUID, {"summary": 5}, "summary"),
        (UUID, {"report": ["a"]}, "report"),
        (f"{UUID}/fail", {"status": "success"}, "status"),
        (f"{UUID}/fail", {"status": 0}, "status"),
        (f"{UUID}/start", {"status": "success"}, "status"),
    ],
)
def test_a_malformed_completion_body_is_rejected_naming_the_field(
    path: str, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        ping(path, method="POST", headers=JSON_CT, body=json.dumps(body).encode())
    assert info.value.field == field


def test_a_json_content_type_with_charset_is_understood() -> None:
    headers = {"content-type": "application/json; charset=utf-8"}
    message = ping(UUID, method="POST", headers=headers, body=b'{"status": "fail"}')
    assert message.kind is PingKind.FAIL


def test_the_message_round_trips_through_the_queue_format() -> None:
    message = ping(f"{KEY}/nightly/3", query={"rid": RID, "create": "1"}, body=b"out")
    assert PingMessage.from_json(message.to_json()) == message


def test_the_queue_format_holds_every_field_of_the_message_in_field_order() -> None:
    # No field may be left out of to_json (it is written field by field, for speed):
    # one with a non-default value in every field comes back whole.
    message = PingMessage(
        ping_id="p-1",
        received_at=datetime(2026, 12, 1, 22, 0, 0, 123456, tzinfo=UTC),
        kind=PingKind.FAIL,
        check_uuid="c",
        ping_key="k",
        slug="s",
        create=True,
        exit_status=3,
        rid="r",
        method="POST",
        scheme="https",
        remote_addr="10.0.0.1",
        user_agent="curl",
        body="out",
        body_truncated=True,
        summary="sum",
    )
    text = message.to_json()
    assert list(json.loads(text)) == [f.name for f in dataclasses.fields(PingMessage)]
    assert PingMessage.from_json(text) == message
    assert json.loads(text)["received_at"] == "2026-12-01T22:00:00.123456+00:00"


@pytest.mark.parametrize(
    "text",
    ["", 'say "hi"\\ \n\t\x00\x1f', "caf\u00e9 \u2028 \U0001f600", "lone \ud83d", "</script>"],
)
@pytest.mark.parametrize("exit_status", [None, 0, 255])
def test_the_queue_format_is_the_text_json_dumps_gives(text: str, exit_status: int | None) -> None:
    message = PingMessage(
        ping_id=text,
        received_at=datetime(2026, 12, 1, 23, 0, tzinfo=UTC),
        kind=PingKind.LOG,
        check_uuid=None if exit_status is None else text,
        exit_status=exit_status,
        remote_addr=text,
        user_agent=text,
        body=text,
        summary=text or None,
    )
    fields = {f.name: getattr(message, f.name) for f in dataclasses.fields(PingMessage)}
    fields["received_at"] = "2026-12-01T23:00:00+00:00"
    assert message.to_json() == json.dumps(fields, separators=(",", ":"))


@pytest.mark.parametrize(
    "body",
    [
        b'{"status":"fail","summary":"ok \\ud83d"}',
        b'{"status":"fail","summary":"ok \\udc00","report":"tail \\ud800"}',
    ],
)
def test_a_lone_surrogate_in_a_completion_body_becomes_a_replacement_character(
    body: bytes,
) -> None:
    # The failure still counts: refusing it, or storing it, would lose the report.
    message = ping(UUID, method="POST", headers=JSON_CT, body=body)
    assert message.kind is PingKind.FAIL and message.summary == "ok \ufffd"
    assert message.body in ("", "tail \ufffd")
    message.to_json().encode("utf-8")
    json.dumps(PingMessage.from_json(message.to_json()).body, ensure_ascii=False).encode()


def test_json_nested_too_deep_to_read_is_kept_as_the_report() -> None:
    body = b'{"a":' * 5000
    message = ping(UUID, method="POST", headers=JSON_CT, body=body)
    assert (message.kind, message.body) == (PingKind.SUCCESS, body.decode())


@pytest.mark.parametrize(
    ("field", "raw", "value"),
    [
        ("summary", '"lone \\ud800"', "lone \ud800"),  # orjson refuses it; json reads it
        ("summary", '"caf\\u00e9 \\u2713"', "caf\u00e9 \u2713"),
        ("exit_status", "123456789012345678901234567890", 123456789012345678901234567890),
        ("exit_status", "7", 7),
    ],
)
def test_a_queued_message_reads_as_the_json_module_reads_it(
    field: str, raw: str, value: object
) -> None:
    # Ingest decodes through orjson where it agrees with json, and through json where
    # not: a lone surrogate (a ping that is then unstorable, not poison), a huge integer
    # (orjson would make it a float).
    text = PingMessage(
        ping_id="p", received_at=datetime(2026, 3, 1, tzinfo=UTC), kind=PingKind.SUCCESS
    ).to_json()
    text = text.replace(f'"{field}":null', f'"{field}":{raw}')
    decoded = PingMessage.from_json(text)
    assert getattr(decoded, field) == value and type(getattr(decoded, field)) is type(value)
