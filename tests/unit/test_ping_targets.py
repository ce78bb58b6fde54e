"""The edge's set of known ping targets (domain/targets.py) and its verdicts, the
in-process adapter, and X-Forwarded-* through a trusted proxy: pure, no server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from srvpulse.adapters.ping_targets import LocalPingTargets
from srvpulse.domain.model import PingKind, PingMessage
from srvpulse.domain.pinging import PingRequest, behind_proxy
from srvpulse.domain.targets import (
    TargetSet,
    Verdict,
    project_target,
    slug_target,
    uuid_target,
    verdict,
)

UUID = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"
KEY = "fJ8v2kQ0aZ3xR5tY7uW9bC"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def message(**kw: object) -> PingMessage:
    return PingMessage(ping_id="p", received_at=NOW, kind=PingKind.SUCCESS, **kw)  # type: ignore[arg-type]


def test_a_target_set_survives_encoding_and_holds_only_digests() -> None:
    targets = TargetSet.of([uuid_target(UUID), slug_target(KEY, "backup"), project_target(KEY)])
    data = targets.encode()
    assert TargetSet.decode(data) == targets
    assert uuid_target(UUID) in targets and uuid_target(UUID.replace("5", "6")) not in targets
    assert UUID.encode() not in data and KEY.encode() not in data
    assert len(data) == 4 + 3 * 8
    with pytest.raises(ValueError):
        TargetSet.decode(b"nope")


def known(*targets: str) -> LocalPingTargets:
    local = LocalPingTargets()
    local.publish(lambda: targets)
    return local


@pytest.mark.parametrize(
    ("ping", "expected"),
    [
        (message(check_uuid=UUID), Verdict.ACCEPT),
        (message(check_uuid=UUID.replace("5", "6")), Verdict.NOT_FOUND),
        (message(ping_key=KEY, slug="backup"), Verdict.ACCEPT),
        (message(ping_key=KEY, slug="other"), Verdict.NOT_FOUND),
        (message(ping_key="wrong-key", slug="backup"), Verdict.NOT_FOUND),
        (message(ping_key=KEY, slug="other", create=True), Verdict.CREATE),
        (message(ping_key=KEY, slug="backup", create=True), Verdict.ACCEPT),
        (message(ping_key="wrong-key", slug="other", create=True), Verdict.NOT_FOUND),
    ],
)
def test_only_a_target_the_set_certainly_lacks_is_not_found(
    ping: PingMessage, expected: Verdict
) -> None:
    targets = known(uuid_target(UUID), slug_target(KEY, "backup"), project_target(KEY))
    assert verdict(ping, targets.knows) is expected


def test_before_anything_is_published_every_ping_is_accepted() -> None:
    unloaded = LocalPingTargets()
    assert verdict(message(check_uuid=UUID), unloaded.knows) is Verdict.ACCEPT
    assert verdict(message(ping_key=KEY, slug="x", create=True), unloaded.knows) is Verdict.ACCEPT


def request(remote: str, **headers: str) -> PingRequest:
    return PingRequest(method="GET", path=UUID, headers=headers, remote_addr=remote)


def test_a_trusted_proxy_forwards_the_first_client_address_and_the_scheme() -> None:
    through = behind_proxy(
        request(
            "10.0.0.5", **{"x-forwarded-for": "203.0.113.9, 10.0.0.7", "x-forwarded-proto": "https"}
        ),
        frozenset({"10.0.0.5"}),
    )
    assert (through.remote_addr, through.scheme) == ("203.0.113.9", "https")
    port = behind_proxy(
        request("10.0.0.5", **{"x-forwarded-for": "203.0.113.9:5555"}), frozenset({"*"})
    )
    assert port.remote_addr == "203.0.113.9"


def test_forwarded_headers_from_anyone_else_are_ignored() -> None:
    direct = request("198.51.100.1", **{"x-forwarded-for": "1.2.3.4", "x-forwarded-proto": "https"})
    assert behind_proxy(direct, frozenset({"10.0.0.5"})) == direct
    assert behind_proxy(direct, frozenset()) == direct
