"""Liquidity rewards and maker rebates in a live session: a real engine process making a market
on the strict simulator (real py-clob-client-v2), a market with a reward program. The engine's
own scoring of its resting quote agrees with the venue's (`are_orders_scoring`); the venue pays
the day's rewards and the maker rebate of a fill; the engine books both as cash to the
micro-unit, records the paid rewards against the strategy, and its ledger equals the wallet."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, live_desk, wait_until
from tests.trading.test_redemption import ledger_cash, start, venue_cash

pytestmark = pytest.mark.slow
PUSD = 1_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # Market 4 is the first standard market; the test takes the samples, not the clock.
    with approved_simulator(seed=71, agents=False, fee_rate="0.25", reward_markets="4", reward_pool="20",
                           reward_max_spread="3", reward_min_size="20", reward_sample_s=3600.0) as handle:
        yield handle


def _rows(engine: EngineProcess, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.db_path) as conn:
        return conn.execute(sql, args).fetchall()


def test_rewards_and_rebates_reconcile_with_the_venues_payments(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.markets()[4]
    assert market["rewarded"] and not market["neg_risk"]
    cid, yes = market["condition_id"], market["yes_token_id"]
    sim.clear_book(cid)
    sim.place_liquidity(yes, "BUY", "0.30", "10")  # a wide book: the mid is 0.50, 10-share levels never score
    sim.place_liquidity(yes, "SELL", "0.70", "10")
    engine, wallet = live_desk(tmp_path, sim, mm=({"size": 80, "half_spread": 0.01, "max_spread": 0.9}, [cid]),
                               settings={"reward_sample_s": 1, "redeem_check_s": 5})
    try:
        start(engine)
        wait_until(lambda: _rows(engine, "SELECT COUNT(*) FROM reward_programs WHERE condition_id = ?", cid)
                   == [(1,)], 30, interval=0.2, what="the reward program read")
        [(bid_id, price, size)] = wait_until(
            lambda: _rows(engine, "SELECT id, price, size FROM orders WHERE token_id = ? AND side = 'BUY' "
                                  "AND status = 'LIVE'", yes), 30, interval=0.1, what="a bid quoted")
        assert (price, size) == (490_000, 80 * PUSD)  # one cent under the mid: inside the 3-cent spread
        # The desk's scoring and the venue's agree: the quote scores.
        wait_until(lambda: _rows(engine, "SELECT scoring, venue_scoring FROM reward_scores WHERE order_id = ?",
                                 bid_id) == [(1, 1)], 30, interval=0.2, what="the bid scored by desk and venue")
        wait_until(lambda: _rows(engine, "SELECT estimated > 0 FROM reward_days WHERE strategy = 'mm' "
                                         "AND condition_id = ?", cid) == [(1,)], 30, interval=0.2,
                   what="an estimate")
        sim.sample_rewards()  # the venue's sample: the desk is alone inside the spread
        taken = sim.place_liquidity(yes, "SELL", "0.49", "80")  # takes the bid: a maker fill, a taker fee
        fee = Decimal(sim.trade(taken["trade_id"])["fee"])
        wait_until(lambda: _rows(engine, "SELECT status FROM fills") == [("CONFIRMED",)], 30, interval=0.1,
                   what="the maker fill confirmed")
        rewards = sim.pay_rewards()["paid"]
        rebates = sim.pay_rebates()["paid"]
        assert Decimal(rewards[wallet.lower()]) == 20
        assert Decimal(rebates[wallet.lower()]) == (fee * Decimal("0.25")).quantize(Decimal("0.000001"),
                                                                                      "ROUND_FLOOR")

        def income() -> dict[str, int] | None:
            rows = dict(_rows(engine, "SELECT kind, SUM(amount) FROM cash_ledger WHERE kind IN ('reward', 'rebate') "
                                      "GROUP BY kind"))
            return rows if len(rows) == 2 else None

        booked = wait_until(income, 30, interval=0.2, what="the reward and the rebate booked")
        assert booked == {"reward": 20 * PUSD, "rebate": int(Decimal(rebates[wallet.lower()]) * PUSD)}
        wait_until(lambda: _rows(engine, "SELECT SUM(paid) FROM reward_days WHERE strategy = 'mm'")
                   == [(20 * PUSD,)], 30, interval=0.2, what="the paid reward recorded against mm")
        assert ledger_cash(engine) == venue_cash(sim, wallet)
    finally:
        engine.cleanup()
