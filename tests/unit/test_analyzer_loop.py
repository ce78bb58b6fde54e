"""The analyzer function's loop: passes every few seconds, the last one close to the end
of the invocation, with the clock and the sleeps simulated."""

from __future__ import annotations

from datetime import UTC, datetime

from srvpulse.services.analyzing import Analyzer, PassReport, run_for, run_while_full


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


class FleetAnalyzer(CountingAnalyzer):
    """Reports a full batch for the first ``full`` passes (a fleet due at once)."""

    def __init__(self, clock: FakeClock, full: int) -> None:
        super().__init__(clock)
        self.full = full

    def run_pass(self, now: datetime) -> PassReport:
        super().run_pass(now)
        return PassReport(due=1000, full=len(self.at) <= self.full)


def test_a_full_batch_is_followed_by_the_next_pass_at_once_not_after_the_interval() -> None:
    clock = FakeClock()
    analyzer = FleetAnalyzer(clock, full=6)
    run_for(
        analyzer,
        lambda: int((55 - clock.t) * 1000),
        interval=5.0,
        reserve_ms=3000,
        sleep=clock.sleep,
        monotonic=lambda: clock.t,
    )
    # Seven passes back to back (six full, then the one that drains the rest).
    assert analyzer.at[:7] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert analyzer.at[7] == 8.0  # then the usual 5 s rhythm


def test_a_single_pass_invocation_works_through_full_batches_while_it_has_time() -> None:
    clock = FakeClock()
    analyzer = FleetAnalyzer(clock, full=1000)
    reports = run_while_full(analyzer, lambda: int((55 - clock.t) * 1000), reserve_ms=3000)
    assert all(r.full for r in reports)
    assert len(reports) == 104  # 0.5 s each, until fewer than 3 s of the 55 are left
    quiet = FleetAnalyzer(FakeClock(), full=0)
    assert len(run_while_full(quiet, lambda: 55_000)) == 1
