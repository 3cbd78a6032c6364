"""Risk."""

from __future__ import annotations

import streamlit as st

from pages.widgets.common import database, health_header, not_built_yet

db = database()
health_header(db)
st.title("Risk")
not_built_yet("Risk limits and the decisions log")
