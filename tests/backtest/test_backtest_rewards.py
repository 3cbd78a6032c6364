"""Backtests count liquidity rewards and maker rebates: the run's resting orders are scored every
sample of simulated time with the venue's method, maker fills accrue the venue's share of the
taker fee, both go into the equity curve (so metrics and sweep objectives see them) and are
reported apart. The same run without a reward program differs by exactly the rewards."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from contracts.settings import load_settings
from contracts.venue_rules import taker_fee
from engine.backtest.runner import BacktestResult, BacktestSpec, run_sync

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

PARAMS = {"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5}
FEE_PPM = 250_000  # r = 0.25, e = 1: every maker fill earns a rebate
REBATE_PPM = 150_000  # the share of it the recorded listing names (the desk assumes none)


def _backtest(tmp: Path, program: bool) -> tuple[BacktestResult, Path]:
    tmp.mkdir()
    path = tmp / "recorded.db"
    markets, start, end = write_recording(path, markets=2, events=8_000, events_per_decision=20)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE markets SET fee_rate_ppm = ?, fee_exponent = 1, fees_at = ?, rebate_ppm = ?",
                     (FEE_PPM, start, REBATE_PPM))
        conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES "
                     "('reward_sample_s', ?, 1, 0, 't')", (json.dumps(5),))
        if program:
            conn.execute("INSERT INTO reward_programs VALUES (?, ?, ?, ?, 0)",
                         (markets[0], 1_000 * 1_000_000, 50_000, 10 * 1_000_000))  # 1,000 a day, 5 cents, 10
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
    result = run_sync(BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=3), path, settings,
                      work_dir=tmp / "work")
    return result, tmp / "work" / "backtest.db"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[BacktestResult, BacktestResult, Path]:
    base = tmp_path_factory.mktemp("rewards")
    plain, _ = _backtest(base / "plain", program=False)
    rewarded, scratch = _backtest(base / "rewarded", program=True)
    return plain, rewarded, scratch


def test_rewards_are_estimated_on_the_runs_resting_orders_and_in_the_equity(runs) -> None:
    plain, rewarded, scratch = runs
    assert plain.metrics.rewards == 0 and rewarded.metrics.rewards > 0
    with sqlite3.connect(scratch) as conn:
        estimated, samples = conn.execute("SELECT SUM(estimated), SUM(samples) FROM reward_days").fetchone()
        scored = conn.execute("SELECT SUM(scoring_samples) FROM reward_scores").fetchone()[0]
    assert samples > 0 and scored > 0
    assert rewarded.metrics.rewards == estimated / 1_000_000
    # The program changes nothing the strategy decides: the same fills, the equity higher by the rewards.
    assert [f["trade_id"] for f in rewarded.fills] == [f["trade_id"] for f in plain.fills]
    assert rewarded.metrics.end_equity - plain.metrics.end_equity == pytest.approx(rewarded.metrics.rewards,
                                                                                    abs=1e-6)


def test_rebates_accrue_on_maker_fills(runs) -> None:
    plain, rewarded, _ = runs
    makers = [f for f in rewarded.fills if f["liquidity"] == "MAKER" and f["status"] != "FAILED"]
    assert makers, "the run needs maker fills"
    accrued = sum(taker_fee(f["price"], f["size"], FEE_PPM, 1) for f in makers) * REBATE_PPM // 1_000_000
    assert rewarded.metrics.rebates == plain.metrics.rebates == accrued / 1_000_000 > 0
