"""Settings."""

from __future__ import annotations

import streamlit as st

from pages.widgets.common import database, health_header, not_built_yet

db = database()
health_header(db)
st.title("Settings")
not_built_yet("The paper/live switch and settings")
