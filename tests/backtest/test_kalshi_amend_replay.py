"""Quotes moved in place on Kalshi's paper ledger (issue 91, item 2), in a paper session and in the backtest of its
recording: a market maker on a Kalshi market whose book moves requotes by amending its resting order (Kalshi's
Amend Order (V2), as the paper venue standing in for Kalshi applies it) instead of cancelling and replacing it,
and the backtest replays the same amends through the same executor and paper venue: the same orders, at the
same final terms, each moved in place as the session moved it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.venues.kalshi import ids as kalshi_ids
from engine.backtest.runner import BacktestSpec, run_sync
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from tests.backtest.pair_sessions import recorded_session, session_settings
from tests.kalshi import binary_tickers

pytestmark = pytest.mark.slow
MM = {"fair_value": "mid", "half_spread": 0.03, "size": 10, "skew_per_share": 0, "max_spread": 1,
      "refresh_threshold": 0.0}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=31, agents=False, kalshi_markets=2) as handle:
        yield handle


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    db = Database(path)
    with db.read() as conn:
        found = [tuple(r) for r in conn.execute(text(sql))]
    db.dispose()
    return found


def _amends(path: Path) -> list[tuple[Any, ...]]:
    return _rows(path, "SELECT order_id, price, decrease FROM order_amends WHERE status = 'applied' ORDER BY id")


def test_a_kalshi_market_maker_amends_its_quotes_in_the_session_and_in_its_backtest(tmp_path: Path,
                                                                                      sim: SimHandle) -> None:
    market = sim.market(neg_risk=False)
    ticker = binary_tickers(sim)[1]
    moved: list[int] = []

    def quoted_then_moved(core: TradingCore) -> bool:
        """Once it quotes, Kalshi's three best bids are taken away (its mid falls 1.5 cents): done once the
        desk's bid has followed it down, in place."""
        if not moved:
            with core.db.read() as conn:
                if conn.execute(text("SELECT COUNT(*) FROM orders WHERE strategy = 'kx'")).scalar_one() < 2:
                    return False

            def drop() -> None:
                exchange = sim.sim.kalshi.exchange
                bids = sorted((o for o in exchange.books[ticker].orders() if o.bid), key=lambda o: -o.price)
                for order in bids[:3]:
                    exchange.cancel(order.account, order.order_id, now_ms())
            sim.call(drop)
            moved.append(now_ms())
            return False
        return bool(_amends(tmp_path / "live.db"))

    start, end = recorded_session(tmp_path, sim, market["condition_id"], ticker, kind="market_making", name="kx",
                                  params=MM, markets=[kalshi_ids.market_id(ticker)], inverted=False,
                                  done=quoted_then_moved)
    session = _amends(tmp_path / "live.db")
    orders = _rows(tmp_path / "live.db", "SELECT side, price, size FROM orders WHERE strategy = 'kx' ORDER BY id")
    assert session and not any(decrease for *_, decrease in session)  # the bid moved down, in place
    assert len(orders) == 2  # a bid and an ask, never replaced
    spec = BacktestSpec("market_making", MM, start, end, (kalshi_ids.market_id(ticker),), seed=5)
    result = run_sync(spec, tmp_path / "live.db", session_settings(tmp_path, sim), work_dir=tmp_path / "bt")
    assert [(o["side"], o["price"], o["size"]) for o in result.orders] == orders  # the same orders, as amended
    assert [price for _, price, _ in _amends(tmp_path / "bt" / "backtest.db")] == [p for _, p, _ in session]
