"""Orders & trades."""

from __future__ import annotations

import streamlit as st

from pages.widgets.common import database, health_header, not_built_yet

db = database()
health_header(db)
st.title("Orders & trades")
not_built_yet("The orders and fills tables")
