"""Duration rules: a run shorter than ``min_duration`` or longer than ``max_duration``
(seconds) is a failure. ``max_duration`` is also how long a started run may stay open
before the clock takes the check down as too long (without it: the check's grace, as in
Healthchecks). Both off by default; they need start pings to know a run's length."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ...errors import InvalidInput
from ..model import Check, FlipReason, RuleSettings
from .base import CheckRule, FinishedRun, Reason, Setting, human_duration

MIN = Setting(
    "min_duration",
    "Shortest run allowed",
    "Alert when a run is shorter than",
    hint="Needs /start pings. Empty: no minimum.",
)
MAX = Setting(
    "max_duration",
    "Longest run allowed",
    "Alert when a run takes longer than",
    hint="Needs /start pings. Empty: no limit.",
)


def judge(settings: RuleSettings, run: FinishedRun) -> FlipReason | None:
    if run.duration_ms is None:
        return None
    shortest, longest = MIN.of(settings), MAX.of(settings)
    if shortest is not None and run.duration_ms < shortest * 1000:
        return FlipReason.TOO_SHORT
    if longest is not None and run.duration_ms > longest * 1000:
        return FlipReason.TOO_LONG
    return None


def run_limit(settings: RuleSettings) -> int | None:
    return MAX.of(settings)


def validate(settings: RuleSettings) -> None:
    shortest, longest = MIN.of(settings), MAX.of(settings)
    if shortest is not None and longest is not None and shortest > longest:
        raise InvalidInput("min_duration: must not exceed max_duration", "min_duration")


def details(settings: RuleSettings, check: Check, since: datetime) -> dict[str, str]:
    """How long the run took, when it completed (one that never finished, taken down by
    the clock, has no duration yet)."""
    completed = check.last_ping is not None and check.last_ping >= since
    took = check.last_duration_ms
    if not completed or took is None:
        return {}
    return {"duration_seconds": str(took / 1000)}


def _took(word: str, extra: Mapping[str, str]) -> str:
    try:
        took = float(extra["duration_seconds"])
    except (KeyError, ValueError):
        return word
    return f"{word} ({human_duration(took)})"


RULE = CheckRule(
    name="durations",
    summary="A run shorter than min_duration or longer than max_duration is a failure.",
    settings=(MAX, MIN),
    reasons=(
        Reason(
            FlipReason.TOO_LONG,
            lambda extra: _took("ran too long", extra),
            "a run took too long",
        ),
        Reason(
            FlipReason.TOO_SHORT,
            lambda extra: _took("finished too fast", extra),
            "a run was too short",
        ),
    ),
    judge_finished=judge,
    run_limit=run_limit,
    alert_details=details,
    validate=validate,
)
