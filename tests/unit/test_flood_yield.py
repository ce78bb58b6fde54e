"""How ingest gives way to the HTTP edge while pings arrive faster than it stores them
(local/queue_worker.FloodYield), and the setting that tunes it."""

from __future__ import annotations

import pytest
from srvpulse.local.queue_worker import FloodYield
from srvpulse.settings import Settings


def test_while_pings_arrive_faster_than_stored_ingest_works_its_share_of_the_time() -> None:
    half = FloodYield(share=0.5, max_lag=5.0)
    # A batch of 500 took 0.2 s while 900 arrived: paused as long as it worked.
    assert half.pause(busy=0.2, arrived=900, stored=500, lag=1.0) == pytest.approx(0.2)
    quarter = FloodYield(share=0.25, max_lag=5.0)
    # Working a quarter of the time: three times as long paused as busy.
    assert quarter.pause(busy=0.2, arrived=900, stored=500, lag=1.0) == pytest.approx(0.6)


def test_a_load_ingest_keeps_up_with_is_never_paced() -> None:
    flood = FloodYield(share=0.5, max_lag=5.0)
    assert flood.pause(busy=0.2, arrived=500, stored=500, lag=0.5) == 0.0
    assert flood.pause(busy=0.2, arrived=10, stored=500, lag=0.5) == 0.0
    assert flood.pause(busy=0.2, arrived=900, stored=500, lag=None) == 0.0  # queue empty


def test_once_ingest_is_max_lag_behind_it_works_flat_out_so_a_long_flood_cannot_starve_it() -> None:
    flood = FloodYield(share=0.5, max_lag=5.0)
    assert flood.pause(busy=0.2, arrived=900, stored=500, lag=4.9) > 0
    assert flood.pause(busy=0.2, arrived=900, stored=500, lag=5.0) == 0.0
    assert flood.pause(busy=0.2, arrived=900, stored=500, lag=60.0) == 0.0


def test_a_share_of_one_turns_yielding_off() -> None:
    assert FloodYield(share=1.0).pause(busy=0.2, arrived=10_000, stored=500, lag=0.1) == 0.0


def test_ingest_flood_share_setting_defaults_to_half_and_names_itself_when_malformed() -> None:
    assert Settings.from_env({}).ingest_flood_share == 0.5
    assert Settings.from_env({"INGEST_FLOOD_SHARE": "1"}).ingest_flood_share == 1.0
    assert Settings.from_env({"INGEST_FLOOD_SHARE": "0.25"}).ingest_flood_share == 0.25
    for bad in ("0", "-0.5", "1.5", "half", "nan"):
        with pytest.raises(ValueError, match="INGEST_FLOOD_SHARE must be a number above 0"):
            Settings.from_env({"INGEST_FLOOD_SHARE": bad})
