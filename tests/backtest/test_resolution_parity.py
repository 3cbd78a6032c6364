"""Paper and backtest agree on a market's end (issue 91 item 8): a paper session of a cross-venue arbitrage holds
YES on two Polymarket markets and NO on their paired Kalshi markets when all four end: the first pair resolves YES
(its Polymarket YES wins, its Kalshi NO loses), the second NO on Polymarket (its YES loses) while Kalshi voids its
market (the NO paid back at cost). The paper desk settles, redeems and books the payout as it does; a backtest of
the recording of that session, spanning those ends, books the same positions, claims, cash and tax lots through
the same settlement code, on both venues' paper ledgers. The simulator's Polymarket and Kalshi, the real trading
core, a real SQLite file, the real runner."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.venues import KALSHI
from engine.backtest.runner import BacktestSpec, run_sync
from engine.trading.core import TradingCore
from reports.tax_lots import tax_export
from simulator.testing import SimHandle, approved_simulator
from storage.desk.venue_pairs import add_pair
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.backtest.pair_sessions import SESSION_SETTINGS, session_settings
from tests.helpers import set_book
from tests.kalshi import binary_tickers

pytestmark = pytest.mark.slow
ARB = {"margin": 0.02, "max_size": 10, "max_capital": 100}
CHECK_S = 5  # the collections' interval, live and replayed
WAIT_S = 60.0  # bound on each wait (a loaded machine)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=91, agents=False, kalshi_markets=3, resolution_delay_s=0.3) as handle:
        yield handle


def _crossed(sim: SimHandle, market: dict, ticker: str) -> None:
    """The pair crossed once: YES here and NO on Kalshi together cost 0.90, for ten shares."""
    bid = int(sim.call(lambda: max(o.price for o in sim.sim.kalshi.exchange.books[ticker].orders() if o.bid)))
    ask = bid // 10_000 - 10
    set_book(sim, market, ("SELL", f"{ask / 100:.2f}", "10"), ("BUY", f"{(ask - 2) / 100:.2f}", "200"))


def _kalshi_ends(sim: SimHandle, ticker: str, result: str) -> None:
    def go() -> None:
        life = sim.sim.kalshi.lifecycle
        life.determine(ticker, result, None, 0, now_ms())
        if sim.sim.kalshi.exchange.markets[ticker].status != "finalized":
            life.finalize(ticker, now_ms())
    sim.call(go)


async def _until(done: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not done():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def _paper_session(tmp: Path, sim: SimHandle) -> tuple[list[str], list[str], int, int]:
    """The paper session, recorded: the arbitrage fills both legs of both pairs, then every market ends and the
    desk is paid; it records on for two collections more (what a replay's own collections need). Returns
    (the Polymarket markets, their Kalshi tickers, start, end)."""
    settings = session_settings(tmp, sim)
    migrate(settings.db_path)
    db = Database(settings.db_path)
    markets = [sim.market(neg_risk=False, index=i) for i in (0, 1)]  # (a minimum size the arbitrage's 10 reaches)
    tickers = binary_tickers(sim)[:2]
    with db.write() as conn:
        # Decisions on the timed passes only: a replay makes them at the recorded instants (test_parity.py).
        for key, value in (*SESSION_SETTINGS, ("redeem_check_s", CHECK_S), ("decide_on_events", 0)):
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES (:k, :v, 1, 0, 'test')"), {"k": key, "v": json.dumps(value)})
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('xa', 'cross_venue_arb', :p, :m, 1, 0, 0, 'test')"""),
                     {"p": json.dumps(ARB), "m": json.dumps([m["condition_id"] for m in markets])})
    for market, ticker in zip(markets, tickers, strict=True):
        add_pair(db, condition_id=market["condition_id"], kalshi_ticker=ticker, inverted=False,
                 polymarket_question="q", kalshi_title="Kalshi's question", warnings=[], actor="test")
        _crossed(sim, market, ticker)

    async def session() -> tuple[int, int]:
        start = now_ms()
        core = TradingCore(settings, db)
        await core.start(operator=True)
        core.gate.unblock()
        kalshi = core.ledgers.get(KALSHI)
        assert kalshi is not None

        def held(ledger: object) -> int:
            state = ledger.executor.state  # type: ignore[attr-defined]  # a Ledger
            return len({cid for (key, totals) in state.positions.items() if totals.settled > 0
                        for cid in [state.position_market[key][0]]})

        await _until(lambda: held(core.desk) == 2 and held(kalshi) == 2, "both legs of both pairs held")
        await asyncio.sleep(0.5)  # the legs' last reports in
        sim.resolve(markets[0]["condition_id"], "YES")
        sim.resolve(markets[1]["condition_id"], "NO")
        _kalshi_ends(sim, tickers[0], "yes")
        _kalshi_ends(sim, tickers[1], "void")
        poller = core.link.references.poller
        assert poller is not None

        async def ended() -> bool:
            await poller.read_settlements()
            return core.catalog.resolution(markets[1]["condition_id"]) is not None and held(core.desk) == 0 \
                and held(kalshi) == 0
        deadline = asyncio.get_running_loop().time() + WAIT_S
        while not await ended():
            assert asyncio.get_running_loop().time() < deadline, "the markets' ends were never settled"
            await asyncio.sleep(0.1)
        heard = now_ms()
        while core.desk.executor.state.redeemable or kalshi.executor.state.redeemable:  # as the collections job
            assert asyncio.get_running_loop().time() < deadline, "the desk was never paid"
            await core.scheduled.collections()
            await asyncio.sleep(0.2)
        while now_ms() < heard + 2 * CHECK_S * 1000 + 1_000:  # a replay's collections: two runs after the ends
            await asyncio.sleep(0.2)
        await core._stop_loop()
        end = now_ms()
        await core.stop()
        return start, end

    start, end = asyncio.run(session())
    db.dispose()
    return [m["condition_id"] for m in markets], tickers, start, end


