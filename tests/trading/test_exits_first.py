"""Exits come first (issue 34): a take profit or a stop loss whose sale would trade with another
strategy's resting bid in the same market used to be refused as a self-trade and retried for
minutes. Now that strategy's orders there are withdrawn (and acknowledged) first, it is kept out of
the market while the exit lasts, the exit sells at once, and the decisions log says so
(EXIT_FIRST). The real trading core against the simulator, paper venue."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import Side
from simulator.testing import SimHandle, approved_simulator
from tests.helpers import paper_venue
from tests.trading.test_strategy_limits_core import SLIPPAGE, _core, _hold, _mid_is, _rows, _scripted_book, _started

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=43, agents=False) as handle:
        yield handle


def _exit_beside_a_bid(tmp_path: Path, sim: SimHandle, index: int, limits: dict[str, str], new_bid: str,
                       new_ask: str, reason: str) -> Any:
    market = sim.market(neg_risk=False, index=index)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.48", "0.52")
    core = _core(tmp_path, sim, {"exiting": ([cid], limits), "quoting": ([cid], {})}, {"max_slippage": SLIPPAGE})

    async def scenario() -> None:
        await _started(core)
        await core.pause()  # 'quoting''s first quotes withdrawn: the position is bought at the venue's ask
        await _hold(core, "exiting", cid)
        await core.resume()
        _scripted_book(sim, market, new_bid, new_ask)
        mid = (int(float(new_bid) * 1e6) + int(float(new_ask) * 1e6)) // 2
        await _mid_is(core, yes, mid)
        await core.tick()  # 'quoting' rests its bid at the new mid less 0.02, above the exit's floor
        for _ in range(3):
            paper_venue(core).advance()
            core.executor.drain()
            if core.executor.state.totals("exiting", yes).size == 0:
                break
            await core.tick()
        assert core.executor.state.totals("exiting", yes).size == 0  # sold at once, not backed off
        await core.tick()  # the exit is over: 'quoting' quotes again
        await core.stop()

    asyncio.run(scenario())
    sale = _rows(core, "SELECT id, created_at, price, status FROM orders WHERE reason = ?", reason)
    assert len(sale) == 1 and sale[0][3] == "FILLED", sale
    sale_id, sold_at, floor = sale[0][0], sale[0][1], sale[0][2]
    crossing = _rows(core, "SELECT status, updated_at, price FROM orders WHERE strategy = 'quoting' AND side = 'BUY' "
                           "AND id < ? AND price >= ?", sale_id, floor)
    assert crossing and all(status == "CANCELED" and at <= sold_at for status, at, _ in crossing), crossing
    why = _rows(core, "SELECT strategy, detail FROM decisions WHERE reason = 'EXIT_FIRST'")
    assert why and all(s == "quoting" and "so that strategy 'exiting'" in d for s, d in why), why
    assert not _rows(core, "SELECT 1 FROM decisions WHERE strategy = 'exiting' AND reason = 'SELF_TRADE'")
    return core


def test_a_take_profit_is_not_held_back_by_another_strategys_bid(tmp_path: Path, sim: SimHandle) -> None:
    _exit_beside_a_bid(tmp_path, sim, 2, {"take_profit_pnl": "1"}, "0.56", "0.58", "take_profit")


def test_a_stop_loss_is_not_held_back_by_another_strategys_bid(tmp_path: Path, sim: SimHandle) -> None:
    core = _exit_beside_a_bid(tmp_path, sim, 1, {"stop_loss_move": "0.05"}, "0.44", "0.49", "stop_loss")
    # held out while the exit lasted, 'quoting' quotes again once it is over
    last = _rows(core, "SELECT MAX(created_at) FROM orders WHERE strategy = 'quoting' AND side = 'BUY'")[0][0]
    sold_at = _rows(core, "SELECT created_at FROM orders WHERE reason = 'stop_loss'")[0][0]
    assert last is not None and last >= sold_at
    assert Side.BUY  # (the side compared in YES space above)
