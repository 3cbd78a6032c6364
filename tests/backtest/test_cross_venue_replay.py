"""Research on a cross-venue arbitrage (issue 40, item 7): a paper session of a `cross_venue_arb` strategy on a
Polymarket market paired with a Kalshi market records both venues' books, and a backtest of that recording
replays them both, each into its own venue's paper venue, through the same code as live: the strategy's
legs on both ledgers, the same orders as it placed in the session, its equity both ledgers' together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.venues.kalshi import ids as kalshi_ids
from engine.backtest.runner import BacktestError, BacktestSpec, run_sync
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database
from tests.backtest.pair_sessions import recorded_session, session_settings
from tests.helpers import set_book
from tests.kalshi import binary_tickers

pytestmark = pytest.mark.slow
ARB = {"margin": 0.02, "max_size": 10, "max_capital": 100}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=89, agents=False, kalshi_markets=1) as handle:
        yield handle


def _session(tmp: Path, sim: SimHandle) -> tuple[str, str, int, int]:
    """A paper session of the arbitrage on a pair whose YES here + NO on Kalshi costs 0.90, recorded."""
    market = sim.market(neg_risk=False)
    ticker = binary_tickers(sim)[0]
    bid = int(sim.call(lambda: max(o.price for o in sim.sim.kalshi.exchange.books[ticker].orders() if o.bid)))
    bid //= 10_000  # whole cents
    ask = bid - 10
    set_book(sim, market, ("SELL", f"{ask / 100:.2f}", "200"), ("BUY", f"{(ask - 2) / 100:.2f}", "200"))

    def both_legs_out(core: TradingCore) -> bool:
        with core.db.read() as conn:
            venues = set(conn.execute(text("SELECT venue FROM orders WHERE strategy = 'xa'")).scalars())
        return venues == {"polymarket", "kalshi"}

    start, end = recorded_session(tmp, sim, market["condition_id"], ticker, kind="cross_venue_arb", name="xa",
                                  params=ARB, markets=[market["condition_id"]], inverted=False, done=both_legs_out)
    return market["condition_id"], ticker, start, end


def test_a_cross_venue_arbitrage_backtests_on_both_venues_as_it_traded(tmp_path: Path, sim: SimHandle) -> None:
    cid, ticker, start, end = _session(tmp_path, sim)
    live = Database(tmp_path / "live.db")
    with live.read() as conn:
        traded = [tuple(r) for r in conn.execute(text(
            "SELECT venue, token_id, side, price, size, tif FROM orders WHERE strategy = 'xa' ORDER BY id"))]
    live.dispose()
    assert {o[0] for o in traded} == {"polymarket", "kalshi"}
    spec = BacktestSpec("cross_venue_arb", ARB, start, end, (cid,), seed=5)
    result = run_sync(spec, tmp_path / "live.db", session_settings(tmp_path, sim), work_dir=tmp_path / "bt")
    replayed = sorted((o["token_id"], o["side"], o["price"], o["size"], o["tif"]) for o in result.orders)
    assert replayed == sorted(o[1:] for o in traded)  # the same legs, on both venues
    assert kalshi_ids.token_id(ticker, "no") in {o[0] for o in replayed}
    assert result.curve.values and abs(result.curve.values[0] - 20_000) < 5  # both ledgers' equity together
    with pytest.raises(BacktestError, match="recorded data"):  # a Kalshi market has no price history here
        run_sync(BacktestSpec("cross_venue_arb", ARB, start, end, (cid,), seed=5, source="history"),
                 tmp_path / "live.db", session_settings(tmp_path, sim), work_dir=tmp_path / "bad")
