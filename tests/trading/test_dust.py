"""Dust handled as a trader would, in the real trading core against the simulator (paper): a sale
sized so the remainder can still be sold where the market's minimum allows it; a remainder below
the minimum (dust) ends the exit at once instead of retrying it with a growing back-off and keeping
the strategy out of its market; an operator's exit of dust answers that it is dust, sends nothing
and is not retried."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from tests.helpers import paper_venue
from tests.trading.test_strategy_limits_core import SLIPPAGE, _core, _hold, _mid_is, _rows, _started

pytestmark = pytest.mark.slow
SH = 1_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=47, agents=False) as handle:
        yield handle


def _book(sim: SimHandle, market: dict, bids: list[tuple[str, str]], ask: str) -> None:
    sim.clear_book(market["condition_id"])
    for price, size in bids:
        sim.place_liquidity(market["yes_token_id"], "BUY", price, size)
    sim.place_liquidity(market["yes_token_id"], "SELL", ask, "500")


async def _settle(core: TradingCore, ticks: int = 1) -> None:
    for _ in range(ticks):
        paper_venue(core).advance()
        core.executor.drain()
        await core.tick()


def test_an_exit_leaves_a_sellable_remainder_where_the_minimum_allows(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=0)  # minimum order: 5 shares
    cid, yes = market["condition_id"], market["yes_token_id"]
    _book(sim, market, [("0.48", "500")], "0.52")
    core = _core(tmp_path, sim, {"mm": ([cid], {})}, {"max_slippage": SLIPPAGE})

    async def scenario() -> dict:
        await _started(core)
        await core.pause()
        await _hold(core, "mm", cid)  # 20 shares
        _book(sim, market, [("0.49", "17")], "0.52")  # the bids take 17: all of them would leave 3, unsellable
        await _mid_is(core, yes, 505_000)
        answer = await core.operator.exit({"strategy": "mm", "condition_id": cid, "outcome": "YES"})
        await _settle(core)
        await core.stop()
        return answer

    answer = asyncio.run(scenario())
    assert _rows(core, "SELECT size, filled FROM orders WHERE side = 'SELL'") == [(15 * SH, 15 * SH)]
    assert core.executor.state.totals("mm", yes).size == 5 * SH  # at the minimum: it can be sold later
    assert answer["positions"][0]["sold"] == "15"


def test_dust_never_keeps_retrying_nor_blocks_its_strategy(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=1)  # minimum order: 5 shares
    cid, yes = market["condition_id"], market["yes_token_id"]
    _book(sim, market, [("0.48", "500")], "0.52")
    core = _core(tmp_path, sim, {"mm": ([cid], {"stop_loss_move": "0.01", "exit_cooldown": "0"})},
                 {"max_slippage": SLIPPAGE})

    async def scenario() -> dict:
        await _started(core)
        await core.pause()
        await _hold(core, "mm", cid, size=7 * SH)
        _book(sim, market, [("0.49", "4")], "0.51")  # mid 0.50: the stop loss; the bids take 4 of the 7
        await _mid_is(core, yes, 500_000)
        await core.resume()
        await core.tick()  # the stop loss sells what the bids take
        await _settle(core, 4)  # three shares left: dust, the exit is over
        assert core.executor.state.totals("mm", yes).size == 3 * SH
        assert core.desk.exits.active == {}
        answer = await core.operator.exit({"strategy": "mm", "condition_id": cid, "outcome": "YES"})
        assert core.desk.operator_exits.wanted == {}  # nothing to try again
        await _settle(core, 2)
        await core.stop()
        return answer

    answer = asyncio.run(scenario())
    sales = _rows(core, "SELECT reason, filled FROM orders WHERE side = 'SELL' AND tif = 'FAK'")
    assert sales == [("stop_loss", 4 * SH)]  # once: never retried on the dust, nor on the operator's exit
    assert "dust: below the market's minimum order of 5" in answer["positions"][0]["not_sold"]
    quoted_after = _rows(core, "SELECT COUNT(*) FROM orders WHERE strategy = 'mm' AND tif = 'GTC' AND created_at >= "
                               "(SELECT created_at FROM orders WHERE reason = 'stop_loss')")[0][0]
    assert quoted_after > 0  # the strategy quotes its market again: the dust holds nothing back
    assert not _rows(core, "SELECT 1 FROM alerts WHERE code = 'STOP_LOSS' AND message LIKE '%growing back-off%'")
    assert json.dumps(answer)  # the answer is what the command row keeps
