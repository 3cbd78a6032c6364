"""A momentum strategy survives a real engine crash warm (issue 61, item 5): a paper engine process on
the strict simulator watches a rising market past the strategy's warm-up and buys; it is killed
(SIGKILL, so only what the periodic save kept survives); the market falls while it is down; the
restarted engine takes the strategy's memory back and turns short at once, long before a cold start
could trade at all (the warm-up, counted from the new engine's boot on its own clock)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import paper_desk, set_book, wait_until

pytestmark = pytest.mark.slow
WARMUP_S = 10
PARAMS = {"mode": "momentum", "position_size": 5, "fast_seconds": 2, "slow_seconds": 20, "threshold": 0.005,
          "warmup_seconds": WARMUP_S}


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=81, agents=False, maintenance_schedule="off") as handle:
        yield handle


def _around(sim: SimHandle, market: dict[str, object], cents: int) -> None:
    set_book(sim, market, ("BUY", f"{(cents - 1) / 100:.2f}", "500"), ("SELL", f"{(cents + 1) / 100:.2f}", "500"))


def test_a_crashed_momentum_strategy_comes_back_warm(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=1)
    cid = market["condition_id"]
    _around(sim, market, 40)
    engine = paper_desk(tmp_path, sim, [("mo", "momentum", PARAMS, [cid])])
    engine.env["LOG_LEVEL"] = "INFO"
    orders = "SELECT side, outcome, created_at FROM orders WHERE strategy = 'mo' AND created_at > ? ORDER BY id"
    try:
        engine.start(wait=False)
        engine.wait_alive(90)
        cents = 40

        def rising() -> bool:  # a cent a second until it has warmed up and bought
            nonlocal cents
            cents = min(cents + 1, 90)
            _around(sim, market, cents)
            return bool(engine.rows(orders, 0))

        wait_until(rising, WARMUP_S + 60, interval=1.0, what="the strategy warmed up and long")
        bought_at = engine.rows(orders, 0)[0][2]
        wait_until(lambda: engine.rows("SELECT saved_at FROM strategy_memory WHERE strategy = 'mo' AND saved_at > ?",
                                       bought_at), 30, interval=0.2, what="its memory saved after the buy")
        engine.crash()

        _around(sim, market, 30)  # the market falls while nobody watches
        engine.start(wait=False)
        engine.wait_alive(90)
        [(booted,)] = engine.rows("SELECT started_at FROM engine_state WHERE id = 1")
        wait_until(lambda: engine.rows(orders, booted), WARMUP_S + 30, interval=0.2,
                   what="the restarted strategy trading the fall")
        side, outcome, at = engine.rows(orders, booted)[0]
        assert (side, outcome) in (("SELL", "YES"), ("BUY", "NO"))  # short now
        # A cold strategy could not have traded before its warm-up, counted from its first sample (after boot).
        assert at - booted < WARMUP_S * 1000, (at - booted, engine.log()[-3000:])
        [(outcome_note,)] = engine.rows("SELECT outcome FROM strategy_memory WHERE strategy = 'mo'")
        assert outcome_note.startswith("restored"), outcome_note
    finally:
        engine.cleanup()
