"""Research on a pair (issue 40): a paper session quoting a Polymarket market around its paired
Kalshi market's mid records the Kalshi books beside Polymarket's (the recorder's ticks, tokens
`kalshi:<ticker>:yes|no`), and a backtest of that recording prices the pair from the replayed Kalshi
books through the same code as live: the same orders, around the same Kalshi mid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts import kalshi_ids
from contracts.settings import Settings
from contracts.venues import KALSHI
from engine.backtest.runner import BacktestSpec, run_sync
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database
from tests.backtest.pair_sessions import recorded_session, session_settings
from tests.kalshi import binary_tickers

pytestmark = pytest.mark.slow
PARAMS = {"fair_value": "reference", "half_spread": 0.03, "size": 10, "skew_per_share": 0, "max_spread": 1,
          "refresh_threshold": 0.0}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=29, agents=False, kalshi_markets=2) as handle:
        yield handle


def _settings(tmp: Path, sim: SimHandle) -> Settings:
    return session_settings(tmp, sim)


def _record(tmp: Path, sim: SimHandle, cid: str, ticker: str, *, strategy: tuple[str, dict, list[str]] | None = None,
            inverted: bool = True) -> tuple[int, int]:
    """A paper session of `strategy` (name, params, markets; by default mm quoting the Polymarket
    market around its paired Kalshi mid) until it has quoted a few passes, recorded."""
    name, params, markets = strategy or ("mm", PARAMS, [cid])

    def quoted(core: TradingCore) -> bool:
        kalshi = core.ledgers.get(KALSHI)
        site = kalshi if kalshi is not None else core.desk
        return sum(1 for o in site.executor.state.orders.values() if o.strategy == name) >= 2

    return recorded_session(tmp, sim, cid, ticker, kind="market_making", name=name, params=params, markets=markets,
                            inverted=inverted, done=quoted)


def test_a_recorded_pair_backtests_around_the_same_kalshi_price(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False)
    cid = market["condition_id"]
    ticker = binary_tickers(sim)[0]
    yes, no = sim.call(lambda: sim.sim.kalshi.exchange.books[ticker].levels())
    kalshi_mid = (max(yes) + kalshi_ids.CONTRACT - max(no)) // 2
    sim.clear_book(cid)  # Polymarket's book wide around the (inverted) Kalshi price: quotes rest inside it
    fair = kalshi_ids.CONTRACT - kalshi_mid
    sim.place_liquidity(market["yes_token_id"], "BUY", f"{(fair - 100_000) / 1e6:.2f}", "500")
    sim.place_liquidity(market["yes_token_id"], "SELL", f"{(fair + 100_000) / 1e6:.2f}", "500")
    start, end = _record(tmp_path, sim, cid, ticker)
    live = Database(tmp_path / "live.db")
    with live.read() as conn:
        kinds = {r[0] for r in conn.execute(text("SELECT kind FROM ticks WHERE token_id = :t"),
                                             {"t": kalshi_ids.token_id(ticker, "yes")})}
        orders = [tuple(r) for r in conn.execute(text(
            "SELECT token_id, side, price, size, tif FROM orders WHERE strategy = 'mm' ORDER BY id"))]
    live.dispose()
    assert "book" in kinds  # the Kalshi book was recorded beside Polymarket's
    assert orders and {o[2] for o in orders if o[1] == "BUY" and o[0] == market["yes_token_id"]} == \
        {fair - 30_000}  # quoted 0.03 under the inverted Kalshi mid
    spec = BacktestSpec("market_making", PARAMS, start, end, (cid,), seed=5)
    result = run_sync(spec, tmp_path / "live.db", _settings(tmp_path, sim), work_dir=tmp_path / "bt")
    replayed = [(o["token_id"], o["side"], o["price"], o["size"], o["tif"]) for o in result.orders]
    assert replayed == orders  # priced from the replayed Kalshi book, as live priced it


KALSHI_MM = {"fair_value": "mid", "half_spread": 0.03, "size": 10, "skew_per_share": 0, "max_spread": 1,
             "refresh_threshold": 0.0}


def test_a_kalshi_strategy_backtests_on_kalshis_paper_ledger_as_it_traded(tmp_path: Path, sim: SimHandle) -> None:
    from engine.backtest.runner import BacktestError

    market = sim.market(neg_risk=False)
    ticker = binary_tickers(sim)[1]
    start, end = _record(tmp_path, sim, market["condition_id"], ticker, inverted=False,
                         strategy=("kx", KALSHI_MM, [kalshi_ids.market_id(ticker)]))
    live = Database(tmp_path / "live.db")
    with live.read() as conn:
        orders = [tuple(r) for r in conn.execute(text(
            "SELECT venue, token_id, side, price, size, tif FROM orders WHERE strategy = 'kx' ORDER BY id"))]
    live.dispose()
    assert orders and {o[0] for o in orders} == {"kalshi"}
    spec = BacktestSpec("market_making", KALSHI_MM, start, end, (kalshi_ids.market_id(ticker),), seed=5)
    result = run_sync(spec, tmp_path / "live.db", _settings(tmp_path, sim), work_dir=tmp_path / "bt")
    replayed = [("kalshi", o["token_id"], o["side"], o["price"], o["size"], o["tif"]) for o in result.orders]
    assert replayed == orders  # the same Kalshi orders, through Kalshi's paper ledger
    assert result.curve.values and abs(result.curve.values[0] - 10_000) < 1  # its own ledger's equity
    bad = [(("kalshi:NOPE-1",), "not paired"), ((kalshi_ids.market_id(ticker), market["condition_id"]), "one venue")]
    for markets, why in bad:
        with pytest.raises(BacktestError, match=why):
            run_sync(BacktestSpec("market_making", KALSHI_MM, start, end, markets, seed=5), tmp_path / "live.db",
                     _settings(tmp_path, sim), work_dir=tmp_path / "bad")
    with pytest.raises(BacktestError, match="names the Polymarket markets"):  # its Kalshi side is each pair's
        run_sync(BacktestSpec("cross_venue_arb", {}, start, end, (kalshi_ids.market_id(ticker),), seed=5),
                 tmp_path / "live.db", _settings(tmp_path, sim), work_dir=tmp_path / "bad")
