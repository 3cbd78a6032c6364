"""A sweep to keep: its HTML report (settings, best trial, the objective charts, the trials and
held-out tables, and the warning when per-day scores come from less than a day of data) and the
CSV of its trials."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest

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


def test_per_day_scores_from_less_than_a_day_are_flagged() -> None:
    assert short_data_note({"from_ms": 0, "to_ms": 11 * 60_000}).startswith(
        "Scores are per day, scaled up from 11 minutes of training data")
    assert "from 3.0 hours" in short_data_note({"from_ms": 0, "to_ms": 5 * 3_600_000, "train_fraction": 0.6})
    assert short_data_note({"from_ms": 0, "to_ms": 2 * DAY, "train_fraction": 0.7}) == ""
    assert short_data_note({"from_ms": None, "to_ms": 5}) == ""
