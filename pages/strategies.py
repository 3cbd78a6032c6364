"""Strategies: configured instances with their state and PnL; create, edit, enable/disable;
operator fair values for value betting. Every change is audited and applied live."""

from __future__ import annotations

import streamlit as st

from charts import text
from contracts.market_filter import SPANS_VENUES
from contracts.strategy_kinds import plugins
from pages.widgets.auth import require_login
from pages.widgets.calibration_panel import strategy_calibration
from pages.widgets.common import database, flash, is_viewer, live_header
from pages.widgets.dialogs import show_dialog
from pages.widgets.exit_panel import flatten_strategy_control
from pages.widgets.fair_values import fair_values_panel
from pages.widgets.follow_panel import follow_panel
from pages.widgets.markout_panel import markout_panel
from pages.widgets.regime_panel import regime_panel
from pages.widgets.rewards_panel import rewards_panel
from pages.widgets.strategy_panels import (
    NEW,
    PICK,
    PICK_NEXT,
    create_panel,
    edit_panel,
    instances_table,
    ledger_of,
)
from pages.widgets.strategy_risk import pair_panel, performance_panel, strategy_limits_panel, strategy_state_badge
from pages.widgets.strategy_templates import save_as_template, start_from_template, templates_panel
from pages.widgets.tabs import kept_tabs
from pages.widgets.trade_tables import strategy_orders
from pages.widgets.wallet_finder import wallet_finder
from storage.dashboard_queries import status_queries as queries

require_login(__file__)  # before anything is read: see pages/widgets/auth.py
db = database()
live_header(db)
st.title("Strategies")

left_out = plugins().problems
if left_out:
    st.warning("Strategy plugins left out (the desk runs without them; fix and save the file, and they are read "
               "again): " + "; ".join(f"**{text.markdown(name)}**: {text.markdown(why)}"
                                      for name, why in sorted(left_out.items())),
               icon=":material/extension_off:")
status = queries.engine_status(db)
mode = status.mode
rows = instances_table(db, status)
names = list(rows)
if names:
    markout_panel(db, mode)
if PICK_NEXT in st.session_state:
    st.session_state[PICK] = st.session_state.pop(PICK_NEXT)
st.divider()
# A viewer picks one to read; a new one is not theirs to create (their picker offers it only when there is none).
choices = names if is_viewer() and names else [*names, NEW]
pick = st.selectbox("Edit a strategy, or create one", choices, key=PICK)
flash(near=PICK, holds=pick)  # "created" under the picker while it shows the new one; "deleted" until read
if pick == NEW:
    if not start_from_template(db, names):  # a template's form, when one was chosen to start from
        create_panel(db, names)
else:
    ledger = ledger_of(rows.get(pick), status)  # a paper-only strategy's figures are its paper ledger's
    flatten_strategy_control(db, ledger, pick)  # above the tabs: in view whichever tab is open
    # One strategy's sections as tabs (the page was 6,100 px tall with them stacked), kept on the
    # one the operator is on through every answer and dialog (their labels never change).
    settings_tab, performance_tab, orders_tab, income_tab, limits_tab = kept_tabs(
        ["Settings", "Performance", "Orders", "Spread, rewards and fees", "Capital, limits and exits"],
        key="strategy_tab")
    with settings_tab:
        edit_panel(db, pick, rows.get(pick))
        if rows.get(pick) is not None:
            save_as_template(db, pick)
    with performance_tab:
        st.subheader(f"{text.markdown(pick)}: performance ({ledger})")
        strategy_state_badge(db, ledger, pick)
        performance_panel(db, ledger, pick)
        if (picked := rows.get(pick)) is not None and picked.kind in SPANS_VENUES:
            pair_panel(db, ledger, pick)
        regime_panel(db, ledger, pick)
        strategy_calibration(db, ledger, pick)
    with orders_tab:
        st.subheader(f"{text.markdown(pick)}: its orders ({ledger}), each with why it ended")
        strategy_orders(db, ledger, pick)
    with income_tab:
        st.subheader(f"{text.markdown(pick)}: spread capture, liquidity rewards, rebates and fees ({ledger})")
        rewards_panel(db, ledger, pick)
    with limits_tab:
        st.subheader(f"{text.markdown(pick)}: capital, loss limits and exits")
        strategy_limits_panel(db, pick)
with st.expander("Strategy templates", icon=":material/bookmarks:"):
    templates_panel(db)
st.divider()
fair_values_panel(db)
st.divider()
follow_panel(db)
wallet_finder(db)
show_dialog(db, "exit")