def _booked(path: Path) -> dict[str, list[tuple]]:
    """What a ledger file booked, in the paper ledgers (the strategy's name aside: the backtest names its own)."""
    db = Database(path)
    queries = {
        "fills": "SELECT venue, token_id, side, price, size, fee, status FROM fills",
        "positions": "SELECT venue, token_id, outcome, settled, pending, cost, realized, fees FROM positions",
        "resolutions": "SELECT venue, condition_id, payout_yes, payout_no FROM resolutions WHERE mode = 'paper'",
        "claims": "SELECT kind, condition_id, token_id, amount, status FROM claims",
        "cash": "SELECT venue, kind, amount FROM cash_ledger WHERE mode = 'paper'",
        "conversions": "SELECT condition_id, token_id, outcome, shares, price FROM position_conversions",
    }
    with db.read() as conn:
        found = {name: sorted(tuple(r) for r in conn.execute(text(sql))) for name, sql in queries.items()}
    year = datetime.now(UTC).year
    found["tax lots"] = sorted((r.venue, r.token_id, r.sale.shares, r.sale.proceeds, r.sale.basis, r.sale.kind,
                                r.sale.sold_at // 86_400_000) for r in tax_export(db, year, "paper").rows)
    db.dispose()
    return found


def test_paper_and_backtest_book_a_win_a_loss_and_a_void_the_same_on_both_venues(tmp_path: Path,
                                                                                 sim: SimHandle) -> None:
    markets, tickers, start, end = _paper_session(tmp_path, sim)
    paper = _booked(tmp_path / "live.db")
    # The session itself: both venues' legs, a claim paid in cash, the void paid back at cost, the losses 0.
    assert {v for v, *_ in paper["fills"]} == {"polymarket", "kalshi"}
    paid = {c[1]: c[3] for c in paper["claims"] if c[4] == "paid"}  # the winner's claim, the void's refund
    assert set(paid) == {markets[0], f"kalshi:{tickers[1]}"} and len(paper["claims"]) == 2
    assert ("polymarket", "redemption", paid[markets[0]]) in paper["cash"]
    assert ("kalshi", "redemption", paid[f"kalshi:{tickers[1]}"]) in paper["cash"]
    assert {r[1] for r in paper["resolutions"]} >= set(markets)
    assert all(p[3] + p[4] == 0 for p in paper["positions"])  # everything held ended
    spec = BacktestSpec("cross_venue_arb", ARB, start, end, tuple(markets), seed=5)
    result = run_sync(spec, tmp_path / "live.db", session_settings(tmp_path, sim), work_dir=tmp_path / "bt")
    replayed = _booked(tmp_path / "bt" / "backtest.db")
    assert replayed == paper
    ended = result.history["resolutions"]
    assert len(ended["settled"]) == 4 and ended["open"] == [] and ended["owed"] is None
