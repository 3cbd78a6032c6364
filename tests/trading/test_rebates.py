"""Maker rebates with a real engine process trading live on the strict simulator: a market
maker's filled quote earns the venue's share of the taker's fee; the venue pays it (here
while the engine is down) and the restart books it as a rebate before the wallet sync, which
then adjusts nothing: the ledger's cash is the wallet's, to the micro-unit."""

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
    # r = 0.25 on every market so one 80-share fill earns more than the 1 pUSD payout minimum.
    with approved_simulator(seed=67, agents=False, fee_rate="0.25") as handle:
        yield handle


def _rows(engine: EngineProcess, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.db_path) as conn:
        return conn.execute(sql, args).fetchall()


def test_a_maker_sessions_rebates_leave_the_restart_sync_at_zero(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=0)
    cid, yes = market["condition_id"], market["yes_token_id"]
    sim.clear_book(cid)
    sim.place_liquidity(yes, "BUY", "0.30", "10")  # a wide book: the mid is 0.50, the quotes inside it
    sim.place_liquidity(yes, "SELL", "0.70", "10")
    engine, wallet = live_desk(tmp_path, sim, mm=({"size": 80, "half_spread": 0.03, "max_spread": 0.9}, [cid]))
    try:
        start(engine)
        bid = wait_until(lambda: _rows(engine, "SELECT price, size FROM orders WHERE token_id = ? AND side = 'BUY' "
                                               "AND status = 'LIVE'", yes), 30, interval=0.1, what="a bid quoted")
        price, size = bid[0]
        taken = sim.place_liquidity(yes, "SELL", str(Decimal(price) / PUSD), str(size // PUSD))  # takes our bid
        fee = Decimal(sim.trade(taken["trade_id"])["fee"])
        assert fee > 0
        wait_until(lambda: _rows(engine, "SELECT status FROM fills") == [("CONFIRMED",)], 20, interval=0.1,
                   what="the maker fill confirmed")
        assert engine.terminate() == 0
        # The venue pays the day's rebates while the engine is away.
        paid = sim.pay_rebates()["paid"]
        assert Decimal(paid[wallet.lower()]) == (fee * Decimal("0.25")).quantize(Decimal("0.000001"), "ROUND_FLOOR")
        start(engine)  # recovery may also wait out the lost-order grace of a quote sent as it stopped
        wait_until(lambda: _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'rebate'"), 20, interval=0.1,
                   what="the rebate booked")
        [(rebate,)] = _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'rebate'")
        assert Decimal(rebate) / PUSD == Decimal(paid[wallet.lower()])
        # The sync at the restart found nothing to adjust: the rebate is income, not a deposit.
        assert [k for (k,) in _rows(engine, "SELECT kind FROM cash_ledger ORDER BY id")] == ["deposit", "rebate"]
        assert _rows(engine, "SELECT COUNT(*) FROM alerts WHERE code = 'CASH_SYNC'") == [(1,)]  # the first start
        assert ledger_cash(engine) == venue_cash(sim, wallet)
    finally:
        engine.cleanup()
