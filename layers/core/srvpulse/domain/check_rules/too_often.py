"""Runs too often: a run that finishes less than ``min_interval`` seconds after the
previous one finished is a failure ("too often"): a cron line that lost its minute
field, a retry loop, two schedulers running the same job. Off by default.

Runs are told apart by their completions (success or failure pings), so concurrent runs
of the same check count as too often when they end closer together than that."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from ..model import Check, FlipReason, RuleSettings
from .base import CheckRule, FinishedRun, Reason, Setting, human_duration

MIN_INTERVAL = Setting(
    "min_interval",
    "Shortest time between runs",
    "Alert when a run finishes within this time of the previous one",
    hint="Catches a job that runs too often. Empty: any interval.",
)


def judge(settings: RuleSettings, run: FinishedRun) -> FlipReason | None:
    interval = MIN_INTERVAL.of(settings)
    if interval is None or run.previous_at is None:
        return None
    if run.at - run.previous_at < timedelta(seconds=interval):
        return FlipReason.TOO_OFTEN
    return None


def details(settings: RuleSettings, check: Check, since: datetime) -> dict[str, str]:
    interval = MIN_INTERVAL.of(settings)
    return {} if interval is None else {"min_interval_seconds": str(interval)}


def words(extra: Mapping[str, str]) -> str:
    try:
        interval = float(extra["min_interval_seconds"])
    except (KeyError, ValueError):
        return "ran too often"
    return f"ran too often (less than {human_duration(interval)} after the previous run)"


RULE = CheckRule(
    name="too_often",
    summary="A run that finishes less than min_interval seconds after the previous one "
    "is a failure.",
    settings=(MIN_INTERVAL,),
    reasons=(Reason(FlipReason.TOO_OFTEN, words, "runs came too often"),),
    judge_finished=judge,
    alert_details=details,
)
