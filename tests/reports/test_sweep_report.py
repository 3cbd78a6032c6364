"""A sweep to keep: its HTML report (settings, best trial, the objective charts, the trials and
held-out tables, and the warning when per-day scores come from less than a day of data) and the
CSV of its trials."""

from __future__ import annotations

import csv
import io
import sqlite3
import sys
from pathlib import Path

import pytest

from charts.sweep import best_pnl_line
from contracts.sweep_spec import SweepSpec, parse_space
from engine.backtest.sweep import run_sweep
from reports.sweep import short_data_note, sweep_report, trials_csv
from storage.research.sweep_queries import param_importance, sweep_view, sweeps_url
from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from _recording import write_recording  # noqa: E402

DAY = 86_400_000


@pytest.mark.slow  # the sweep it reports runs its trials in worker processes
def test_the_report_and_the_trials_csv(tmp_path: Path) -> None:
    db = tmp_path / "trader.db"
    markets, start, end = write_recording(db, markets=2, events=4_000, events_per_decision=20)
    ends_at = start + (end - start) * 3 // 10  # inside the training period: every trial books it
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO market_resolutions VALUES (?, ?, 'yes', NULL, 'feed', 0, 'recorder')",
                     (sorted(markets)[0], ends_at))
    spec = SweepSpec("kept sweep", "market_making", parse_space({"half_spread": [0.005, 0.03]}, "market_making"),
                     start, end, {"max_spread": 0.5, "size": 20}, tuple(sorted(markets)), trials=3,
                     objective="return", seed=1, train_fraction=0.6, top=1)
    run_sweep(spec, sweeps_url(db), db, jobs=1, work_root=tmp_path / "work")
    view = sweep_view(sweeps_url(db), "kept sweep")
    assert view is not None and view.done == 3
    page = sweep_report(view, param_importance(sweeps_url(db), "kept sweep"))
    assert page.startswith("<!DOCTYPE html>") and "<script src" not in page
    assert "<h1>Sweep kept sweep</h1>" in page and "3 of 3 trials" in page
    assert "Scores are per day, scaled up from" in page  # under a minute of recording
    for title in ("Objective by trial", "Objective vs half_spread", "Parameter importance"):
        assert title in page, title
    assert "score (training)" in page and "Held-out period" in page
    rows = list(csv.DictReader(io.StringIO(trials_csv(view).decode())))
    assert [int(r["number"]) for r in rows] == [0, 1, 2] and {r["state"] for r in rows} == {"COMPLETE"}
    assert all(0.005 <= float(r["half_spread"]) <= 0.03 for r in rows)
    assert view.best is not None and f"Best trial {view.best['number']}: score " in page
    # How sure the best trial's PnL is, and each trial's PnL interval in the table and the CSV.
    sure = best_pnl_line(view.best, view.done)
    assert sure.startswith(f"Best trial {view.best['number']}: PnL ") and sure in page
    assert "PnL (training) (pUSD)" in page and "p against 0" in page and "PnL (held out) (pUSD)" in page
    assert all(float(r["pnl_low"]) <= float(r["pnl"]) <= float(r["pnl_high"]) for r in rows if r["pnl_low"])
    assert all(r["pnl"] for r in rows)
    # How the best trial's markets ended in its training run (engine/backtest/resolutions.py), in its report.
    assert [r["market"] for r in view.best["resolutions"]["settled"]] == [sorted(markets)[0]]
    assert "Best trial&#x27;s training run: Resolved inside the run" in page


def test_the_best_trials_pnl_reads_with_its_interval_or_why_it_has_none() -> None:
    metrics = {"start_equity": 1000.0, "end_equity": 1012.5, "pnl_low": -3.0, "pnl_high": 27.25,
               "pnl_p_value": 0.1, "interval_fills": 61, "interval_units": 20, "interval_unit": "round trip"}
    assert best_pnl_line({"number": 4, "metrics": metrics}, 30) == (
        "Best trial 4: PnL +12.50 pUSD (95 %: -3.00 to +27.25, p = 0.100 against zero, over 20 round trips (61 "
        "fills)). The best of "
        "30 trials looks surer than it is: this is not corrected for the trials tried; the held-out figures (and a "
        "walk-forward sweep's deflated Sharpe ratio) are the check.")
    few = {"start_equity": 1000.0, "end_equity": 999.0, "interval_fills": 2, "interval_units": 1,
           "interval_none": "1 independent round trip (a market's fills from flat back to flat, or held to the end): "
                            "an interval needs at least 5"}
    assert best_pnl_line({"number": 1, "metrics": few}, 3) == (
        "Best trial 1: PnL -1.00 pUSD (no interval: 1 independent round trip (a market's fills from flat back to "
        "flat, or held to the end): an interval needs at least 5).")
    assert best_pnl_line({"number": 1, "metrics": {}}, 3) == "" and best_pnl_line(None, 0) == ""


def test_per_day_scores_from_less_than_a_day_are_flagged() -> None:
    assert short_data_note({"from_ms": 0, "to_ms": 11 * 60_000}).startswith(
        "Scores are per day, scaled up from 11 minutes of training data")
    assert "from 3.0 hours" in short_data_note({"from_ms": 0, "to_ms": 5 * 3_600_000, "train_fraction": 0.6})
    assert short_data_note({"from_ms": 0, "to_ms": 2 * DAY, "train_fraction": 0.7}) == ""
    assert short_data_note({"from_ms": None, "to_ms": 5}) == ""
