"""Settings: the paper/live switch with its safeguards, each other venue armed on its own, data source and
hosts, the dashboard password and its users, and the engine settings (bounds and units; applied live). The
administrator's: another role reads the hosts and engine settings only (and every writer refuses its changes
whatever is sent)."""

from __future__ import annotations

import streamlit as st

from contracts.roles import Role
from contracts.venue_policies import venues_armed_alone
from pages.widgets.auth import require_login
from pages.widgets.common import current_access, database, flash, live_header, settings
from pages.widgets.news_panel import news_feeds_panel
from pages.widgets.notify_panel import notifications_panel
from pages.widgets.settings_panels import MODE_SWITCH, engine_settings_form, hosts_panel, mode_panel, password_panel
from pages.widgets.users_panel import users_panel
from pages.widgets.venue_arming import switch_key, venue_mode_panel

require_login(__file__)  # before anything is read: see pages/widgets/auth.py
db = database()
live_header(db)
st.title("Settings")
current = settings()
access = current_access()
if access is not None and access.role is not Role.ADMIN:
    # Arming, keys, notifications and users are left out: a control that can only be refused is noise.
    st.info(f"Settings, keys, arming, notifications and users are the administrator's: you ({access.described}) "
            "read the engine settings and hosts here.", icon=":material/admin_panel_settings:")
    st.subheader("Data source and hosts")
    hosts_panel(current)
    st.subheader("Engine settings")
    engine_settings_form(db)
    st.stop()

st.subheader("Trading mode")
mode_panel(db, current)
flash(near=MODE_SWITCH)  # the switch's answer, by its button (not at the page's top)
for policy in venues_armed_alone():  # each venue armed on its own
    st.subheader(policy.label)
    # Its environment (prod, demo), where the settings hold the venue's own under its name.
    venue_mode_panel(db, policy.venue, str(getattr(getattr(current, policy.venue, None), "environment", "") or ""))
    flash(near=switch_key(policy.venue))
st.subheader("Data source and hosts")
hosts_panel(current)
st.subheader("Dashboard password")
password_panel(current)
st.subheader("Users")
users_panel(db)
st.subheader("Engine settings")
engine_settings_form(db)
st.subheader("Notifications")
notifications_panel(db, current)
st.subheader("News feeds")
news_feeds_panel(db)
