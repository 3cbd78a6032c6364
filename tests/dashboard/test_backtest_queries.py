"""Backtest reads, the launcher's bookkeeping and process checks, metric formatting and the
pure figure builders, without the UI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from charts import backtest as backtest_figures
from charts.backtest_format import metric_rows
from engine.backtest.runner import BacktestSpec
from pages.widgets import backtest_launch
from storage.research import backtest_queries, launch_requests
from storage.research.backtest_queries import curve_frame
from storage.sqlite.db import Database
from tests.dashboard.seed import BTC, ELECTION, YES_BTC
from tests.dashboard.test_backtest_page import DEAD_PID, METRICS, insert_run
from tests.helpers import ROOT

SPEC = BacktestSpec("market_making", {"size": 10}, 1_000, 2_000, (BTC,), 5, "recorded")


def _count(db: Database, sql: str) -> int:
    with db.read() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_runs_list_and_one_run_in_human_units(seeded: int, db: Database) -> None:
    insert_run(db, name="a")
    insert_run(db, status="running", name="b", pid=123)
    runs = backtest_queries.backtest_runs(db)
    assert list(runs["id"]) == [2, 1] and list(runs["status"]) == ["running", "done"]
    assert runs["total_return"].iloc[1] == pytest.approx(0.01505) and runs["progress_pct"].iloc[0] == 42.0
    assert str(runs["from_at"].dt.tz) == "UTC"
    assert list(backtest_queries.backtest_runs(db, status="done")["id"]) == [1]
    running = backtest_queries.RunProgress(2, "b", 420, 2_100, 123, 1_800_000_000_000)
    assert backtest_queries.running_backtests(db) == [running]
    run = backtest_queries.backtest_run(db, 1)
    assert run is not None and run.metrics == METRICS and run.markets == [BTC]
    assert run.curve["equity"].tolist() == [10_000, 10_050, 9_980, 10_150]
    assert run.curve["peak"].tolist() == [10_000, 10_050, 10_050, 10_150]
    assert run.curve["drawdown_pct"].iloc[2] == pytest.approx(70 / 10_050 * 100)
    assert run.trades["value"].tolist() == pytest.approx([9.6, 10.0])
    assert backtest_queries.backtest_run(db, 99) is None


def test_malformed_results_read_as_none(db: Database) -> None:
    insert_run(db, metrics="{oops", equity_curve="[[1, 2]]", trades="nope", markets="not json")
    run = backtest_queries.backtest_run(db, 1)
    assert (
        run is not None and run.metrics is None and run.curve.empty and run.trades.empty and run.markets == []
    )
    assert backtest_queries.backtest_runs(db)["total_return"].isna().all()
    # 16, annualized return and holding period, rewards and rebates, 4 markout horizons, the PnL's interval
    assert [value for _, value in metric_rows(run.metrics)] == ["—"] * 25


def test_markets_with_data_and_their_event_counts(seeded: int, db: Database) -> None:
    now = seeded
    choices = backtest_queries.backtest_market_choices(db, "recorded", now - 4_000_000, now)
    assert choices.to_dict("records") == [
        {"condition_id": BTC, "question": "Will Bitcoin reach $100k by June?", "events": 63}
    ]
    later = backtest_queries.backtest_market_choices(db, "recorded", now - 250_000, now, include=(ELECTION,))
    assert dict(zip(later["condition_id"], later["events"], strict=True)) == {BTC: 1, ELECTION: 0}
    assert backtest_queries.backtest_event_counts(db, "recorded", now - 4_000_000, now, [BTC, ELECTION, "0xnope"]) == {
        BTC: 63,
        ELECTION: 0,
    }
    assert backtest_queries.backtest_data_bounds(db, "recorded") == (now - 3_600_000, now - 200_000)
    assert backtest_queries.backtest_data_bounds(db, "history") is None
    with db.write() as conn:
        conn.execute(
            text("INSERT INTO price_history (token_id, at, price) VALUES (:t, :a, 500000)"),
            [{"t": YES_BTC, "a": now - i * 60_000} for i in range(5)],
        )
    history = backtest_queries.backtest_market_choices(db, "history", now - 150_000, now)
    assert history[["condition_id", "events"]].values.tolist() == [[BTC, 3]]
    assert backtest_queries.backtest_data_bounds(db, "history") == (now - 240_000, now)


def test_run_row_and_audit_commit_together(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = launch_requests.request_backtest(db, SPEC, "one", actor="dashboard")
    with db.read() as conn:
        row = conn.execute(text("SELECT status, strategy_kind, seed FROM strategy_runs")).one()
        audit = conn.execute(text("SELECT action, entity, after FROM audit_log")).one()
    assert tuple(row) == ("running", "market_making", 5)
    assert audit[:2] == ("backtest.launch", f"backtest_run:{run_id}")
    assert json.loads(audit[2]) == {
        "name": "one",
        "kind": "market_making",
        "params": {"size": 10},
        "from_ms": 1_000,
        "to_ms": 2_000,
        "markets": [BTC],
        "seed": 5,
        "source": "recorded",
        "latency": None,  # the desk's paper_latency setting when it runs
        "capital": None,  # the desk's paper starting cash when it runs
        "limits": {},  # its strategy limits: every one at its default (no exits)
    }

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(launch_requests, "write_audit", broken)
    with pytest.raises(RuntimeError):
        launch_requests.request_backtest(db, SPEC, "two", actor="dashboard")
    assert _count(db, "SELECT COUNT(*) FROM strategy_runs") == 1  # the run row rolled back with it


def test_a_process_that_cannot_start_leaves_a_failed_run(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGINE_LOG_FILE", str(tmp_path / "engine.log"))
    monkeypatch.setattr(backtest_launch.sys, "executable", str(tmp_path / "no-python"))
    with pytest.raises(OSError):
        backtest_launch.launch(db, SPEC, "x", root=ROOT, actor="dashboard")
    with db.read() as conn:
        status, error = conn.execute(text("SELECT status, error FROM strategy_runs")).one()
    assert status == "failed" and error.startswith("could not start the backtest process")


def test_liveness_of_a_running_row(tmp_path: Path) -> None:
    log = tmp_path / "backtest-1.log"
    assert backtest_launch.liveness(None, 1_000, log, now=1_000 + 5_000) == "starting"
    assert backtest_launch.liveness(None, 1_000, log, now=1_000 + 60_000) == "unknown"  # not ours
    log.write_text("Traceback ...")
    assert backtest_launch.liveness(None, 1_000, log, now=1_000 + 60_000) == "dead"  # ours, never started
    assert backtest_launch.liveness(DEAD_PID, 1_000, log) == "dead"


def test_zombies_and_recycled_pids_are_not_alive() -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    zombie = subprocess.Popen([sys.executable, "-c", "pass", "backtest"])
    try:
        assert not backtest_launch.pid_alive(other.pid)  # alive, but not a backtest: a reused pid
        for _ in range(200):
            if Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z":
                break
            subprocess.run(["sleep", "0.02"])
        assert not backtest_launch.pid_alive(zombie.pid)  # exited, not yet reaped
    finally:
        other.kill()
        other.wait()
        zombie.wait()


def test_figures_are_pure_and_normalize_for_comparison() -> None:
    probe = "import sys, charts.backtest; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    a = curve_frame([[0, 100.0, 0.0], [60_000, 110.0, 5.0]])
    b = curve_frame([[10_000_000, 200.0, 0.0], [10_030_000, 190.0, 1.0]])
    fig = backtest_figures.compare_figure([("A", a, 0), ("B", b, 10_000_000)])
    traces = {t.name: t for t in fig.data}
    assert list(traces["A"].y) == pytest.approx([0.0, 10.0]) and list(traces["B"].y) == pytest.approx([0, -5])
    assert list(traces["A"].x) == pytest.approx([0, 60]) and list(traces["B"].x) == pytest.approx([0, 30])
    assert fig.layout.xaxis.title.text == "time since the run's start (s)"
    empty = backtest_figures.trades_figure(pd.DataFrame(columns=["at", "side", "price"]), "Fills")
    assert empty.layout.annotations[0].text == "No fills in this run"
