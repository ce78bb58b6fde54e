"""The analyzer function's loop: passes every few seconds, the last one close to the end
of the invocation, with the clock and the sleeps simulated."""

from __future__ import annotations

from datetime import UTC, datetime

from srvpulse.services.analyzing import Analyzer, PassReport, run_for


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class CountingAnalyzer(Analyzer):
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.at: list[float] = []

    def run_pass(self, now: datetime) -> PassReport:
        self.at.append(self.clock.t)
        self.clock.t += 0.5  # a pass takes half a second
        return PassReport()


def test_a_55_second_invocation_leaves_less_than_10_seconds_to_the_next_minute() -> None:
    clock = FakeClock()
    analyzer = CountingAnalyzer(clock)
    reports = run_for(
        analyzer,
        lambda: int((55 - clock.t) * 1000),
        interval=5.0,
        reserve_ms=3000,
        clock=lambda: datetime.now(UTC),
        sleep=clock.sleep,
        monotonic=lambda: clock.t,
    )
    assert len(reports) == len(analyzer.at)
    gaps = [b - a for a, b in zip(analyzer.at, analyzer.at[1:], strict=False)]
    assert max(gaps) <= 5.0
    assert analyzer.at[-1] <= 52.0  # ends before the timeout, with the reserve
    assert 60 - analyzer.at[-1] < 10  # the next invocation's first pass comes soon
