"""Live, a market maker does not price from its own quotes: a real engine process trading live on the
strict simulator, whose book holds the desk's orders (in both of the market's books, as the venue's
does). Its ask at the touch used to lower the mid it priced from, so it wanted a lower ask and
cancelled it; withdrawn, the mid rose and it placed the same ask again: a cancel and a re-place every
timed pass, every ~35 ms when deciding on events (engine/trading/ledgers/own_orders.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from simulator.testing import approved_simulator
from tests.helpers import set_book, wait_until
from tests.trading.test_protection_parity import MM, _desk, _ran_past, _rows, holding_twenty

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("events", [0, 1], ids=["timed", "on_events"])
def test_a_market_maker_whose_ask_is_the_touch_leaves_it_resting(tmp_path: Path, events: int) -> None:
    with approved_simulator(seed=61, agents=False, maintenance_schedule="off") as probe:
        market = probe.market(neg_risk=False, index=0)
    with _desk(tmp_path, "live", seed=61, mm=(MM, [market["condition_id"]]),
               settings={"decide_on_events": events}) as (sim, engine):
        holding_twenty(sim, engine, market)
        set_book(sim, market, ("BUY", "0.30", "500"), ("SELL", "0.44", "500"))
        # At its inventory cap it only asks: mid 0.37 + 0.02 = 0.39, the touch (the next ask is 0.44).
        [(first_at,)] = wait_until(lambda: _rows(engine, "SELECT created_at FROM orders WHERE strategy = 'mm' "
                                                        "AND side = 'SELL' AND price = 390000 AND status = 'LIVE'"),
                                   30, 0.1, "its ask at 0.39")
        started = time.monotonic()
        wait_until(lambda: _ran_past(engine, first_at + 3_000), 30, 0.1, "three seconds (six timed passes)")
        assert time.monotonic() - started < 30
        asks = _rows(engine, "SELECT price, status FROM orders WHERE strategy = 'mm' AND side = 'SELL' "
                             "AND created_at >= ? ORDER BY id", first_at)
        assert asks == [(390_000, "LIVE")]  # placed once, resting: not cancelled and placed again
