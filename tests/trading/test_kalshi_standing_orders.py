"""The manual ticket's standing orders on Kalshi's ledger, in the real trading core against the
simulator's Kalshi (paper): a ticket naming a Kalshi market goes through Kalshi's ledger, never the
desk's; a trailing stop there follows Kalshi's best bid and sells on that ledger when another trader
takes the bids down through it; an iceberg there shows one slice on Kalshi's price grid and lot, and one
whose slice is worth less than the risk gate's min order value is refused when it is placed, saying so."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.command_refusal import CommandRejected
from contracts.settings import load_settings
from contracts.venues import KALSHI
from contracts.venues.kalshi import ids as kalshi_ids
from contracts.venues.kalshi.grid import on_grid
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.desk.venue_pairs import add_pair
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.kalshi import binary_tickers, trade
from tests.trading.test_trailing_stop import IDLE

pytestmark = pytest.mark.slow
SH = kalshi_ids.CONTRACT


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=73, agents=False, kalshi_markets=4) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle) -> tuple[TradingCore, str, str]:
    """A paper desk whose one strategy (placing nothing) names a Kalshi market paired by hand: Kalshi's paper
    ledger opens for it."""
    market = sim.market(neg_risk=False)
    ticker = binary_tickers(sim)[0]
    kalshi = kalshi_ids.market_id(ticker)
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('kx', 'accumulate', :p, :m, 1, 0, 0, 'test')"""),
                     {"p": json.dumps(IDLE), "m": json.dumps([kalshi])})
        conn.execute(text("INSERT INTO risk_limits (name, value, version, updated_at, updated_by) "
                          "VALUES ('max_slippage', '0.03', 1, 0, 'test')"))
    add_pair(db, condition_id=market["condition_id"], kalshi_ticker=ticker, inverted=False,
             polymarket_question="q", kalshi_title="Kalshi's question", warnings=[], actor="test")
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db), kalshi, ticker


async def _best_bid(core: TradingCore, token: str, price: int) -> None:
    for _ in range(300):
        book = core.books.book(token)
        if book is not None and book.best_bid is not None and book.best_bid.price == price:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"Kalshi's best bid never came to {price}")


def _orders(core: TradingCore) -> list[tuple[Any, ...]]:
    with core.db.read() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT venue, strategy, side, tif, price, size, filled, status, reason FROM orders ORDER BY id"))]


def test_a_trailing_stop_and_an_iceberg_on_kalshis_ledger(tmp_path: Path, sim: SimHandle) -> None:
    core, kalshi, ticker = _core(tmp_path, sim)
    yes = kalshi_ids.token_id(ticker, "yes")
    said: dict[str, Any] = {}

    async def scenario() -> None:
        await core.start(operator=True)
        core.gate.unblock()
        await core._stop_loop()
        await _best_bid(core, yes, 620_000)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None and ledger.live
        await core.tick()
        await core.operator.place_order({"condition_id": kalshi, "outcome": "YES", "side": "BUY", "size": 20,
                                         "price": "0.64", "tif": "FAK"})
        for _ in range(3):
            await core.tick()
        assert ledger.executor.state.totals("manual", yes).sellable == 20 * SH
        said["trail"] = await core.operator.place_order({"condition_id": kalshi, "outcome": "YES", "side": "SELL",
                                                         "trail": "0.02"})
        trade(sim, ticker, "ask", "0.61", "301")  # another trader sells down through 0.62 and 0.61
        await _best_bid(core, yes, 600_000)
        for _ in range(3):
            await core.tick()
        with pytest.raises(CommandRejected) as small:
            await core.operator.place_order({"condition_id": kalshi, "outcome": "YES", "side": "BUY", "size": 4,
                                             "price": "0.30", "slice": 2})
        said["small"] = str(small.value)
        said["iceberg"] = await core.operator.place_order({"condition_id": kalshi, "outcome": "YES", "side": "BUY",
                                                           "size": 20, "price": "0.30", "slice": 5})
        said["shown"] = [(o.size, o.price) for o in ledger.executor.state.orders.values() if o.strategy == "manual"]
        said["desk"] = [o for o in core.executor.state.orders.values() if o.strategy == "manual"]
        await core.stop()

    asyncio.run(scenario())
    assert (said["trail"]["high_water"], said["trail"]["stop"]) == ("0.62", "0.6")
    orders = _orders(core)
    sales = [o for o in orders if o[-1] == "trailing_stop"]
    assert [(o[0], o[2], o[3], o[6], o[7]) for o in sales] == [("kalshi", "SELL", "FAK", 20 * SH, "FILLED")]
    assert "below the min order value" in said["small"]
    assert said["shown"] == [(5 * SH, 300_000)] and said["desk"] == []  # one slice, on Kalshi's ledger only
    info = core.catalog.get(kalshi)
    assert info is not None
    slices = [o for o in orders if str(o[-1]).startswith("iceberg #")]
    assert [(o[0], o[1], o[5]) for o in slices] == [("kalshi", "manual", 5 * SH)]
    assert all(on_grid(o[4], info.price_grid) and o[5] % kalshi_ids.LOT == 0 for o in orders)
    assert {o[0] for o in orders} == {"kalshi"}  # nothing of it went through the desk's (Polymarket's) ledger
