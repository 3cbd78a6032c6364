"""Audit & alerts: who changed what (with a before/after diff), every order's trail (placed, replaced,
cancelled, refused, filled, with why), alerts to acknowledge, and the engine log's tail."""

from __future__ import annotations

import streamlit as st

from pages.widgets.audit_panels import alerts_panel, audit_trail, log_tail
from pages.widgets.auth import require_login
from pages.widgets.common import database, live_header
from pages.widgets.order_trail_panel import order_trail
from storage.dashboard_queries import status_queries as queries

require_login(__file__)  # before anything is read: see pages/widgets/auth.py
db = database()
live_header(db)
st.title("Audit & alerts")

st.subheader("Alerts")
alerts_panel(db)
st.subheader("Audit trail")
audit_trail(db)
st.subheader("Order trail")
st.caption("Each order a strategy or the operator placed, replaced or cancelled, each refusal or end the venue "
           "decided, and each fill, with why: the intent's reason, what the risk gate did with it, the cause of a "
           "cancel.")
order_trail(db, queries.engine_status(db).mode)
st.subheader("Engine log")
log_tail(db)
