"""What a check rule is: its settings (stored per check, validated, shown by the API),
the pure hooks the status machine calls, and its flip reasons with their words.

A rule never does I/O and never reads the clock: a hook gets the check's rule settings
and what just happened (a finished run), or the settings alone (how long a run may
stay open), and answers a failure reason or a limit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ...errors import InvalidInput
from ..model import Check, FlipReason, RuleSettings

# The largest duration a seconds setting may have: a year.
MAX_SECONDS = 365 * 24 * 3600


def human_duration(seconds: float) -> str:
    """12 min, 1 h 5 min, 2 days 3 h, 40 s."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting of a rule: its API field (and storage key), its bounds and the words
    the check form shows. ``None`` is "off" when ``optional``."""

    name: str
    title: str  # what the check page lists it as: "Longest run allowed"
    label: str  # the form's label: "Alert when a run takes longer than"
    hint: str = ""  # one line under the field
    unit: Literal["seconds", "count"] = "seconds"
    default: int | None = None
    low: int = 1
    high: int = MAX_SECONDS
    optional: bool = True

    def of(self, settings: RuleSettings) -> int | None:
        """This setting's value in a check's settings (its default when absent)."""
        return settings.get(self.name, self.default)

    def validate(self, value: object) -> int | None:
        """The value, or InvalidInput naming the field."""
        if value is None and self.optional:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not (self.low <= value <= self.high)
        ):
            what = "a whole number of seconds" if self.unit == "seconds" else "a whole number"
            off = " or null" if self.optional else ""
            raise InvalidInput(
                f"{self.name}: must be {what}, {self.low}..{self.high}{off}", self.name
            )
        return value


@dataclass(frozen=True, slots=True)
class FinishedRun:
    """A run that just finished with a success ping, as a rule may judge it."""

    at: datetime  # when the success ping was received
    duration_ms: int | None  # None when the run's start is not known (no start ping)
    previous_at: datetime | None  # when the run before it finished (success or failure)


@dataclass(frozen=True, slots=True)
class Reason:
    """A flip reason a rule owns, with its words: ``text`` for alerts (subject lines
    and messages: "ran too long (2 h 5 min)", given the alert's ``extra`` fields, see
    ``alert_details``), ``describes`` for the dashboard's list of flips."""

    reason: FlipReason
    text: Callable[[Mapping[str, str]], str]
    describes: str


def no_details(settings: RuleSettings, check: Check, since: datetime) -> dict[str, str]:
    return {}


@dataclass(frozen=True, slots=True)
class CheckRule:
    """One check rule (one module in this package, one line in the registry).

    - ``settings``: what a user sets per check (API fields, stored in
      ``Check.rule_settings``); ``validate`` checks them together (e.g. min <= max)
      after each one passed its own bounds.
    - ``judge_finished``: a run finished with success; a failure reason, or None.
    - ``run_limit``: how many seconds a started run may stay open before the clock takes
      the check down as "too long"; None: the rule says nothing (the check's grace
      applies, as in Healthchecks). The status machine takes the smallest limit given.
    - ``reasons``: the flip reasons this rule's hooks answer, with their words.
    - ``alert_details``: what a down alert or reminder for one of its reasons adds to
      the alert's ``extra`` (the check and when it went down are given).
    """

    name: str
    summary: str  # one sentence: what the rule does (the API's rule catalog)
    settings: tuple[Setting, ...]
    reasons: tuple[Reason, ...] = ()
    judge_finished: Callable[[RuleSettings, FinishedRun], FlipReason | None] | None = None
    run_limit: Callable[[RuleSettings], int | None] | None = None
    alert_details: Callable[[RuleSettings, Check, datetime], dict[str, str]] = no_details
    validate: Callable[[RuleSettings], None] | None = None

    def is_on(self, settings: RuleSettings) -> bool:
        """Whether any of its settings is set (a rule with every setting off is idle)."""
        return any(s.of(settings) is not None for s in self.settings)
