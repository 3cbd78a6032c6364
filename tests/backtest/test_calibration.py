"""A value-betting backtest trades toward the desk's standing fair values and scores them: its
results carry the Brier score and calibration of the probabilities it stated, against the
resolutions the desk knows for those markets."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from contracts.settings import load_settings
from engine.backtest.runner import BacktestSpec, run_sync

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402


def test_a_value_betting_run_scores_its_fair_values_against_the_resolutions(tmp_path: Path) -> None:
    path = tmp_path / "recorded.db"
    markets, start, end = write_recording(path, markets=2, events=3_000, events_per_decision=20)
    resolved, open_market = markets
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE markets SET payout_yes = 1000000, payout_no = 0 WHERE condition_id = ?", (resolved,))
        for cid, fair in ((resolved, 700_000), (open_market, 400_000)):
            conn.execute("""INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by)
                            VALUES (?, 'operator', ?, 1, 0, 'test')""", (cid, fair))
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(path)})
    result = run_sync(BacktestSpec("value_betting", {"order_style": "limit", "edge": 0.02}, start, end,
                                   tuple(markets), seed=1, latency="zero"), path, settings, work_dir=tmp_path / "bt")
    calibration = result.calibration
    assert calibration["stated"] >= 2  # both markets' fair values, stated at least once
    assert [m["condition_id"] for m in calibration["markets"]] == [resolved]  # only a resolved market is scored
    assert calibration["brier"] == pytest.approx((0.7 - 1.0) ** 2)
    assert [(b["forecasts"] > 0, b["observed"]) for b in calibration["bins"]] == [(True, 1.0)]
    assert result.order_count > 0  # it traded toward the fair values it was given


def test_a_strategy_that_states_no_probability_has_no_calibration(tmp_path: Path) -> None:
    path = tmp_path / "recorded.db"
    markets, start, end = write_recording(path, markets=1, events=1_000, events_per_decision=20)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(path)})
    result = run_sync(BacktestSpec("market_making", {"size": 20, "half_spread": 0.01, "max_spread": 0.5}, start, end,
                                   tuple(markets), seed=1, latency="zero"), path, settings, work_dir=tmp_path / "bt")
    assert result.calibration == {}
