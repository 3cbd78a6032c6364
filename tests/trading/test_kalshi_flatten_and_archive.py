"""The live Kalshi ledger (the real trading core, Kalshi armed live on the simulator's Kalshi side) where
Kalshi's cancel-all and its archive of settled positions meet it (issue 88, items 2 and 3):

- A flatten of everything on the live Kalshi ledger cancels every resting order in Kalshi's one Cancel All
  Orders call (every shard), then sells what is held.
- A market Kalshi settled and moved to its archive (`/historical/positions`, past the historical cutoff)
  while the ledger still holds its contracts is read there: the balance check counts it as settling (the
  settlement is booked once the ledger hears of it), never as contracts missing, so the ledger is not halted.
- Money split across Kalshi's shards, or on its way between two of them, is counted where Kalshi keeps it:
  never a difference from the ledger (issue 88, item 1).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import Intent, Quote, Side, Tif
from contracts.venues import KALSHI
from contracts.venues.kalshi import ids as kalshi_ids
from simulator.testing import SimHandle, approved_simulator
from tests.kalshi import admin
from tests.kalshi_desk import Desk, bought, started, until

pytestmark = pytest.mark.slow
SH = 1_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=188, agents=False, kalshi_markets=3) as handle:
        yield handle


def test_a_flatten_of_everything_cancels_every_kalshi_order_in_one_call_then_sells(
        tmp_path: Path, sim: SimHandle) -> None:
    desk = Desk(tmp_path, sim, market=0)
    core = desk.core()
    yes = kalshi_ids.token_id(desk.ticker, "yes")
    seen: Counter[str] = Counter()
    sim.call(lambda: sim.sim.kalshi.observers.append(
        lambda method, route, status, body: seen.update([f"{method} {route} {status}"])))

    async def scenario() -> dict[str, Any]:
        await started(core, desk.kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None
        await bought(core, desk, 3 * SH)
        ledger.executor.set_intents([Intent("kx", desk.kalshi, (Quote(Side.BUY, 20_000, 2 * SH, Tif.GTC),))])
        await ledger.executor.reconcile()
        await until(lambda: desk.resting() == 1, "a bid resting at Kalshi")
        seen.clear()
        answer = await core.operator.flatten({})

        def flat() -> bool:
            ledger.executor.drain()
            return not ledger.executor.state.totals("kx", yes).size

        await until(flat, "the position sold")
        out = {"answer": answer, "resting": desk.resting(), "position": desk.position()}
        await core.stop()
        return out

    out = asyncio.run(scenario())
    assert seen["DELETE /portfolio/events/orders 204"] == 1  # every resting order, every shard, one call
    assert not [k for k in seen if k.startswith("DELETE /portfolio/events/orders/")]  # none one by one
    assert out["resting"] == 0 and out["position"] == 0
    [cancelled, *_] = out["answer"]["kalshi_live"]
    assert cancelled["cancelled"]["cancelled"] == 1


def test_a_market_settled_and_archived_by_kalshi_is_settling_not_missing(tmp_path: Path, sim: SimHandle) -> None:
    desk = Desk(tmp_path, sim, market=1)
    core = desk.core()

    async def scenario() -> list[tuple[str, ...] | None]:
        await started(core, desk.kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None
        await bought(core, desk, 4 * SH)
        desk.settle("yes")  # settled and paid at Kalshi; the desk has not read the market's status yet
        admin(sim, "/_sim/kalshi/historical/cutoff", {"lag_s": 0})  # and archived past the cutoff at once
        try:
            archived = await ledger.executor.venue.client.account.historical_positions()  # type: ignore[attr-defined]  # the Kalshi venue's
            assert [p.ticker for p in archived] == [desk.ticker]
            assert await ledger.executor.venue.client.positions(  # type: ignore[attr-defined]  # the Kalshi venue's
                settlement_status="settled") == []  # served by the archive alone now
            readings = []
            for _ in range(2):  # what a confirmed difference needs: two readings alike, no fill between
                reading = await ledger.balance_watch.read(ledger.executor)
                readings.append(None if reading is None else reading.shortfalls)
        finally:
            admin(sim, "/_sim/kalshi/historical/cutoff", {"lag_s": 90 * 86_400})
        await core.stop()
        return readings

    readings = asyncio.run(scenario())
    assert readings == [(), ()]  # its 4 contracts settling, not missing: nothing that would halt the ledger


def test_money_split_across_shards_or_moving_between_them_is_no_difference(tmp_path: Path, sim: SimHandle) -> None:
    """The account's $1,000 split 600 / 399.50 / 0.50 across shards 0 / 1 / 2, then $20 on its way from
    shard 0 to shard 2 (accepted, not arrived): the ledger's cash equals Kalshi's money every time, so the
    balance check finds no drift."""
    desk = Desk(tmp_path, sim, market=2)
    desk.fund({0: "600.00", 1: "399.50", 2: "0.50"})
    core = desk.core()

    async def scenario() -> list[int | None]:
        await started(core, desk.kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None
        drifts = []
        reading = await ledger.balance_watch.read(ledger.executor)
        drifts.append(None if reading is None else reading.drift)
        moved = await ledger.executor.venue.funds.move_funds(0, 2, 20 * SH)  # type: ignore[attr-defined]  # Kalshi's
        assert "accepted, not arrived" in str(moved["status"])
        assert sim.call(lambda: sim.sim.kalshi.exchange.accounts[desk.account].funds[2]) == 500_000  # on its way
        reading = await ledger.balance_watch.read(ledger.executor)
        drifts.append(None if reading is None else reading.drift)
        await core.stop()
        return drifts

    assert asyncio.run(scenario()) == [0, 0]
