"""The contract every registered check rule keeps (domain/check_rules/), run on each one:
its settings are off by default and validated with errors naming the field; each of its
reasons is a FlipReason no other rule or the core owns, reached through the real status
machine by an example here, and worded for alerts and the dashboard; the API accepts,
shows and documents its settings. A new rule must add its examples to ``EXAMPLES``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from srvpulse.domain import check_rules
from srvpulse.domain.check_rules import CheckRule, FinishedRun
from srvpulse.domain.delivery import headline
from srvpulse.domain.model import AlertEvent, Check, FlipReason, Status
from srvpulse.errors import InvalidInput

import app as app_module
from chalicelib import openapi
from chalicelib.api_checks import CheckIn
from tests.unit.test_status_machine import Step, run

# Reasons of the status machine itself (domain/status.py), not of a rule.
CORE_REASONS = {
    FlipReason.LATE,
    FlipReason.FAILED,
    FlipReason.RECOVERED,
    FlipReason.REMINDER,
    FlipReason.STARTED,
    FlipReason.PAUSED,
    FlipReason.RESUMED,
    FlipReason.ANOMALY,
}

# Per rule and reason: check settings (rule settings by their API names) and the steps
# of tests/unit/test_status_machine.py after which the check is down for that reason.
EXAMPLES: dict[str, dict[FlipReason, tuple[dict[str, Any], list[Step]]]] = {
    "durations": {
        FlipReason.TOO_SHORT: ({"min_duration": 60}, [(0, "start"), (0.5, "success")]),
        FlipReason.TOO_LONG: ({"max_duration": 120}, [(0, "start"), (3, "success")]),
    },
    "too_often": {
        FlipReason.TOO_OFTEN: ({"min_interval": 600}, [(0, "success"), (5, "success")]),
    },
}
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
RULES = [pytest.param(rule, id=rule.name) for rule in check_rules.RULES]
SETTINGS = [pytest.param(s, id=s.name) for s in check_rules.SETTINGS]


def test_every_flip_reason_belongs_to_the_core_or_to_exactly_one_rule() -> None:
    owned = [r.reason for rule in check_rules.RULES for r in rule.reasons]
    assert len(owned) == len(set(owned))
    assert set(owned) | CORE_REASONS == set(FlipReason)
    assert not set(owned) & CORE_REASONS


def test_rule_and_setting_names_are_unique_and_no_setting_shadows_a_check_field() -> None:
    names = [s.name for s in check_rules.SETTINGS]
    assert len(names) == len(set(names))
    assert len({r.name for r in check_rules.RULES}) == len(check_rules.RULES)
    check_fields = {f.name for f in dataclasses.fields(Check)}
    assert not set(names) & check_fields


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_has_an_example_for_each_of_its_reasons(rule: CheckRule) -> None:
    assert set(EXAMPLES.get(rule.name, {})) == {r.reason for r in rule.reasons}


@pytest.mark.parametrize("rule", RULES)
def test_a_rule_is_off_by_default(rule: CheckRule) -> None:
    assert not rule.is_on({})
    if rule.judge_finished is not None:
        for previous in (None, T0):
            for duration in (None, 0, 10**9):
                assert rule.judge_finished({}, FinishedRun(T0, duration, previous)) is None
    if rule.run_limit is not None:
        assert rule.run_limit({}) is None


@pytest.mark.parametrize("rule", RULES)
def test_each_reason_is_reached_through_the_status_machine_and_only_with_the_rule_on(
    rule: CheckRule,
) -> None:
    for reason, (settings, steps) in EXAMPLES[rule.name].items():
        check, flips = run(steps, **settings)
        assert check.status is Status.DOWN
        assert reason.value in [f[2] for f in flips]
        plain = {k: v for k, v in settings.items() if not check_rules.is_setting(k)}
        _, without = run(steps, **plain)
        assert reason.value not in [f[2] for f in without]


@pytest.mark.parametrize("rule", RULES)
def test_each_reason_has_words_for_alerts_and_the_dashboard(rule: CheckRule) -> None:
    for r in rule.reasons:
        settings, steps = EXAMPLES[rule.name][r.reason]
        check, _ = run(steps, **settings)
        since = T0  # the examples start at T0; the down flip is at or after it
        details = rule.alert_details(check.rule_settings, check, since)
        assert check_rules.alert_details(r.reason.value, check, since) == details
        event = AlertEvent(
            flip_id=1,
            channel_id=1,
            check_uuid="c",
            check_name="nightly",
            project_id=1,
            status=Status.DOWN,
            reason=r.reason,
            created=T0,
            extra=details,
        )
        words = r.text(details)
        assert words and words == r.text(dict(details))  # pure: same in, same out
        assert headline(event) == f"DOWN: nightly ({words})"
        assert r.text({})  # without details (an alert built before they existed)
        assert r.describes
        reminder = dataclasses.replace(
            event,
            reason=FlipReason.REMINDER,
            is_reminder=True,
            extra={**details, "down_reason": r.reason.value},
        )
        assert headline(reminder) == f"REMINDER DOWN: nightly ({words})"


@pytest.mark.parametrize("setting", SETTINGS)
def test_settings_are_validated_and_errors_name_the_field(setting: check_rules.Setting) -> None:
    assert setting.title and setting.label  # the check page's and the check form's words
    assert check_rules.update_settings({}, {setting.name: setting.default}) == {}
    assert check_rules.update_settings({}, {setting.name: setting.high}) == {
        setting.name: setting.high
    }
    for bad in (setting.low - 1, setting.high + 1, True, "60", 1.5):
        with pytest.raises(InvalidInput) as err:
            check_rules.update_settings({}, {setting.name: bad})
        assert err.value.field == setting.name
    # Back to the default: nothing is stored.
    stored = check_rules.update_settings({}, {setting.name: setting.low})
    assert check_rules.update_settings(stored, {setting.name: setting.default}) == {}


@pytest.mark.parametrize("setting", SETTINGS)
def test_the_api_accepts_shows_and_documents_every_setting(setting: check_rules.Setting) -> None:
    body = CheckIn.model_validate({setting.name: setting.high})
    assert body.fields()[setting.name] == setting.high
    with pytest.raises(ValueError, match=setting.name):
        CheckIn.model_validate({setting.name: setting.high + 1})
    schemas = openapi.build(app_module.app)["components"]["schemas"]
    field = schemas["CheckIn"]["properties"][setting.name]
    assert {"minimum": setting.low, "maximum": setting.high}.items() <= field["anyOf"][0].items()
    assert setting.name in schemas["CheckOut"]["required"]
    assert setting.name in schemas["CheckOut"]["properties"]
