"""Audit & alerts: who changed what (with a before/after diff), alerts to acknowledge, and the
engine log's tail."""

from __future__ import annotations

import streamlit as st

from pages.widgets.audit_panels import alerts_panel, audit_trail, log_tail
from pages.widgets.auth import require_login
from pages.widgets.common import database, live_header

require_login(__file__)  # before anything is read: see pages/widgets/auth.py
db = database()
live_header(db)
st.title("Audit & alerts")

st.subheader("Alerts")
alerts_panel(db)
st.subheader("Audit trail")
audit_trail(db)
st.subheader("Engine log")
log_tail(db)
