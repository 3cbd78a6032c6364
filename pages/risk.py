"""Risk: trading state and kill latch, usage against every limit now, the limits (editable with
bounds and units), and the decisions log ("why didn't it trade?")."""

from __future__ import annotations

import streamlit as st

from storage import queries

from pages.widgets import portfolio
from pages.widgets.common import database, flash, live_header
from pages.widgets.dialogs import show_dialog
from pages.widgets.risk_panels import decisions_log, exposure_chart, limits_form, state_panel

USAGE_REFRESH_S = 5

db = database()


@st.fragment(run_every=USAGE_REFRESH_S)
def live_usage() -> None:
    status = queries.engine_status(db)
    st.subheader("Trading state")
    state_panel(db, status)
    st.subheader("Usage now")
    usage = queries.risk_usage(db, status.mode)
    portfolio.usage_metrics(usage)
    portfolio.usage_details(usage, db)
    exposure_chart(db, usage)


live_header(db)
st.title("Risk")
flash()
live_usage()
show_dialog(db, "rearm")
st.subheader("Limits")
limits_form(db)
st.subheader("Decisions log: why didn't it trade?")
decisions_log(db, queries.engine_status(db).mode)
