"""The Backtest page's Sweep tab through AppTest: an invalid launch is refused with its reason
and nothing is written; a finished sweep (a real study made by the sweep code) shows its
trials, charts and held-out scores; "use these params" edits a strategy through the audited
path and shows the engine's answer to the reload; a launch from the tab runs a real sweep process to its trial count."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from contracts.sweep_spec import SweepSpec, parse_space
from engine.backtest.sweep import run_sweep
from storage.desk.config import create_strategy
from storage.research.sweep_queries import sweep_view, sweeps_url
from storage.sqlite.db import Database
from tests.dashboard.conftest import answer_next, engine_up, table_with
from tests.dashboard.reading import as_read
from tests.dashboard.test_backtest_page import chart_titles
from tests.helpers import ROOT, wait_until

sys.path.insert(0, str(ROOT / "bench"))
from _recording import write_recording  # noqa: E402

SPACE = {"half_spread": [0.005, 0.03], "size": [5, 40, "int"]}


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ENGINE_LOG_FILE", str(tmp_path / "engine.log"))
    return tmp_path


def _finished_sweep(dash_env: Path, tmp_path: Path) -> SweepSpec:
    markets, start, end = write_recording(dash_env, markets=2, events=4_000, events_per_decision=20)
    spec = SweepSpec("tab sweep", "market_making", parse_space(SPACE, "market_making"), start, end,
                     {"max_spread": 0.5, "refresh_threshold": 0.0}, tuple(sorted(markets)), trials=4,
                     objective="return", seed=3, train_fraction=0.6, top=2)
    run_sweep(spec, sweeps_url(dash_env), dash_env, jobs=1, work_root=tmp_path / "sweep-work")
    return spec


def test_no_sweeps_and_an_invalid_launch_is_refused(
        dash_env: Path, db: Database, logs: Path, page: Callable[[str], AppTest]) -> None:
    at = page("backtest")
    assert not at.exception
    assert any("No sweeps yet" in i.value for i in at.info)
    # The trials' latency is the desk's setting, named where the sweep is launched.
    assert any("Every trial runs with the desk's Paper order latency (constant: orders 150 ms, cancels 150 ms, "
               "market data 50 ms behind" in c.value for c in at.caption)
    # The example's first row searches half_spread; the operator turns its range upside down and adds a
    # row with no param: both are marked under the table at once, and Launch refuses.
    at.session_state["sw_space_market_making"] = {"edited_rows": {0: {"low": 0.05, "high": 0.01}},
                                                  "added_rows": [{"scale": "range", "low": 1, "high": 2}],
                                                  "deleted_rows": []}
    at.run()
    at.button(key="sw_launch").click().run()
    assert not at.exception
    shown = [as_read(e.value) for e in at.error]
    assert any("Row 1: half_spread: low (0.05) must be below high (0.01)" in e
               and "Row 3: pick the param to search" in e for e in shown), shown
    assert "Nothing launched: Search space: fix the rows marked under its table" in shown, shown
    assert _rows(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'sweep.launch'") == [(0,)]
    assert not Path(sweeps_url(dash_env).split("///")[1]).exists()  # the tab never creates the sweeps file


def test_a_finished_sweep_shows_trials_charts_and_held_out_scores_and_its_params_can_be_used(
        dash_env: Path, db: Database, logs: Path, tmp_path: Path, page: Callable[[str], AppTest]) -> None:
    spec = _finished_sweep(dash_env, tmp_path)
    view = sweep_view(sweeps_url(dash_env), spec.name)
    assert view is not None and view.best is not None
    create_strategy(db, name="mm live", kind="market_making", params={"size": 10, "half_spread": 0.02},
                    markets=[], enabled=False, actor="test")
    at = page("backtest")
    assert not at.exception
    assert at.selectbox(key="sw_pick").value == "tab sweep"
    bars = [p.proto.text for p in at.get("progress")]
    assert any(b.startswith("Sweep tab sweep: 4/4 trials · finished · best") for b in bars), bars
    # A minute or two of recording scaled to per-day scores: said plainly.
    assert any(w.value.startswith("Scores are per day, scaled up from ") for w in at.warning)
    trials = table_with(at, "why")
    assert len(trials) == 4 and set(trials["state"]) == {"COMPLETE"}
    assert list(trials.columns)[:5] == ["number", "state", "value", "half_spread", "size"]
    held = table_with(at, "train")
    assert len(held) == 2 and held["test"].notna().all()
    # How sure each PnL is: the trials' and the re-runs' intervals, and a sentence for the best trial.
    assert {"pnl", "pnl_low", "pnl_high", "pnl_p"} <= set(trials.columns) and trials["pnl"].notna().all()
    assert {"test_pnl", "test_pnl_low", "test_pnl_high", "test_pnl_p"} <= set(held.columns)
    assert any(c.value.startswith(f"Best trial {view.best['number']}: PnL ") for c in at.caption)
    titles = chart_titles(at)
    assert titles[-4:] == ["Objective by trial", "Objective vs half_spread", "Objective vs size",
                           "Parameter importance"]
    # Use the best trial's params in the configured strategy: confirmed, audited, reloaded.
    assert at.selectbox(key="sw_trial").value == view.best["number"]
    assert at.button(key="sw_use").disabled
    changes = table_with(at, "searched").set_index("param")
    assert changes.loc["max_spread", "searched"] == "no (the sweep's fixed value)"
    assert changes.loc["size", "searched"] == "yes"
    at.checkbox(key="sw_confirm").check().run()
    engine_up(db)
    with db.write() as conn:  # the engine took the reload that creating the strategy asked for
        conn.execute(text("UPDATE commands SET status = 'done' WHERE kind = 'reload_config'"))
    engine = answer_next(db, "reload_config", ok=False, error="strategy mm live: params refused by the engine")
    at.button(key="sw_use").click().run()
    engine.join(5)
    assert not at.exception
    assert any("now has the params of trial" in s.value for s in at.success), [s.value for s in at.success]
    # The engine's answer to the reload, not a green "the engine reloads it".
    assert any("reload of the configuration: failed" in e.value and "params refused by the engine" in e.value
               for e in at.error), [e.value for e in at.error]
    assert not [s.value for s in at.success if "reload" in s.value]
    stored = json.loads(_rows(db, "SELECT params FROM strategies WHERE name = 'mm live'")[0][0])
    assert stored["half_spread"] == view.best["params"]["half_spread"]
    assert stored["size"] == view.best["params"]["size"]
    # The whole set the trial ran with, the sweep's fixed params included (and said so beforehand).
    assert (stored["max_spread"], stored["refresh_threshold"]) == (0.5, 0.0)
    audit = _rows(db, "SELECT actor, before, after FROM audit_log WHERE action = 'strategy.update'")
    assert len(audit) == 1 and audit[0][0] == "dashboard"
    assert json.loads(audit[0][1])["params"]["size"] == 10
    assert json.loads(audit[0][2])["params"]["size"] == view.best["params"]["size"]
    assert _rows(db, "SELECT COUNT(*) FROM commands WHERE kind = 'reload_config' "
                     "AND payload LIKE '%strategy mm live update%'") == [(1,)]


@pytest.mark.slow
def test_a_sweep_launched_from_the_tab_runs_to_its_trial_count(
        dash_env: Path, db: Database, logs: Path, page: Callable[[str], AppTest]) -> None:
    markets, start, end = write_recording(dash_env, markets=2, events=4_000, events_per_decision=20)
    at = page("backtest")
    # The example space (half_spread 0.005-0.05, size 5-50) edited to SPACE in the table.
    at.session_state["sw_space_market_making"] = {"edited_rows": {0: {"high": 0.03}, 1: {"high": 40}},
                                                  "added_rows": [], "deleted_rows": []}
    at.run()
    at.number_input(key="sw_trials").set_value(3)
    at.number_input(key="sw_jobs").set_value(1)
    at.selectbox(key="sw_objective").set_value("return")
    at.slider(key="sw_split").set_value(1.0)
    at.text_input(key="sw_name").input("from the tab")
    at.button(key="sw_launch").click().run()
    assert not at.exception, at.exception
    assert _rows(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'sweep.launch'") == [(1,)]
    assert any(" launched with 1 worker (pid " in s.value for s in at.success)
    # Right after the launch its study may not exist yet: the tab says the sweep is starting,
    # never that there are no sweeps.
    assert not any("No sweeps yet" in i.value for i in at.info)
    assert any("Sweep 'from the tab' is starting" in i.value for i in at.info) or at.selectbox(key="sw_pick")
    url = sweeps_url(dash_env)

    def done() -> bool:
        view = sweep_view(url, "from the tab") if Path(url.split("///")[1]).exists() else None
        return view is not None and view.done >= 3

    wait_until(done, timeout=120, what="the launched sweep to finish its trials")
    log = (logs / "sweep-from-the-tab.log")
    assert log.exists()
