"""Up/down windows priced on their settlement source, in a real engine process (issue 61, item 3):
a paper engine started long after the current 15-minute window opened (later than any stream's
memory reaches back: the socket's first dump is two minutes) finds the window, prices it on the
Chainlink price the venue settles on against the price to beat Gamma publishes, says so for the
Markets page (`updown_windows`), and quotes in it, where the desk used to skip a window whose
start it had not heard."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.rtds import DUMP_S
from simulator.testing import SimHandle, approved_simulator
from tests.helpers import paper_desk, wait_until

pytestmark = pytest.mark.slow
PARAMS = {"fair_value": "reference", "half_spread": 0.03, "size": 10, "skew_per_share": 0, "max_spread": 1,
          "stop_before_end_s": 30}
SERIES = "btc-updown-15m"


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=87, agents=False, maintenance_schedule="off", updown_series=SERIES) as handle:
        yield handle


# Waits on the wall clock for a window open long enough (up to ~5 min, no CPU): started first, its
# wait overlaps the rest of the suite instead of ending it.
@pytest.mark.runs_long
def test_a_window_joined_late_is_priced_on_chainlink_and_gammas_price_to_beat(tmp_path: Path,
                                                                              sim: SimHandle) -> None:
    # joined late: the window has been open longer than the stream's dump, with time left to quote
    wait_until(lambda: DUMP_S + 15 < time.time() % 900 < 900 - 150, 900, 0.5, what="a window open for a while")
    start = int(time.time()) // 900 * 900
    current = next(m.condition_id for m in list(sim.sim.exchange.markets.values()) if m.slug == f"{SERIES}-{start}")
    engine = paper_desk(tmp_path, sim, [("updown", "market_making", PARAMS, {"filter": {"text": SERIES}})],
                        limits={"max_data_age": "3600"},
                        settings={"spot_feed": "okx", "updown_series": SERIES})
    try:
        engine.start(wait=False)
        engine.wait_alive(90)
        sql = "SELECT priced_by, price_to_beat, beat_from FROM updown_windows WHERE condition_id = ?"
        wait_until(lambda: engine.rows(sql, current) and engine.rows(sql, current)[0][0] == "chainlink", 60,
                   interval=0.5, what="the window priced")
        beat = round(sim.sim.updown.openings[current] * 1e6)
        assert engine.rows(sql, current) == [("chainlink", beat, "gamma")]
        wait_until(lambda: engine.rows("SELECT id FROM orders WHERE strategy = 'updown' AND condition_id = ?",
                                       current), 60, interval=0.5, what="quotes in the window joined late")
    finally:
        engine.cleanup()
