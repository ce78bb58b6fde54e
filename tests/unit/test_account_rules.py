"""Account rules: password policy, e-mail addresses, token buckets, session lifetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from srvpulse.domain.accounts import (
    PASSWORD_MAX_LENGTH,
    SESSION_ABSOLUTE_TIMEOUT,
    SESSION_IDLE_TIMEOUT,
    BucketPolicy,
    BucketState,
    Role,
    check_password,
    normalize_email,
    session_is_live,
    take_token,
    throttle_ip,
    totp_step,
)
from srvpulse.errors import InvalidInput
from srvpulse.services.accounts import common_passwords

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
COMMON = frozenset({"password1", "iloveyou"})


def test_the_shipped_list_holds_the_ten_thousand_most_common_passwords() -> None:
    common = common_passwords()
    assert len(common) == 10_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= common
    assert not any(p.startswith("# ") for p in common)


def test_a_password_shorter_than_eight_characters_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as err:
        check_password("short7!", COMMON)
    assert err.value.field == "password"
    assert "at least 8" in err.value.message


def _accepted(password: str) -> bool:
    try:
        check_password(password, COMMON)
    except InvalidInput:
        return False
    return True


def test_a_password_of_exactly_eight_and_of_128_characters_is_accepted() -> None:
    lengths = {n: _accepted(("k3#Lm9!q" + "x" * 200)[:n]) for n in (7, 8, 128, 129)}
    assert lengths == {7: False, 8: True, 128: True, 129: False}


def test_a_password_longer_than_128_characters_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at most 128"):
        check_password("x" * (PASSWORD_MAX_LENGTH + 1), COMMON)


def test_a_common_password_is_refused_whatever_its_case() -> None:
    with pytest.raises(InvalidInput, match="too common"):
        check_password("PassWord1", COMMON)
    with pytest.raises(InvalidInput, match="too common"):
        check_password("iloveyou", common_passwords())


def test_email_addresses_are_trimmed_and_lowercased_and_nonsense_is_refused() -> None:
    assert normalize_email("  Alice@Example.COM ") == "alice@example.com"
    for bad in ("", "alice", "alice@", "@example.com", "a b@example.com", "a@localhost"):
        with pytest.raises(InvalidInput) as err:
            normalize_email(bad)
        assert err.value.field == "email"


POLICY = BucketPolicy("test", capacity=3, period=timedelta(minutes=3))  # 1 token a minute


def test_a_new_bucket_allows_its_capacity_at_once_then_refuses_with_the_wait() -> None:
    state = None
    for _ in range(3):
        decision = take_token(POLICY, state, T0)
        assert decision.allowed
        state = decision.state
    refused = take_token(POLICY, state, T0)
    assert not refused.allowed
    assert refused.retry_after == 60


def test_a_bucket_refills_with_time_but_never_beyond_its_capacity() -> None:
    empty = BucketState(0.0, T0)
    assert not take_token(POLICY, empty, T0 + timedelta(seconds=30)).allowed
    later = take_token(POLICY, empty, T0 + timedelta(seconds=61))
    assert later.allowed
    much_later = take_token(POLICY, empty, T0 + timedelta(days=1))
    assert much_later.state.tokens == pytest.approx(2.0)


def test_a_refused_attempt_reports_the_time_until_the_next_token() -> None:
    half = BucketState(0.5, T0)
    decision = take_token(POLICY, half, T0)
    assert not decision.allowed
    assert decision.retry_after == 30


def test_a_clock_going_backwards_refills_nothing() -> None:
    decision = take_token(POLICY, BucketState(0.0, T0), T0 - timedelta(hours=1))
    assert not decision.allowed


def test_a_session_ends_after_its_idle_timeout() -> None:
    assert session_is_live(T0, T0, T0 + SESSION_IDLE_TIMEOUT - timedelta(seconds=1))
    assert not session_is_live(T0, T0, T0 + SESSION_IDLE_TIMEOUT)


def test_a_session_in_use_still_ends_at_its_absolute_timeout() -> None:
    end = T0 + SESSION_ABSOLUTE_TIMEOUT
    assert session_is_live(T0, end - timedelta(minutes=1), end - timedelta(seconds=1))
    assert not session_is_live(T0, end - timedelta(minutes=1), end)


def test_only_owners_manage_and_read_only_members_cannot_write() -> None:
    assert Role.OWNER.can_manage and Role.OWNER.can_write
    assert Role.MEMBER.can_write and not Role.MEMBER.can_manage
    assert not Role.READONLY.can_write and not Role.READONLY.can_manage


def test_totp_steps_are_thirty_second_slices_of_unix_time() -> None:
    assert totp_step(datetime(1970, 1, 1, 0, 0, 59, tzinfo=UTC)) == 1
    assert totp_step(datetime(1970, 1, 1, 0, 1, 0, tzinfo=UTC)) == 2


def test_per_ip_throttling_counts_an_ipv6_client_by_its_64_network() -> None:
    assert throttle_ip("2001:db8:1:2:aaaa::1") == throttle_ip("2001:DB8:1:2:ffff::9")
    assert throttle_ip("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert throttle_ip("2001:db8:1:3::1") != throttle_ip("2001:db8:1:2::1")
    assert throttle_ip("203.0.113.7") == "203.0.113.7"
    assert throttle_ip("::ffff:203.0.113.7") == "203.0.113.7"
    assert throttle_ip("unknown") == "unknown"
