"""Markets: search and filter discovered markets; one market's recorded price, book depth now,
the strategies trading it, and our orders and position in it; the Signals view (fair values,
news feeds, headlines)."""

from __future__ import annotations

import streamlit as st

from pages.widgets.auth import require_login
from pages.widgets.common import database, live_header
from pages.widgets.dialogs import show_dialog
from pages.widgets.market_panels import detail, results, search_filters
from pages.widgets.signals_view import signals_view
from storage.dashboard_queries import status_queries as queries

require_login(__file__)  # before anything is read: see pages/widgets/auth.py
db = database()
live_header(db)
st.title("Markets")

spec = search_filters(db)
mode = queries.engine_status(db).mode
picked = results(db, spec, mode)
if picked is not None:
    st.divider()
    detail(db, picked, mode)
show_dialog(db, "exit")

st.divider()
signals_view(db)
