"""The check rules: what a finished run or the clock says about a check beyond its
schedule, one module per rule, each exporting ``RULE = CheckRule(...)`` (base.py).

Adding a rule = one module here + one line in ``RULES`` + its ``FlipReason`` member in
domain/model.py + its tests (tests/unit/test_check_rule_contract.py runs the contract on
every registered rule). Everything else reads this registry: the status machine
(domain/status.py), the alert words (domain/delivery.py), the analyzer's alert details
(services/analyzing.py), validation (services/checks.py), the API's request model and
answer schema (chalicelib/api_checks.py, chalicelib/schemas.py), storage (one JSON
column, ``checks.rule_settings``) and the dashboard's check form (the rule catalog,
``GET /api/v3/check-rules``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ...errors import InvalidInput
from ..model import Check, FlipReason, RuleSettings
from . import durations, too_often
from .base import CheckRule, FinishedRun, Reason, Setting, human_duration

RULES: tuple[CheckRule, ...] = (
    durations.RULE,
    too_often.RULE,
)

# Every rule's settings in registry order (the API's field order).
SETTINGS: tuple[Setting, ...] = tuple(s for rule in RULES for s in rule.settings)
_SETTING = {s.name: s for s in SETTINGS}
_REASON: dict[FlipReason, tuple[CheckRule, Reason]] = {
    r.reason: (rule, r) for rule in RULES for r in rule.reasons
}
_REASON_VALUES = frozenset(r.value for r in _REASON)
_JUDGES = tuple(rule.judge_finished for rule in RULES if rule.judge_finished is not None)
_LIMITS = tuple(rule.run_limit for rule in RULES if rule.run_limit is not None)


def setting(name: str) -> Setting:
    return _SETTING[name]


def is_setting(name: str) -> bool:
    return name in _SETTING


def update_settings(current: RuleSettings, changes: Mapping[str, object]) -> dict[str, int | None]:
    """``current`` with ``changes`` applied (untrusted values: each is checked against
    its setting's bounds, then every rule checks its settings together); InvalidInput
    names the field. The result keeps only values that differ from their default."""
    merged: dict[str, int | None] = dict(current)
    for name, value in changes.items():
        if name not in _SETTING:
            raise InvalidInput(f"{name}: not a rule setting", name)
        merged[name] = _SETTING[name].validate(value)
    for rule in RULES:
        if rule.validate is not None:
            rule.validate(merged)
    return {
        name: value
        for name, value in merged.items()
        if name in _SETTING and value != _SETTING[name].default
    }


def values(settings: RuleSettings) -> dict[str, int | None]:
    """Every setting's value (defaults filled in), in registry order: what the API shows."""
    return {s.name: s.of(settings) for s in SETTINGS}


def judge_finished(settings: RuleSettings, run: FinishedRun) -> FlipReason | None:
    """The first failure a rule finds in a run that finished with success, in registry
    order; None when every rule is content."""
    for judge in _JUDGES:
        reason = judge(settings, run)
        if reason is not None:
            return reason
    return None


def run_limit(settings: RuleSettings) -> int | None:
    """The smallest number of seconds a rule lets a started run stay open, if any does."""
    if not settings:
        return None  # every rule off (most checks): nothing to ask
    limits = [limit for judge in _LIMITS if (limit := judge(settings)) is not None]
    return min(limits) if limits else None


def owns(reason: FlipReason) -> bool:
    return reason in _REASON


def reason_text(reason: FlipReason, extra: Mapping[str, str]) -> str | None:
    """The alert words for a rule's reason ("ran too long (2 h)"); None for reasons no
    rule owns (late, failed, ...: domain/delivery.py words those)."""
    found = _REASON.get(reason)
    return None if found is None else found[1].text(extra)


def alert_details(reason: str, check: Check, since: datetime) -> dict[str, str]:
    """What a down alert or reminder for ``reason`` adds to the alert's ``extra``."""
    found = _REASON.get(FlipReason(reason)) if reason in _REASON_VALUES else None
    if found is None:
        return {}
    return found[0].alert_details(check.rule_settings, check, since)


__all__ = [
    "RULES",
    "SETTINGS",
    "CheckRule",
    "FinishedRun",
    "Reason",
    "RuleSettings",
    "Setting",
    "alert_details",
    "human_duration",
    "is_setting",
    "judge_finished",
    "owns",
    "reason_text",
    "run_limit",
    "setting",
    "update_settings",
    "values",
]
