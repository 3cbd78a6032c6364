"""An answer from Kalshi the desk cannot read (engine/venues/kalshi/http.py), met by the live Kalshi ledger's
real executor through the desk's own client against the simulator's Kalshi side: every answer to an
order's create is a body nested 100,000 deep (Kalshi took the order). The pass goes on (it used to end
in a RecursionError out of the client, the order row left PENDING_SUBMIT for good); the outcome is
unknown, as after a 5xx, and the order is looked up: LIVE, one order at Kalshi, nothing stuck."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.domain import Intent, Quote, Side, Tif
from contracts.order_status import OrderStatus
from contracts.venues import KALSHI
from contracts.venues.kalshi import ids as kalshi_ids
from simulator.testing import SimHandle, approved_simulator
from tests.kalshi_desk import Desk, started

pytestmark = pytest.mark.slow
SH = kalshi_ids.CONTRACT
SENDS = 3  # the create and the venue's two sends again with the same client order id


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=83, agents=False, kalshi_markets=2) as handle:
        yield handle


def test_an_unreadable_answer_to_a_create_is_looked_up_and_nothing_is_left_stuck(tmp_path: Path,
                                                                                 sim: SimHandle) -> None:
    desk = Desk(tmp_path, sim)
    core = desk.core()
    yes = kalshi_ids.token_id(desk.ticker, "yes")

    async def scenario() -> tuple[list[OrderStatus], OrderStatus, int]:
        await started(core, desk.kalshi)
        await core.tick()
        ledger = core.ledgers.get(KALSHI)
        book = core.books.book(yes)
        assert ledger is not None and book is not None and book.bids
        low = max(kalshi_ids.CENT, book.bids[-1].price - 5 * kalshi_ids.CENT)  # rests well below the book
        sim.set_faults(kalshi_answer_garbled=SENDS)
        ledger.executor.set_intents([Intent("kx", desk.kalshi, (Quote(Side.BUY, low, 2 * SH, Tif.GTC),))])
        await ledger.executor.reconcile()  # the pass ends normally
        ledger.executor.drain()
        first = [o.status for o in ledger.executor.state.orders.values()]
        for _ in range(200):  # the unknown outcome is looked up (a few seconds after it was sent)
            await ledger.executor.reconcile()
            ledger.executor.drain()
            statuses = [o.status for o in ledger.executor.state.orders.values()]
            if statuses == [OrderStatus.LIVE]:
                break
            await asyncio.sleep(0.05)
        resting = desk.resting()
        await core.stop()
        return first, statuses[0], resting

    first, then, resting = asyncio.run(scenario())
    faults = sim.clear_faults()
    assert faults["stats"]["kalshi_answers_garbled"] == SENDS
    assert first == [OrderStatus.PENDING_SUBMIT]  # unknown: as stored, to be looked up
    assert then is OrderStatus.LIVE and resting == 1  # Kalshi's one order, never a second
