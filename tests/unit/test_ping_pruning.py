"""Which of a check's pings ingest prunes (domain.model.pruned_pings_upto)."""

from srvpulse.domain.model import PINGS_KEPT_PER_CHECK, PINGS_PRUNED_EVERY, pruned_pings_upto


def test_nothing_is_pruned_before_a_check_has_more_than_its_kept_pings() -> None:
    assert [pruned_pings_upto(n) for n in (0, 1, 99, 100, 119)] == [0, 0, 0, 0, 0]


def test_old_pings_go_twenty_at_a_time_and_never_more_than_twenty_wait() -> None:
    assert [pruned_pings_upto(n) for n in (120, 121, 139, 140, 1000)] == [20, 20, 20, 40, 900]
    for n in range(PINGS_KEPT_PER_CHECK, 1000):
        waiting = n - PINGS_KEPT_PER_CHECK - pruned_pings_upto(n)
        assert 0 <= waiting < PINGS_PRUNED_EVERY
