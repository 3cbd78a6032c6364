"""Risk: trading state and kill latch, usage against every limit now, the limits (editable with
bounds and units), and the decisions log ("why didn't it trade?")."""

from __future__ import annotations

import streamlit as st

from charts import text
from pages.widgets import portfolio
from pages.widgets.auth import require_login
from pages.widgets.common import database, live_fragment, live_header
from pages.widgets.dialogs import show_dialog
from pages.widgets.risk_panels import decisions_log, exposure_chart, limits_form, state_panel
from pages.widgets.usage import limit_values
from storage.dashboard_queries import portfolio_queries, trading_queries
from storage.dashboard_queries import status_queries as queries

USAGE_REFRESH_S = 5

require_login(__file__)  # before anything is read: see pages/widgets/auth.py
db = database()


@live_fragment(run_every=USAGE_REFRESH_S)
def live_usage() -> None:
    status = queries.engine_status(db)
    st.subheader("Trading state")
    state_panel(db, status)
    st.subheader("Usage now")
    usage = portfolio_queries.risk_usage(db, status.mode)
    # Read here, not passed in: a fragment rerun reuses its arguments, so limits changed
    # elsewhere would never show. The limits form below reads its own (with versions).
    limits = limit_values(queries.risk_limit_rows(db))
    portfolio.usage_metrics(usage)
    portfolio.usage_details(usage, limits, status.trading_state_reason if status.trading_state != "ACTIVE" else None)
    exposure_chart(usage, limits)
    if status.mode == "live" and (names := trading_queries.paper_only(db)):
        st.subheader("Paper ledger usage: paper-only strategies, on paper")
        st.caption(f"{', '.join(text.markdown(n) for n in names)}: the same limits, measured on the paper ledger "
                   "alone (their exposure never uses live budget, nor live's theirs).")
        portfolio.usage_metrics(portfolio_queries.risk_usage(db, "paper"))


live_header(db)
st.title("Risk")
live_usage()
show_dialog(db, "rearm")
st.subheader("Limits")
limits_form(db)
st.subheader("Decisions log: why didn't it trade?")
decisions_log(db, queries.engine_status(db).mode, paper_ledger=bool(trading_queries.paper_only(db)))
