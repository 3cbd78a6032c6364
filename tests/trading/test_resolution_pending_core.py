"""Resolution risk (issue 39): a market whose outcome is proposed while its book still trades is not
entered. The real trading core against the simulator (paper): after the market refresh reads the
proposal from Gamma, the market maker's bids there are withdrawn and refused (RESOLUTION_PENDING in
the decisions log, with the status), its ask on what it holds stays (exits go through), another
market is quoted as before, and the operator is alerted once that a held market is resolving."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.domain import Side
from simulator.testing import SimHandle, approved_simulator
from tests.trading.test_strategy_limits_core import _core, _hold, _rows, _scripted_book, _started

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=47, agents=False, resolution_delay_s=3600) as handle:
        yield handle


def _orders(core, cid: str) -> set[tuple[str, Side]]:
    """(outcome, side) of the desk's working orders in `cid`."""
    return {(o.outcome.value, o.side) for o in core.executor.state.orders.values() if o.condition_id == cid}


def test_a_proposed_market_is_not_entered_and_its_position_can_still_be_sold(tmp_path: Path,
                                                                             sim: SimHandle) -> None:
    resolving, other = sim.market(neg_risk=False, index=1), sim.market(neg_risk=False, index=2)
    for market in (resolving, other):
        _scripted_book(sim, market, "0.48", "0.52")
    cid = resolving["condition_id"]
    core = _core(tmp_path, sim, {"mm": ([cid, other["condition_id"]], {})})

    async def scenario() -> None:
        await _started(core)
        await _hold(core, "mm", cid)
        await core.tick()
        core.executor.drain()
        assert _orders(core, cid) == {("YES", Side.BUY), ("YES", Side.SELL)}  # a bid, and an ask on what it holds
        sim.resolve(cid, "YES", keep_trading=True)  # decided early: the book trades on
        await core.scheduled.market_refresh()
        assert core.catalog.get(cid).resolution_status == "proposed"
        await core.tick()
        core.executor.drain()
        assert _orders(core, cid) == {("YES", Side.SELL)}  # no new position; the exit stays
        assert _orders(core, other["condition_id"]) == {("YES", Side.BUY), ("NO", Side.BUY)}  # quoted as before
        await core.scheduled.market_refresh()  # the same status again: no second alert
        await core.stop()

    asyncio.run(scenario())
    why = _rows(core, "SELECT DISTINCT condition_id, side, detail FROM decisions WHERE reason = 'RESOLUTION_PENDING'")
    assert {(c, s) for c, s, _ in why} == {(cid, "BUY")}
    assert "resolution proposed: no new position, only exits" in why[0][2]
    alerts = _rows(core, "SELECT level, subject, message FROM alerts WHERE code = 'RESOLUTION_PENDING'")
    assert [(level, subject) for level, subject, _ in alerts] == [("warning", cid)]
    assert "mm hold shares of it" in alerts[0][2]
    assert _rows(core, "SELECT resolution_status FROM markets WHERE condition_id = ?", cid) == [("proposed",)]
