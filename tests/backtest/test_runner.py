"""The backtest's trade figures come from the ledger's own rule: ghost (FAILED) fills count as
no trade, pay no fee and close nothing; closing PnL adds up to the scratch ledger's realized PnL;
a run stops its trading core once."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from contracts.domain import MICRO, Side
from contracts.settings import load_settings
from engine.backtest.runner import (
    SCRATCH_UNUSED_INDEXES,
    SCRATCH_UNUSED_TRIGGERS,
    BacktestResult,
    BacktestSpec,
    _trade_figures,
    run_sync,
)
from engine.execution.ledger import FillFact, fold
from engine.trading.core import TradingCore
from engine.venues.base import TradeStatus
from storage.sqlite.migrations import migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

SH = 1_000_000
PARAMS = {"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5}


def _ghostly_backtest(tmp: Path) -> tuple[BacktestResult, Path]:
    """A market-making backtest in which about a third of the paper fills turn out FAILED (ghost fills)."""
    path = tmp / "recorded.db"
    markets, start, end = write_recording(path, markets=2, events=10_000, events_per_decision=20)
    with sqlite3.connect(path) as conn:
        for key, value in (("paper_fail_rate", 0.3), ("paper_mined_after_ms", 0)):
            conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES (?, ?, 1, 0, 't')",
                         (key, json.dumps(value)))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
    work = tmp / "work"
    result = run_sync(BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=7), path, settings,
                      work_dir=work)
    return result, work / "backtest.db"


def test_ghost_fills_are_no_trades_and_closing_pnl_matches_the_ledger(tmp_path: Path) -> None:
    result, scratch = _ghostly_backtest(tmp_path)
    real = [f for f in result.fills if f["status"] != TradeStatus.FAILED.value]
    ghosts = len(result.fills) - len(real)
    assert ghosts > 0 and real, "the run must have both real and ghost fills to prove anything"
    assert result.metrics.trades == len(real)
    assert result.metrics.fees == pytest.approx(sum(f["fee"] for f in real) / MICRO)
    # The per-close PnL behind win rate and profit factor adds up to what the ledger realized.
    closes, _, _ = _trade_figures(result.fills)
    with sqlite3.connect(scratch) as conn:
        realized = conn.execute("SELECT COALESCE(SUM(realized), 0) FROM positions").fetchone()[0]
    assert any(f["side"] == Side.SELL.value for f in real), "no sell closed anything"
    assert round(sum(closes) * MICRO) == realized


def test_the_scratch_ledger_drops_the_indexes_and_triggers_only_the_live_desk_reads(tmp_path: Path) -> None:
    """Each name exists in the desk's schema (DROP ... IF EXISTS would leave a renamed one in place,
    silently costing every order write), and none is left in a backtest's scratch ledger, whose
    fills, refusals and cancels queue no notification."""
    desk = tmp_path / "desk.db"
    migrate(desk)
    with sqlite3.connect(desk) as conn:
        schema = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger')")}
    dropped = set(SCRATCH_UNUSED_INDEXES) | set(SCRATCH_UNUSED_TRIGGERS)
    assert dropped <= schema, f"not in the schema: {sorted(dropped - schema)}"
    result, scratch = _ghostly_backtest(tmp_path / "run")
    with sqlite3.connect(scratch) as conn:
        left = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger')")}
        queued = conn.execute("SELECT COUNT(*) FROM notify_events").fetchone()[0]
    assert result.fills and not left & dropped
    assert queued == 0


def _fill(side: Side, price: int, size: int, status: TradeStatus = TradeStatus.CONFIRMED, fee: int = 0) -> FillFact:
    return FillFact(side, price, size, fee, status)


def test_trade_figures_step_through_the_ledger_rule() -> None:
    facts = [
        _fill(Side.BUY, 400_000, 10 * SH, fee=3),
        _fill(Side.BUY, 500_000, 5 * SH, TradeStatus.FAILED, fee=2),  # a ghost: no cost, no fee, no trade
        _fill(Side.BUY, 430_000, 7 * SH, TradeStatus.MATCHED, fee=1),
        _fill(Side.SELL, 600_000, 4 * SH, fee=1),
        _fill(Side.SELL, 900_000, 20 * SH, TradeStatus.FAILED),
        _fill(Side.SELL, 550_000, 13 * SH, TradeStatus.MINED),
    ]
    rows = [{"token_id": "T", "side": f.side.value, "price": f.price, "size": f.size, "fee": f.fee,
             "status": f.status.value} for f in facts]
    closes, fees, trades = _trade_figures(rows)
    ledger = fold(facts)
    assert (trades, fees) == (4, ledger.fees) == (4, 5)
    assert len(closes) == 2 and round(sum(closes) * MICRO) == ledger.realized


def test_a_run_stops_its_core_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stops: list[int] = []
    real_stop = TradingCore.stop

    async def counting_stop(self: TradingCore) -> None:
        stops.append(1)
        await real_stop(self)

    monkeypatch.setattr(TradingCore, "stop", counting_stop)
    path = tmp_path / "r.db"
    markets, start, end = write_recording(path, markets=1, events=300)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(path)})
    run_sync(BacktestSpec("market_making", PARAMS, start, end, tuple(markets)), path, settings,
             work_dir=tmp_path / "w")
    assert len(stops) == 1


def _plain_backtest(tmp: Path, params: dict, events: int = 4_000, timed: bool = False) -> BacktestResult:
    """`timed`: the desk recorded deciding on its timed passes only (decide_on_events 0)."""
    path = tmp / "recorded.db"
    if not path.exists():
        write_recording(path, markets=2, events=events, events_per_decision=20)
    with sqlite3.connect(path) as conn:
        if timed:
            conn.execute("INSERT OR REPLACE INTO settings (key, value, version, updated_at, updated_by) "
                         "VALUES ('decide_on_events', '0', 1, 0, 'test')")
        markets = [r[0] for r in conn.execute("SELECT condition_id FROM markets ORDER BY condition_id")]
        start, end = conn.execute("SELECT MIN(at), MAX(at) FROM ticks").fetchone()
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
    return run_sync(BacktestSpec("market_making", params, start, end, tuple(markets), seed=1), path, settings,
                    work_dir=tmp / "work")


def test_a_size_below_the_markets_minimum_is_explained_with_counts_by_reason(tmp_path: Path) -> None:
    # The recording's markets take at least 5 shares: 2-share quotes can never be placed. Decided on
    # the timed passes: on events, the maker decides again between partial fills, and the few shares
    # a partial fill leaves (3 here) are routed as a sell below the minimum (reduce first), so
    # BELOW_MIN_SIZE shows for 20-share quotes too.
    refused = _plain_backtest(tmp_path, {**PARAMS, "size": 2}, timed=True)
    assert refused.orders == [] and refused.fills == []
    summary = refused.refusals
    # Every quote check ends refused: below the markets' minimum size at the planner, or below
    # the minimum order value at the gate (2 shares at a low price).
    assert summary["checked"] > 0 and sum(summary["refused"].values()) == summary["checked"]
    assert summary["refused"]["BELOW_MIN_SIZE"] > 0 and summary["refused_share"] == 1.0
    assert summary["note"].startswith("Most quotes were refused") and "BELOW_MIN_SIZE" in summary["note"]
    # A size the markets take trades; what is refused then is for other reasons (here the
    # order-rate limit, as quotes move at every decision), counted all the same.
    fine = _plain_backtest(tmp_path, PARAMS, timed=True)
    assert fine.orders and "BELOW_MIN_SIZE" not in fine.refusals["refused"]
    assert sum(fine.refusals["refused"].values()) < fine.refusals["checked"]


def test_a_short_run_reports_no_annualized_ratios_and_its_stored_curve_keeps_the_drawdown(tmp_path: Path) -> None:
    from contracts.metrics import max_drawdown
    from storage.research import backtest_runs as store
    from storage.research.launch_requests import request_backtest
    from storage.sqlite.db import Database

    result = _plain_backtest(tmp_path, PARAMS, events=20_000)
    metrics = result.metrics
    assert metrics.span_ms < 86_400_000 and (metrics.sharpe, metrics.sortino, metrics.calmar) == (None, None, None)
    assert metrics.annualized_return is None  # compounding minutes to a year is noise, not a figure
    assert "annualized figures (return, Sharpe, Sortino, Calmar) need at least 30 days" in metrics.not_annualized
    assert metrics.max_drawdown > 0 and metrics.sharpe_per_period is not None
    path = tmp_path / "recorded.db"
    db = Database(path)
    monkey_limit = store.MAX_CURVE_POINTS
    store.MAX_CURVE_POINTS = 50  # far fewer than the decisions: the stored curve is thinned
    try:
        run_id = request_backtest(db, BacktestSpec("market_making", PARAMS, 0, 1), "t", actor="test")
        store.finish(db, run_id, result)
    finally:
        store.MAX_CURVE_POINTS = monkey_limit
    with sqlite3.connect(path) as conn:
        (curve,) = conn.execute("SELECT equity_curve FROM strategy_runs WHERE id = ?", (run_id,)).fetchone()
        stored = json.loads(curve)
    assert len(stored) < len(result.curve)
    assert max_drawdown([e for _, e, _ in stored]) == pytest.approx(metrics.max_drawdown)
    db.dispose()


def test_round_trips_are_timed_from_the_first_share_until_flat() -> None:
    from engine.backtest.results import TradeFigures

    figures = TradeFigures()
    for at, side, size, status in ((1_000, Side.BUY, 10, TradeStatus.MATCHED), (2_000, Side.BUY, 5, TradeStatus.MINED),
                                   (4_000, Side.SELL, 15, TradeStatus.MINED),  # flat: 3 s held
                                   (5_000, Side.BUY, 2, TradeStatus.FAILED),  # a ghost opens nothing
                                   (6_000, Side.BUY, 3, TradeStatus.MINED), (9_000, Side.SELL, 1, TradeStatus.MINED)):
        figures.step({"token_id": "T", "side": side.value, "price": 500_000, "size": size * SH, "fee": 0,
                      "status": status.value, "matched_at": at})
    assert figures.holdings == [3_000]  # the second holding is still open at the end: not counted
