"""Calibration beside PnL: the Strategies page scores a value bettor's stated probabilities against
the markets that resolved (Brier score, chart, per market), and a backtest's results show the
run's; a strategy that states none shows no such section."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from contracts.calibration import calibrate
from storage.sqlite.db import Database
from tests.dashboard.conftest import table_with
from tests.dashboard.seed import ELECTION, RAIN
from tests.dashboard.test_backtest_page import METRICS, chart_titles, insert_run, logs  # noqa: F401


def _forecasts(db: Database) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE markets SET payout_yes = 1000000, payout_no = 0 WHERE condition_id = :c"),
                     {"c": ELECTION})
        for at, cid, p in ((1, ELECTION, 800_000), (2, ELECTION, 600_000), (3, RAIN, 300_000)):
            conn.execute(text("""INSERT INTO forecasts (at, mode, strategy, condition_id, probability)
                                 VALUES (:at, 'paper', 'vb-election', :c, :p)"""), {"at": at, "c": cid, "p": p})


def test_the_strategies_page_scores_a_value_bettors_forecasts(seeded: int, db: Database,
                                                              page: Callable[[str], AppTest]) -> None:
    _forecasts(db)
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("vb-election").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Brier score"] == "0.100"  # ((0.2)² + (0.4)²) / 2
    assert any("over 1 resolved market (2 of 3 forecasts" in c.value for c in at.caption)
    assert "Calibration of vb-election (paper)" in chart_titles(at)
    per_market = table_with(at, "mean_probability")
    assert per_market["forecasts"].tolist() == [2] and per_market["outcome"].tolist() == [1.0]
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()  # states no probability
    assert "Brier score" not in {m.label for m in at.metric}
    assert not any("Calibration of" in t for t in chart_titles(at))


def test_a_backtest_shows_the_runs_calibration(seeded: int, db: Database, logs: Path,  # noqa: F811
                                               page: Callable[[str], AppTest]) -> None:
    scored = calibrate([(ELECTION, 700_000, 1_000_000)])
    run_id = insert_run(db, metrics=json.dumps({**METRICS, "calibration": {**scored.to_json(), "stated": 4}}))
    at = page("backtest")
    at.selectbox(key="bt_run_pick").set_value(run_id).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Brier score"] == "0.090"
    assert any("over 1 resolved market (1 of 4 forecasts" in c.value for c in at.caption)
    assert f"Calibration (run #{run_id})" in chart_titles(at)
