"""Backtest: replay recorded ticks (or imported price history) through a strategy with the same
trading core as live, in a background process; follow its progress, read its metrics and
charts, compare two runs, and sweep a strategy's params (Optuna) to pick the ones to trade."""

from __future__ import annotations

import streamlit as st

from pages.widgets.auth import require_login
from pages.widgets.backtest_compare import compare_panel
from pages.widgets.backtest_form import new_backtest_panel
from pages.widgets.backtest_results import (
    RUN_PICK_NEXT,
    RUNNING_SEEN,
    pick_run,
    progress_panel,
    run_detail,
    runs_table,
)
from pages.widgets.common import database, flash, live_header, settings
from pages.widgets.session_panel import sessions_tab
from pages.widgets.sweep_panels import sweep_tab
from storage.dashboard_queries import trading_queries

require_login(__file__)  # before anything is read: see pages/widgets/auth.py
db = database()
root = settings().root
live_header(db)
st.title("Backtest")
flash()
progress_panel(db, root)

configured = trading_queries.strategies(db)  # once per run: both forms offer configured strategies' params
results, new, compare, sweep, sessions = st.tabs(["Results", "New backtest", "Compare", "Sweep", "Sessions"])
with new:
    launched = new_backtest_panel(db, root, configured)
    if launched is not None:
        st.session_state[RUN_PICK_NEXT] = launched  # shown under Results on the next run
        # This rerun already shows the new run: the progress panel must not rerun again for it
        # (that second run would swallow the "launched" message).
        st.session_state.pop(RUNNING_SEEN, None)
        st.rerun()
with results:
    picked = pick_run(runs_table(db, root))
    if picked is not None:
        st.divider()
        run_detail(db, picked, root)
with compare:
    compare_panel(db)
with sweep:
    sweep_tab(db, root, configured)
with sessions:
    sessions_tab(db, root)
