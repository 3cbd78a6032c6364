"""A backtest says how sure its PnL and markouts are: each fill's share of the PnL (its markout
against the run's last mid, less its fee) and a bootstrap interval over the fills around the PnL
the equity shows, kept with the run (engine/backtest/confidence.py, contracts/bootstrap.py)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from contracts.domain import Side
from engine.analytics.markouts import FillPoint
from engine.backtest.confidence import FillShares
from tests.backtest.test_runner import PARAMS, _plain_backtest

M = 1_000_000


def test_a_fills_share_is_its_markout_to_the_last_mid_less_its_fee() -> None:
    shares = FillShares({"yes": 500_000, "gone": None}.get)
    shares.add("yes", FillPoint(Side.BUY, 400_000, 10 * M, 0), 10_000, {"10s": 200_000, "60s": None})
    shares.add("yes", FillPoint(Side.SELL, 450_000, 4 * M, 5), 0, {"10s": -100_000})
    shares.add("gone", FillPoint(Side.BUY, 300_000, 2 * M, 9), 20_000, {})  # no mid recorded: its fee alone
    assert list(shares.pnl) == pytest.approx([1.0 - 0.01, -0.2, -0.02])
    assert list(shares.markouts["10s"]) == pytest.approx([0.2, -0.1, 0.0])
    assert shares.counted["10s"] == 2 and shares.counted["60s"] == 0


def test_too_few_fills_state_no_interval() -> None:
    shares = FillShares(lambda token: 500_000)
    for at in range(3):
        shares.add("yes", FillPoint(Side.BUY, 400_000, M, at), 0, {"10s": 1})
    assert shares.fields(1.0, seed=0) == {"interval_fills": 3}


def test_a_backtest_states_its_pnls_interval_and_keeps_it_with_the_run(tmp_path: Path) -> None:
    from engine.backtest.runner import BacktestSpec
    from storage.research import backtest_runs as store
    from storage.research.launch_requests import request_backtest
    from storage.sqlite.db import Database

    result = _plain_backtest(tmp_path, PARAMS, events=20_000)
    metrics = result.metrics
    pnl = metrics.end_equity - metrics.start_equity
    assert metrics.trades >= 20 and metrics.interval_fills == metrics.trades
    assert metrics.pnl_low is not None and metrics.pnl_high is not None and metrics.pnl_p_value is not None
    assert metrics.pnl_low < pnl < metrics.pnl_high and 0 < metrics.pnl_p_value <= 1
    assert metrics.markout_60s_low is not None and metrics.markout_60s_high is not None
    assert metrics.markout_60s_low <= metrics.markout_60s_usdc <= metrics.markout_60s_high
    db = Database(tmp_path / "recorded.db")
    run_id = request_backtest(db, BacktestSpec("market_making", PARAMS, 0, 1), "t", actor="test")
    store.finish(db, run_id, result)
    db.dispose()
    with sqlite3.connect(tmp_path / "recorded.db") as conn:
        (stored,) = conn.execute("SELECT metrics FROM strategy_runs WHERE id = ?", (run_id,)).fetchone()
    kept = json.loads(stored)
    assert (kept["pnl_low"], kept["pnl_high"], kept["pnl_p_value"]) == (metrics.pnl_low, metrics.pnl_high,
                                                                         metrics.pnl_p_value)


def test_the_pnl_and_markouts_read_with_their_interval_and_say_why_there_is_none() -> None:
    from charts.backtest_format import metric_rows, metric_tiles

    stated = {"start_equity": 1000.0, "end_equity": 1003.7, "pnl_low": -2.1, "pnl_high": 9.4, "pnl_p_value": 0.3112,
              "interval_fills": 9, "markout_60s_usdc": 1.23, "markout_60s_bps": 45.0, "markout_60s_fills": 9,
              "markout_60s_low": -0.5, "markout_60s_high": 3.0}
    rows = {spec.key: value for spec, value in metric_rows(stated)}
    assert rows["pnl"] == "+3.70 pUSD (95 %: -2.10 to +9.40, p = 0.31, over 9 fills)"
    assert rows["markout_60s"] == "+1.23 pUSD (+45 bps of 9 fills; 95 %: -0.50 to +3.00)"
    tiles = {spec.key: (label, figure, note) for spec, label, figure, note in metric_tiles(stated)}
    assert tiles["pnl"] == ("PnL (pUSD)", "+3.70", "95 %: -2.10 to +9.40, p = 0.31, over 9 fills")
    few = {"start_equity": 1000.0, "end_equity": 999.0, "interval_fills": 3}
    assert {s.key: v for s, v in metric_rows(few)}["pnl"] == "-1.00 pUSD (no interval: 3 fills, it needs 5)"
    sure = {**stated, "pnl_low": 1.1, "pnl_p_value": 0.002}
    assert "p = 0.002" in {s.key: v for s, v in metric_rows(sure)}["pnl"]
