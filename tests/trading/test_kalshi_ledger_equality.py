"""Kalshi's fees as Kalshi charges them (issue 55 item 3): over 1,000 fills at Kalshi, in fractions of a
contract, at sub-penny prices, as maker and as taker, on a series that charges makers at four times the
rate (so its fees pass a cent and Kalshi's rounding accumulator rebates), the live Kalshi ledger books
each fill's fee as Kalshi reports it, and its cash equals Kalshi's `balance_dollars` to the micro-dollar,
hence to $0.0001. The real trading core, the desk's own client, the simulator's Kalshi side."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.domain import Intent, Quote, Side, Tif
from contracts.venues import KALSHI
from contracts.venues.kalshi import ids as kalshi_ids
from simulator.kalshi.fees import FeeSchedule, SeriesFees, trade_fee
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import now_ms
from tests.kalshi import binary_tickers, structure
from tests.kalshi_desk import Desk, started, until

pytestmark = pytest.mark.slow
SH = kalshi_ids.CONTRACT
MAKER_FILLS, TAKER_FILLS = 800, 200


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=83, agents=False, kalshi_markets=3) as handle:
        yield handle


def test_a_thousand_kalshi_fills_leave_the_ledger_equal_to_kalshis_balance(tmp_path: Path, sim: SimHandle) -> None:
    ticker = next(t for t in binary_tickers(sim) if structure(sim, t) == "deci_cent")  # $0.001 ticks
    sim.call(lambda: setattr(sim.sim.kalshi.exchange.markets[ticker], "fees",
                             SeriesFees(FeeSchedule("quadratic_with_maker_fees", Fraction(4)))))
    desk = Desk(tmp_path, sim, ticker=ticker)
    with sqlite3.connect(desk.db_path) as raw:  # two hundred orders in a minute: above the desk's default limit
        raw.execute("""INSERT INTO risk_limits (name, value, version, updated_at, updated_by)
                        VALUES ('max_order_rate', '10000', 1, 0, 'test')
                        ON CONFLICT (name) DO UPDATE SET value = excluded.value""")
    core = desk.core()
    yes = kalshi_ids.token_id(ticker, "yes")
    rng = random.Random(55)

    async def scenario() -> dict[str, Any]:
        await started(core, desk.kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None and ledger.mode == "live"
        await core.tick()
        book = core.books.book(yes)
        assert book is not None and book.bids and book.asks
        price = book.bids[0].price + 3_000  # a sub-penny bid at the top of the book
        ledger.executor.set_intents([Intent("kx", desk.kalshi, (Quote(Side.BUY, price, 450 * SH, Tif.GTC),))])
        await ledger.executor.reconcile()
        await until(lambda: desk.resting() == 1, "the bid resting at Kalshi")
        counts = [rng.randrange(1, 100) * 10_000 for _ in range(MAKER_FILLS)]  # 0.01 to 0.99 contract
        sim.call(lambda: [sim.sim.kalshi.exchange.house_take(ticker, "ask", price, c, now_ms()) for c in counts])

        def kalshi_fills() -> int:
            return int(sim.call(lambda: len(sim.sim.kalshi.exchange.accounts[desk.account].fills)))

        def fills_booked(n: int) -> bool:
            ledger.executor.drain()
            with core.db.read() as conn:
                return conn.execute(text("SELECT COUNT(*) FROM fills WHERE mode = 'live'")).scalar_one() >= n

        await until(lambda: fills_booked(MAKER_FILLS), "the maker fills reaching the ledger", tries=1200)
        ledger.executor.withdraw("kx")  # the rest of the bid withdrawn (the desk never trades with itself)
        await ledger.executor.reconcile()
        await until(lambda: desk.resting() == 0, "the bid's rest cancelled")
        while kalshi_fills() < MAKER_FILLS + TAKER_FILLS:  # then sell back in pieces, each taking the best bid
            await core.tick()
            bid = core.books.book(yes)
            assert bid is not None and bid.bids
            size = rng.randrange(1, 100) * 10_000
            limit = bid.bids[0].price - 20_000  # (under the best bid: the book may still show our withdrawn one)
            ledger.executor.set_intents([Intent("kx", desk.kalshi, (Quote(Side.SELL, limit, size, Tif.FAK),))])
            await ledger.executor.reconcile()
            await until(lambda: fills_booked(kalshi_fills()) and not ledger.executor.state.orders,
                        "a taker fill reaching the ledger")
        ledger.executor.drain()
        seen = {"cash": ledger.executor.state.cash, "balance": desk.balance(),
                "held": ledger.executor.state.totals("kx", yes).size, "position": desk.position()}
        await core.stop()
        return seen

    seen = asyncio.run(scenario())
    account = sim.call(lambda: sim.sim.kalshi.exchange.accounts[desk.account])
    fills = sim.call(lambda: list(account.fills))
    assert len(fills) == MAKER_FILLS + TAKER_FILLS and sum(f.is_taker for f in fills) == TAKER_FILLS
    schedule = FeeSchedule("quadratic_with_maker_fees", Fraction(4))
    rebated = [f for f in fills if f.fee < trade_fee(schedule, f.count, f.price, taker=f.is_taker)]
    assert rebated  # Kalshi's accumulator gave a cent back on some fills: covered here
    assert any(f.price % 10_000 for f in fills)  # sub-penny prices
    assert seen["cash"] == seen["balance"]  # to the micro-dollar: the $0.0001 balance exactly
    assert seen["held"] == seen["position"]
    with core.db.read() as conn:
        booked = conn.execute(text("SELECT COALESCE(SUM(fee), 0) FROM fills WHERE mode = 'live'")).scalar_one()
        kinds = conn.execute(text("SELECT DISTINCT kind FROM cash_ledger WHERE mode = 'live'")).scalars().all()
    assert booked == sum(f.fee for f in fills)  # each fill's fee as Kalshi reported it
    assert kinds == ["deposit"]  # nothing booked as an unexplained adjustment
