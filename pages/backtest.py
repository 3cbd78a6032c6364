"""Backtest: replay recorded ticks (or imported price history) through a strategy with the same
trading core as live, in a background process; follow its progress, read its metrics and
charts, compare two runs, and sweep a strategy's params (Optuna) to pick the ones to trade."""

from __future__ import annotations

import streamlit as st

from pages.widgets.auth import require_login
from pages.widgets.backtest_compare import compare_panel
from pages.widgets.backtest_form import new_backtest_panel
from pages.widgets.backtest_launch import LAUNCHED_HERE, LAUNCHED_RUN
from pages.widgets.backtest_results import (
    BT_TABS,
    RUNNING_SEEN,
    launched_progress,
    pick_run,
    progress_panel,
    run_detail,
    runs_table,
)
from pages.widgets.common import database, flash, live_header, settings
from pages.widgets.session_panel import sessions_tab
from pages.widgets.sweep_panels import sweep_tab
from pages.widgets.tabs import kept_tabs
from storage.dashboard_queries import trading_queries
from storage.research import backtest_queries

require_login(__file__)  # before anything is read: see pages/widgets/auth.py
db = database()
root = settings().root
live_header(db)
st.title("Backtest")
progress_panel(db, root)

configured = trading_queries.strategies(db)  # once per run: both forms offer configured strategies' params
results, new, compare, sweep, sessions = kept_tabs(["Results", "New backtest", "Compare", "Sweep", "Sessions"],
                                                   key=BT_TABS)
with new:
    launched = new_backtest_panel(db, root, configured)
    if launched is not None:
        st.session_state[LAUNCHED_RUN] = launched  # followed here, under the Launch button
        # This rerun already shows the new run: the progress panel must not rerun again for it.
        st.session_state.pop(RUNNING_SEEN, None)
        st.rerun()
    flash(near=LAUNCHED_HERE)
    launched_progress(db, root)
with results:
    runs_table(db, root)
    picked = pick_run(backtest_queries.backtest_runs(db))
    if picked is not None:
        st.divider()
        run_detail(db, picked, root)
with compare:
    compare_panel(db)
with sweep:
    sweep_tab(db, root, configured)
with sessions:
    sessions_tab(db, root)
