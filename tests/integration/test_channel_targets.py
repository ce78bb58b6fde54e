"""Webhook and Slack requests cannot reach inside: the URL's host is checked when the
channel is saved, and the addresses it resolves to when the alert is sent, and the
request goes to the checked address. Private targets are a setting (ALERT_PRIVATE_TARGETS):
refused by default on AWS, allowed by default in the local mode."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from srvpulse.adapters.memory import RecordingMailer
from srvpulse.errors import InvalidInput
from srvpulse.notifiers import NotifierContext, validate_config
from srvpulse.notifiers.safe_http import ForbiddenTarget, checked_addresses, guarded_client
from srvpulse.notifiers.slack import SlackNotifier
from srvpulse.notifiers.webhook import WebhookNotifier
from srvpulse.settings import Settings

from tests.alerting_events import down_event
from tests.alerting_peers import Reply, http_peer, self_signed_cert

INSIDE = [
    "127.0.0.1",
    "2130706433",  # 127.0.0.1 as one decimal number
    "127.1",
    "0x7f000001",
    "0177.0.0.1",  # octal
    "0",  # 0.0.0.0: reaches localhost on Linux
    "0.0.0.0",
    "localhost",
    "api.localhost",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT (RFC 6598)
    "169.254.10.10",  # link-local
    "169.254.169.254",  # instance metadata
    "169.254.170.2",  # ECS task credentials
    "100.100.100.200",  # Alibaba Cloud metadata
    "224.0.0.1",  # multicast
    "[::1]",
    "[::]",
    "[fe80::1]",
    "[fd12:3456::1]",  # unique-local
    "[fd00:ec2::254]",  # IMDS over IPv6
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:a9fe:a9fe]",  # IPv4-mapped 169.254.169.254, hex
    "[64:ff9b::a00:5]",  # NAT64 of 10.0.0.5
    "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254
]
ALWAYS_REFUSED = [
    "0",
    "0.0.0.0",
    "169.254.169.254",
    "169.254.170.2",
    "100.100.100.200",
    "224.0.0.1",
    "[::]",
    "[fd00:ec2::254]",
    "[::ffff:a9fe:a9fe]",
]


def webhook(url: str) -> dict[str, Any]:
    return {"down": {"url": url, "method": "POST", "body": "$NAME"}}


@pytest.mark.parametrize("host", INSIDE)
def test_without_private_targets_a_webhook_to_an_inside_address_is_refused_on_save(
    host: str,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_config("webhook", webhook(f"http://{host}:8080/hook"), local=False)
    assert refused.value.field == "config.down.url"
    assert refused.value.message.startswith("must not point to a")


@pytest.mark.parametrize("host", ALWAYS_REFUSED)
def test_metadata_unspecified_and_multicast_addresses_are_refused_even_with_private_targets(
    host: str,
) -> None:
    with pytest.raises(InvalidInput, match="must not point to"):
        validate_config("webhook", webhook(f"http://{host}/hook"), local=True)


def test_with_private_targets_an_internal_service_may_be_alerted() -> None:
    for url in ("http://10.0.0.5:9000/alert", "http://127.1/x", "http://[fd12::1]/x"):
        assert validate_config("webhook", webhook(url), local=True)["down"]["url"] == url


def test_a_slack_url_must_be_on_slack_com_itself_not_a_lookalike() -> None:
    ok = "https://hooks.slack.com/services/T/B/x"
    assert validate_config("slack", {"url": ok}, local=False)["url"] == ok
    for bad in ("https://evilslack.com/services/x", "https://hooks.slack.com.evil.example/x"):
        with pytest.raises(InvalidInput, match=r"slack\.com"):
            validate_config("slack", {"url": bad}, local=False)


def test_the_setting_defaults_to_refused_on_aws_and_allowed_locally() -> None:
    assert Settings.from_env({"SRVPULSE_MODE": "aws"}).private_targets_allowed is False
    assert Settings.from_env({}).private_targets_allowed is True
    aws_allowing = {"SRVPULSE_MODE": "aws", "ALERT_PRIVATE_TARGETS": "true"}
    assert Settings.from_env(aws_allowing).private_targets_allowed is True
    assert Settings.from_env({"ALERT_PRIVATE_TARGETS": "false"}).private_targets_allowed is False
    with pytest.raises(ValueError, match="ALERT_PRIVATE_TARGETS"):
        Settings.from_env({"ALERT_PRIVATE_TARGETS": "maybe"})


# ---------------------------------------------------------------- at send time


def notifier(private_targets: bool) -> WebhookNotifier:
    return WebhookNotifier(
        NotifierContext(mailer=RecordingMailer(), private_targets=private_targets)
    )


def test_a_name_that_resolves_inside_is_refused_at_send_time_and_nothing_is_sent() -> None:
    # The machine's own name resolves to a loopback or private address (/etc/hosts); the
    # URL passed validation earlier (as a DNS name can change after it is saved).
    name = socket.gethostname()
    with http_peer([Reply(200)]) as hook:
        port = hook.url.rsplit(":", 1)[1]
        config = {"down": {"url": f"http://{name}:{port}/hook", "method": "POST", "body": ""}}
        result = notifier(False).send(down_event(), config, timeout=5)
        assert hook.requests == []
    assert not result.ok and not result.retryable
    assert result.error.startswith(f"refused: {name} resolves to a")


def test_an_address_validated_with_private_targets_is_still_refused_when_they_are_off() -> None:
    with http_peer([Reply(200)]) as hook:
        config = validate_config("webhook", webhook(hook.url + "/hook"), local=True)
        result = notifier(False).send(down_event(), config, timeout=5)
        assert hook.requests == []
        allowed = notifier(True).send(down_event(), config, timeout=5)
        assert len(hook.requests) == 1
    assert result.error == "refused: 127.0.0.1 is a loopback address"
    assert allowed.ok


def test_slack_is_held_to_the_same_rule() -> None:
    with http_peer([Reply(200, "ok")]) as slack:
        config = {"url": slack.url + "/services/T/B/x"}
        refused = SlackNotifier(NotifierContext(mailer=RecordingMailer())).send(
            down_event(), config, timeout=5
        )
        assert slack.requests == []
        sent = SlackNotifier(NotifierContext(mailer=RecordingMailer(), private_targets=True)).send(
            down_event(), config, timeout=5
        )
    assert refused.error == "refused: 127.0.0.1 is a loopback address"
    assert sent.ok and len(slack.requests) == 1


@pytest.fixture
def rebinding_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A resolver for ``rebind.test`` that answers 127.0.0.1 the first time and the
    metadata address every time after (a DNS rebinding attacker's server)."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = "127.0.0.1" if len(asked) == 1 else "169.254.169.254"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield asked


def test_the_request_goes_to_the_address_that_was_checked_never_a_second_answer(
    rebinding_dns: list[str],
) -> None:
    with http_peer([Reply(200)]) as hook:
        port = hook.url.rsplit(":", 1)[1]
        with guarded_client(timeout=5, private_ok=True) as client:
            reply = client.post(f"http://rebind.test:{port}/hook", content=b"x")
        (request,) = hook.requests
    assert reply.status_code == 200
    assert rebinding_dns == ["rebind.test"]  # resolved once, by the check
    assert {k.lower(): v for k, v in request.headers.items()}[
        "host"
    ] == f"rebind.test:{port}"  # the name, not the address
    with pytest.raises(ForbiddenTarget, match="metadata"):
        checked_addresses("rebind.test", 80, private_ok=True)  # the second answer


def test_a_redirect_is_not_followed() -> None:
    redirect = Reply(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    with http_peer([redirect]) as hook:
        result = notifier(True).send(down_event(), webhook(hook.url + "/hook"), timeout=5)
        assert len(hook.requests) == 1
    assert not result.ok and "302" in result.error


def test_tls_is_verified_against_the_urls_name_while_connecting_to_the_checked_address() -> None:
    ca = str(self_signed_cert().cert_path)  # valid for localhost and 127.0.0.1
    with http_peer([Reply(200)], tls=True) as hook:
        port = hook.url.rsplit(":", 1)[1]
        with guarded_client(timeout=5, private_ok=True, ca_file=ca) as client:
            assert client.get(f"https://localhost:{port}/x").status_code == 200
        with (
            guarded_client(timeout=5, private_ok=True) as untrusting,
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        ):
            untrusting.get(f"https://localhost:{port}/x")
